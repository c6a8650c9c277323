"""Data-layer throughput on one core: raw parsing / preprocessing and training-time loading.

    python benchmarks/bench_data.py               # about a minute on 2 shared cores
    python benchmarks/bench_data.py --quick       # fewer files and rounds (seconds)

1. Parse + preprocess generated full-size NTU files (100-300 frames, a third with a second person
   or a ghost body): files/s and MB/s of ``parse_skeleton_file`` and of parse +
   ``preprocess_skeleton``, against a straightforward line-by-line pure-Python reference written below
   (lists and floats, the same rules). Each file's result is dropped before the next is read (see
   ``each_file``). Target: parsing >= 10x the reference.
2. Loading through the training transforms at (3, 300 -> 120, 25, 2) from a memory-mapped split:
   ``dataset[i]`` (per sample), ``get_batch`` of 64 and ``make_loader`` (batched, no workers),
   against the STTFormer-style per-sample feeder written below (numpy slice, ``F.interpolate``,
   a torch rotation per sample). Target: >= 5,000 samples/s.

Everything runs in this process with one thread (torch, OpenBLAS, OpenMP pinned to 1) and is timed
in CPU seconds of this process (``time.process_time``), which is what one core delivers even when other
jobs share the machine (wall time would count the waits). The cases of a group are timed interleaved
(A, B, A, B, ...) and the median round is reported. Ratios are against the reference measured in the
same run.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from skeletonmae.data.dataset import SkeletonDataset  # noqa: E402
from skeletonmae.data.loader import make_loader  # noqa: E402
from skeletonmae.data.ntu_preprocess import preprocess_skeleton  # noqa: E402
from skeletonmae.data.ntu_raw import parse_skeleton_file  # noqa: E402
from skeletonmae.data.samples import SkeletonSamples  # noqa: E402
from skeletonmae.data.store import write_split  # noqa: E402
from skeletonmae.data.synthetic import write_synthetic_ntu  # noqa: E402
from skeletonmae.run_config import TransformConfig  # noqa: E402

# ------------------------------------------------------------------------------------------------
# The pure-Python reference: read line by line, then the standard denoising with lists.
# ------------------------------------------------------------------------------------------------


def reference_parse(path: Path) -> tuple[int, dict[str, tuple[list[int], list[list[list[float]]]]]]:
    """``(frames, {body_id: (frame indices, [[x, y, z] * 25] per frame)})``, empty frames dropped."""
    with open(path) as stream:
        lines = stream.readlines()
    cursor, valid, bodies = 1, 0, {}
    for _ in range(int(lines[0])):
        count = int(lines[cursor])
        cursor += 1
        if count == 0:
            continue
        for _ in range(count):
            body_id = lines[cursor].split()[0]
            joints = []
            for line in lines[cursor + 2 : cursor + 2 + int(lines[cursor + 1])]:
                values = line.split()
                joints.append([float(values[0]), float(values[1]), float(values[2])])
            cursor += 2 + len(joints)
            frames, poses = bodies.setdefault(body_id, ([], []))
            frames.append(valid)
            poses.append(joints)
        valid += 1
    return valid, bodies


def _motion(poses: list[list[list[float]]]) -> float:
    points = [joint for pose in poses for joint in pose]
    total = 0.0
    for axis in range(3):
        mean = sum(p[axis] for p in points) / len(points)
        total += sum((p[axis] - mean) ** 2 for p in points) / len(points)
    return total


def reference_preprocess(frames: int, bodies: dict) -> np.ndarray:
    """The standard rules with lists: length <= 11 and spread filters, motion ranking, two actor
    slots, empty-frame removal, centring; returns ``(3, T, 25, 2)`` (numpy only at the very end)."""
    tracks = [[body_id, f, p, _motion(p)] for body_id, (f, p) in bodies.items()]
    if len(tracks) > 1:
        tracks = [t for t in tracks if len(t[1]) > 11]
        for track in list(tracks):
            if len(tracks) == 1:
                break
            noisy = [
                max(j[0] for j in pose) - min(j[0] for j in pose)
                > 0.8 * (max(j[1] for j in pose) - min(j[1] for j in pose))
                for pose in track[2]
            ]
            if sum(noisy) / len(noisy) >= 0.69754:
                tracks.remove(track)
            elif any(noisy):
                track[3] = min(track[3], _motion([p for p, n in zip(track[2], noisy) if not n]))
        tracks.sort(key=lambda t: t[3], reverse=True)
    grid = [[None, None] for _ in range(frames)]
    intervals = [[tracks[0][1][0], tracks[0][1][-1]], [0, 0]]
    for rank, (_, track_frames, poses, _) in enumerate(tracks):
        slot = (
            0
            if rank == 0
            else next(
                (
                    s
                    for s, (a, b) in enumerate(intervals)
                    if min(b, track_frames[-1]) - max(a, track_frames[0]) <= 0
                ),
                None,
            )
        )
        if slot is None:
            continue
        if rank:
            intervals[slot] = [
                min(intervals[slot][0], track_frames[0]),
                max(intervals[slot][1], track_frames[-1]),
            ]
        for frame, pose in zip(track_frames, poses):
            grid[frame][slot] = pose
    grid = [row for row in grid if row[0] is not None or row[1] is not None]
    origin = next(row[0] for row in grid if row[0] is not None)[1]
    out = [
        [
            [[(pose[v][c] - origin[c]) if pose is not None else 0.0 for pose in row] for v in range(25)]
            for row in grid
        ]
        for c in range(3)
    ]
    return np.array(out, dtype=np.float32)


# ------------------------------------------------------------------------------------------------
# The STTFormer-style per-sample feeder (the loading baseline).
# ------------------------------------------------------------------------------------------------


def sttformer_style_item(
    data: np.ndarray, lengths: np.ndarray, index: int, rng: np.random.Generator
) -> torch.Tensor:
    sample = np.array(data[index])  # (C, T, V, M)
    valid = int(lengths[index])
    p = rng.uniform(0.5, 1.0)
    size = min(max(int(np.floor(valid * p)), 64), valid)
    bias = rng.integers(0, valid - size + 1)
    crop = torch.tensor(sample[:, bias : bias + size], dtype=torch.float)
    channels, _, joints, persons = crop.shape
    flat = crop.permute(0, 2, 3, 1).reshape(1, 1, channels * joints * persons, size)
    x = F.interpolate(flat, size=(channels * joints * persons, 120), mode="bilinear", align_corners=False)
    x = x.reshape(channels, joints, persons, 120).permute(0, 3, 1, 2).contiguous()
    angle = torch.zeros(3).uniform_(-0.3, 0.3)
    c, s = angle.cos(), angle.sin()
    rx = torch.tensor([[1, 0, 0], [0, c[0], s[0]], [0, -s[0], c[0]]])
    ry = torch.tensor([[c[1], 0, -s[1]], [0, 1, 0], [s[1], 0, c[1]]])
    rz = torch.tensor([[c[2], s[2], 0], [-s[2], c[2], 0], [0, 0, 1]])
    return torch.einsum("ij,jtvm->itvm", rz @ ry @ rx, x)


# ------------------------------------------------------------------------------------------------


def interleaved(cases: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median CPU seconds per call of every case, timed in alternation after one warm-up call each."""
    for run in cases.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, run in cases.items():
            start = time.process_time()
            run()
            times[name].append(time.process_time() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def table(title: str, rows: list[tuple[str, float, str]], baseline: float) -> None:
    print(f"\n{title}")
    print(f"  {'case':44s} {'rate':>14s} {'vs reference':>13s}")
    for name, rate, unit in rows:
        print(f"  {name:44s} {rate:10.1f} {unit:>3s} {rate / baseline:12.1f}x")


def each_file(paths: list[Path], read: Callable[[Path], object]) -> Callable[[], None]:
    """Read the files one after the other, dropping each result as a pipeline does. (Keeping all 40
    results alive would charge the pure-Python reference for the garbage collector scanning ~10**5 lists
    per file already read: 3.9x instead of 2.6x for the same parser on this machine.)"""

    def run() -> None:
        for path in paths:
            read(path)

    return run


def bench_raw(workdir: Path, num_files: int, rounds: int) -> None:
    paths = write_synthetic_ntu(
        workdir / "raw",
        num_files,
        num_actions=12,
        seed=1,
        frame_range=(100, 300),
        two_body_fraction=0.3,
        ghost_fraction=0.3,
        missing_frame_fraction=0.2,
    )
    megabytes = sum(path.stat().st_size for path in paths) / 1e6
    for path in paths[:8]:  # the reference computes the same thing
        ours = preprocess_skeleton(parse_skeleton_file(path)).joints
        np.testing.assert_allclose(reference_preprocess(*reference_parse(path)), ours, atol=1e-5)
    seconds = interleaved(
        {
            "reference parse": each_file(paths, reference_parse),
            "parse": each_file(paths, parse_skeleton_file),
            "reference parse + preprocess": each_file(
                paths, lambda p: reference_preprocess(*reference_parse(p))
            ),
            "parse + preprocess": each_file(paths, lambda p: preprocess_skeleton(parse_skeleton_file(p))),
        },
        rounds,
    )
    print(
        f"\n{num_files} generated files, {megabytes:.1f} MB ({megabytes / num_files * 1e3:.0f} kB per file)"
    )
    for stage in ("parse", "parse + preprocess"):
        base = num_files / seconds[f"reference {stage}"]
        rows = [(f"reference {stage} (pure Python)", base, "f/s"), (stage, num_files / seconds[stage], "f/s")]
        table(f"{stage}: files/s (MB/s = files/s x {megabytes / num_files:.3f})", rows, base)
        print(
            f"  -> {megabytes / seconds[stage]:.1f} MB/s vs "
            f"{megabytes / seconds[f'reference {stage}']:.1f} MB/s"
        )


def bench_loading(workdir: Path, num_samples: int, rounds: int) -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(30, 300, num_samples)
    data = np.zeros((num_samples, 3, 300, 25, 2), np.float32)
    for row, length in enumerate(lengths):
        data[row, :, :length, :, 0] = rng.normal(size=(3, length, 25))
        if row % 4 == 0:
            data[row, :, :length, :, 1] = rng.normal(size=(3, length, 25))
    names = tuple(f"s{i}" for i in range(num_samples))
    folder = write_split(
        workdir / "split",
        SkeletonSamples(data, np.zeros(num_samples, np.int64), names, lengths, "ntu25", ("a",)),
    )
    dataset = SkeletonDataset(folder, TransformConfig(), train=True, seed=0)
    aligned = SkeletonDataset(
        folder, TransformConfig(align_facing=True, minmax_normalize=True), train=True, seed=0
    )
    loader = make_loader(dataset, 64, shuffle=True, seed=0)
    feeder_rng = np.random.default_rng(0)
    split_data, split_lengths = dataset.split.data, dataset.split.lengths
    seconds = interleaved(
        {
            "reference": lambda: [
                sttformer_style_item(split_data, split_lengths, i, feeder_rng) for i in range(num_samples)
            ],
            "per-sample": lambda: [dataset[i] for i in range(num_samples)],
            "batched": lambda: [
                dataset.get_batch(np.arange(s, min(s + 64, num_samples))) for s in range(0, num_samples, 64)
            ],
            "loader": lambda: list(loader),
            "aligned": lambda: [
                aligned.get_batch(np.arange(s, min(s + 64, num_samples))) for s in range(0, num_samples, 64)
            ],
        },
        rounds,
    )
    rate = {name: num_samples / value for name, value in seconds.items()}
    table(
        f"loading {num_samples} samples (3, 300 -> 120, 25, 2), training transforms, one core: samples/s",
        [
            ("reference: STTFormer-style per-sample feeder", rate["reference"], "s/s"),
            ("SkeletonDataset[i] (per sample)", rate["per-sample"], "s/s"),
            ("SkeletonDataset.get_batch (64 at once)", rate["batched"], "s/s"),
            ("make_loader(batch 64, batched, 0 workers)", rate["loader"], "s/s"),
            ("get_batch + align_facing + minmax_normalize", rate["aligned"], "s/s"),
        ],
        rate["reference"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer files, samples and rounds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    files, samples, rounds = (12, 256, 3) if args.quick else (40, 1024, 5)
    with tempfile.TemporaryDirectory(prefix="bench_data_") as folder:
        bench_raw(Path(folder), files, rounds)
        bench_loading(Path(folder), samples, rounds)


if __name__ == "__main__":
    main()
