"""Training throughput, peak memory and cost of the SkeletonMAE models on this machine.

    python benchmarks/bench_model.py                 # everything (about 5 minutes on 2 cores)
    python benchmarks/bench_model.py --skip-ntu      # only the cpu-small preset (seconds)
    python benchmarks/bench_model.py --device cuda --amp bf16 [--compile]   # on a GPU

``--device cuda`` runs every case on the GPU (timing synchronises the device; peak memory is
``torch.cuda.max_memory_allocated`` of the case); ``--amp bf16`` runs the forward under
``torch.autocast`` in bfloat16 (CPU: AVX-512 BF16 where present); ``--compile`` compiles each
model (``nn.Module.compile``) before its warm-up.

Each group of compared cases runs in its own subprocess: every case is warmed up, then the cases'
training steps (forward, backward, Adam step) are timed interleaved (A, B, A, B, ...) so that load
from other processes hits them alike, and the median step is reported. Peak memory is the
peak resident memory (VmHWM) of a *fresh* process that builds and warms up that case alone
(``ru_maxrss`` would carry the parent's peak across ``exec``). Ratios are against a baseline
measured in the same run:

* NTU-60 preset, NTU-like batch (one sample in ``--ntu-batch`` has a second person, the others
  are zero-padded): (a) the faithful STTFormer classifier, the SkeletonMAE classifier computing
  every person, and the classifier skipping padded persons (target >= 1.6x); (b) the MAE
  pre-training step at alpha = beta = 0.5; (c) the encoder alone on the visible tokens vs the
  full grid (target: cost <= 0.3x).
* The faithful STTFormer block, ours against the official formulation
  (:mod:`skeletonmae.models.reference`: einsums, every intermediate stored): one block at NTU
  width, and the whole NTU-60 STTFormer at ``--full-batch`` samples that all have two persons
  (the target: >= 1.5x the step at <= 0.7x the peak memory).
* cpu-small preset on NW-UCLA-shaped batches (32, 3, 60, 20, 1): MAE step and classifier step
  (target: well over 100 samples/s).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch

from skeletonmae.masking import spatial_temporal_mask
from skeletonmae.models import MaskConfig, preset
from skeletonmae.models.checkpointing import set_activation_checkpointing
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.cost import measure_model_cost
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.models.reference import official_block_forward
from skeletonmae.models.sttformer import STTABlock, STTFormer

StepFunction = Callable[[], torch.Tensor]


def ntu_like_batch(config, batch: int, seed: int = 0, every_person: bool = False) -> torch.Tensor:
    """(N, C, T, V, 2) with a second person only in the first sample (in every sample when
    ``every_person``)."""
    x = torch.randn(
        batch,
        config.in_channels,
        config.num_frames,
        config.num_joints,
        config.num_persons,
        generator=torch.Generator().manual_seed(seed),
    )
    if not every_person:
        x[1:, ..., 1:] = 0
    return x


def use_official_blocks(model: torch.nn.Module) -> None:
    """Run every block of ``model`` in the official formulation (full grid only)."""
    for block in model.modules():
        if isinstance(block, STTABlock):
            block.forward = functools.partial(official_block_forward, block)


def make_trainer(step: StepFunction, parameters, device: torch.device, amp: str) -> Callable[[], float]:
    """One training step (forward, backward, Adam) per call; returns its wall time."""
    optimizer = torch.optim.Adam(list(parameters), lr=1e-4)

    def autocast() -> contextlib.AbstractContextManager:
        if amp == "none":
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=torch.bfloat16)

    def train_step() -> float:
        synchronize(device)
        start = time.perf_counter()
        with autocast():
            loss = step()
        optimizer.zero_grad(set_to_none=True)
        loss.float().backward()
        optimizer.step()
        synchronize(device)
        return time.perf_counter() - start

    return train_step


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def process_peak_mb() -> float:
    """This process's peak resident memory (VmHWM, reset by exec), in MiB; ru_maxrss elsewhere."""
    with contextlib.suppress(OSError):
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_setup(name: str, args: argparse.Namespace, device: torch.device):
    """(step function, parameters, samples per step, model) of one case, on ``device``."""
    step, parameters, count, model = _cpu_case(name, args.ntu_batch, args.mae_batch, args.full_batch)
    if device.type == "cpu":
        return step, parameters, count, model
    model.to(device)
    moved = _move_captured(step, device)
    return moved, model.parameters(), count, model


def _move_captured(step: StepFunction, device: torch.device) -> StepFunction:
    """The step with every tensor its closure captured (inputs, labels, masks) moved to ``device``."""
    for cell in step.__closure__ or ():
        value = cell.cell_contents
        if isinstance(value, torch.Tensor):
            cell.cell_contents = value.to(device)
        elif hasattr(value, "_fields"):  # a NamedTuple of tensors (a MaskResult)
            cell.cell_contents = type(value)(*(v.to(device) for v in value))
    return step


def _cpu_case(name: str, ntu_batch: int, mae_batch: int, full_batch: int):
    ntu, small = preset("ntu60"), preset("cpu-small")
    mask = MaskConfig(frame_ratio=0.5, joint_ratio=0.5)
    if name.startswith("faithful_"):  # faithful STTFormer, every sample two persons
        x = ntu_like_batch(ntu, full_batch, every_person=True)
        labels = torch.arange(full_batch) % ntu.num_classes
        model = STTFormer(ntu)
        if name == "faithful_official":
            use_official_blocks(model)
        loss = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
        return (lambda: loss(model(x), labels)), model.parameters(), full_batch, model
    if name.startswith("ntu_classifier") or name == "ntu_sttformer":
        x, labels = ntu_like_batch(ntu, ntu_batch), torch.arange(ntu_batch) % ntu.num_classes
        model = STTFormer(ntu) if name == "ntu_sttformer" else SkeletonClassifier(ntu)
        if name == "ntu_classifier_every_person":
            model.skip_absent_persons = False
        loss = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
        return (lambda: loss(model(x), labels)), model.parameters(), ntu_batch, model
    if name == "ntu_mae":
        model, x = SkeletonMAE(ntu, mask), ntu_like_batch(ntu, mae_batch)
        return (lambda: model(x).loss), model.parameters(), mae_batch, model
    if name.startswith("decoder_"):  # "decoder_<width>x<depth>": the paper's decoder ablations
        width, depth = (int(v) for v in name.removeprefix("decoder_").split("x"))
        config = preset("ntu60", decoder_width=width, decoder_depth=depth)
        model, x = SkeletonMAE(config, mask), ntu_like_batch(config, mae_batch)
        return (lambda: model(x).loss), model.parameters(), mae_batch, model
    if name.startswith("ntu_encoder"):
        model = SkeletonClassifier(ntu).encoder
        rows = torch.randn(mae_batch, 3, ntu.num_frames, ntu.num_joints)
        if name == "ntu_encoder_full":
            return (lambda: model(rows).square().mean()), model.parameters(), mae_batch, model
        masking = spatial_temporal_mask(
            mae_batch,
            ntu.num_frames,
            ntu.num_joints,
            frame_ratio=0.5,
            joint_ratio=0.5,
            generator=torch.Generator().manual_seed(0),
        )
        frames, joints = masking.kept_frames, masking.kept_joints
        return ((lambda: model(rows, frames, joints).square().mean()), model.parameters(), mae_batch, model)
    if name.startswith("base_encoder"):
        return base_encoder_case(name, mae_batch=32)
    if name == "base_mae":
        base = preset("cpu-base")
        model = SkeletonMAE(base, MaskConfig(frame_ratio=0.4, joint_ratio=0.5, loss_on="masked"))
        x = torch.randn(32, 3, base.num_frames, base.num_joints, 1)
        return (lambda: model(x).loss), model.parameters(), 32, model
    if name.startswith("block_"):
        block = STTABlock(256, 256, 64, num_slots=150, num_heads=3)
        if name == "block_official":
            use_official_blocks(block)
        rows = torch.randn(8, 256, 20, 150)
        return (lambda: block(rows).square().mean()), block.parameters(), 8, block
    x = torch.randn(32, 3, 60, 20, 1)
    if name == "small_mae":
        model = SkeletonMAE(small, mask)
        return (lambda: model(x).loss), model.parameters(), 32, model
    if name == "small_classifier":
        model, labels = SkeletonClassifier(small), torch.arange(32) % small.num_classes
        loss = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
        return (lambda: loss(model(x), labels)), model.parameters(), 32, model
    raise ValueError(f"unknown case {name!r}")


def run_group(args: argparse.Namespace) -> list[dict]:
    """Body of the subprocess: time the cases of one group *interleaved* (A, B, A, B, ...), so
    load from other processes hits every case alike. Cases are listed from lower to higher
    memory; the peak RSS after a case's warm-up is that case's peak."""
    cases = args.group.split(",")
    cheap = cases[0].startswith(("small_", "block_", "base_"))
    warmup, iters = (args.warmup, args.iters) if cheap else (1, args.ntu_iters)
    device = torch.device(args.device)
    trainers, samples, peaks = [], [], []
    for case in cases:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
            before = torch.cuda.memory_allocated(device)
        name, *options = case.split("+")  # "case+bf16": under bf16 autocast; "+ckpt": checkpointed
        step, parameters, count, model = case_setup(name, args, device)
        model.train()
        set_activation_checkpointing(model, "ckpt" in options)
        if args.compile:
            model.compile()
        trainers.append(make_trainer(step, parameters, device, "bf16" if "bf16" in options else args.amp))
        samples.append(count)
        for _ in range(warmup):
            trainers[-1]()
        if device.type == "cuda":
            peaks.append((torch.cuda.max_memory_allocated(device) - before) / 2**20)
        else:
            peaks.append(process_peak_mb())  # meaningful for a group of one case (--memory)
    if args.memory:
        return [{"case": case, "peak_mb": peak} for case, peak in zip(cases, peaks)]
    times: list[list[float]] = [[] for _ in cases]
    for _ in range(iters):
        for index, train_step in enumerate(trainers):
            times[index].append(train_step())
    results = []
    for case, count, peak, case_times in zip(cases, samples, peaks, times):
        median = statistics.median(case_times)
        results.append({"case": case, "samples_per_s": count / median, "step_s": median, "peak_mb": peak})
    return results


def spawn(cases: list[str], args: argparse.Namespace) -> dict[str, dict]:
    """Time ``cases`` interleaved in one subprocess; on CPU, measure each case's peak memory in
    a fresh process of its own."""
    results = _spawn_group(cases, args, memory=False)
    if args.device == "cpu":
        for case in cases:
            results[case]["peak_mb"] = _spawn_group([case], args, memory=True)[case]["peak_mb"]
    return results


def _spawn_group(cases: list[str], args: argparse.Namespace, memory: bool) -> dict[str, dict]:
    command = [
        sys.executable,
        __file__,
        "--group",
        ",".join(cases),
        "--iters",
        str(args.iters),
        "--ntu-iters",
        str(args.ntu_iters),
        "--warmup",
        str(args.warmup),
        "--ntu-batch",
        str(args.ntu_batch),
        "--mae-batch",
        str(args.mae_batch),
        "--full-batch",
        str(args.full_batch),
        "--device",
        args.device,
        "--amp",
        args.amp,
        *(["--compile"] if args.compile else []),
        *(["--memory"] if memory else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return {r["case"]: r for r in json.loads(done.stdout.strip().splitlines()[-1])}


def print_table(title: str, rows: list[dict], baseline: dict, note: str) -> None:
    print(f"\n{title}\n{'case':<48}{'samples/s':>11}{'step s':>9}{'vs base':>9}{'peak MB':>9}")
    for row in rows:
        ratio = row["samples_per_s"] / baseline["samples_per_s"]
        print(
            f"{row['label']:<48}{row['samples_per_s']:>11.2f}{row['step_s']:>9.3f}"
            f"{ratio:>8.2f}x{row['peak_mb']:>9.0f}"
        )
    print(note)


def print_costs() -> None:
    print(f"{'preset':<11}{'part':<30}{'params':>13}{'GFLOPs/sample':>15}")
    for name in ("ntu60", "cpu-small"):
        cost = measure_model_cost(preset(name), MaskConfig())
        for part, params, gflops in (
            ("faithful STTFormer", cost.sttformer_params, cost.sttformer_gflops),
            ("classifier", cost.classifier_params, cost.classifier_gflops),
            ("encoder, visible (a=b=0.5)", cost.encoder_params, cost.encoder_gflops),
            ("encoder, full grid", cost.encoder_params, cost.encoder_full_gflops),
            ("decoder", cost.decoder_params, cost.decoder_gflops),
            ("MAE (encoder + decoder)", cost.mae_params, cost.mae_gflops),
        ):
            print(f"{name:<11}{part:<30}{params:>13,}{gflops:>15.3f}")
    print("(forward, every person present; flop counter: multiply-add = 2)")


def decoder_gflops(cases: list[str]) -> str:
    """``"256x9 179.2 (decoder 161.1), ..."``: forward GFLOPs per sample of each decoder case."""
    parts = []
    for case in cases:
        size = case.removeprefix("decoder_")
        width, depth = (int(v) for v in size.split("x"))
        config = preset("ntu60", decoder_width=width, decoder_depth=depth)
        cost = measure_model_cost(config, MaskConfig(frame_ratio=0.5, joint_ratio=0.5))
        parts.append(f"{size} {cost.mae_gflops:.1f} (decoder {cost.decoder_gflops:.1f})")
    return ", ".join(parts)


def labelled(results: dict[str, dict], labels: dict[str, str]) -> list[dict]:
    return [{**results[case], "label": label} for case, label in labels.items()]


def base_encoder_case(name: str, mae_batch: int):
    """The encoder options of the NW-UCLA recipe at ``cpu-base`` (30 frames, NW-UCLA joints), masks of the
    CPU recipe (frames 0.4, joints 0.5, random): full grid, visible tokens (with and without the
    attention rescale)."""
    config = preset("cpu-base", visible_attention_rescale=name.endswith("rescale"))
    model = SkeletonClassifier(config).encoder
    rows = torch.randn(mae_batch, 3, config.num_frames, config.num_joints)
    masking = spatial_temporal_mask(
        mae_batch,
        config.num_frames,
        config.num_joints,
        frame_ratio=0.4,
        joint_ratio=0.5,
        generator=torch.Generator().manual_seed(0),
    )
    if name == "base_encoder_full":
        step = lambda: model(rows).square().mean()  # noqa: E731
    else:
        frames, joints = masking.kept_frames, masking.kept_joints
        step = lambda: model(rows, frames, joints).square().mean()  # noqa: E731
    return step, model.parameters(), mae_batch, model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--group", help=argparse.SUPPRESS)
    parser.add_argument("--iters", type=int, default=7, help="timed steps, small cases")
    parser.add_argument("--ntu-iters", type=int, default=3, help="timed steps, NTU-60 cases")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps, small cases")
    parser.add_argument("--ntu-batch", type=int, default=6, help="classifier batch (NTU-60)")
    parser.add_argument("--mae-batch", type=int, default=3, help="MAE / encoder batch (NTU-60)")
    parser.add_argument("--full-batch", type=int, default=8, help="faithful STTFormer, two persons each")
    parser.add_argument("--skip-ntu", action="store_true", help="only the cheap cases")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where the cases run")
    parser.add_argument("--amp", choices=("none", "bf16"), default="none", help="autocast dtype")
    parser.add_argument("--compile", action="store_true", help="nn.Module.compile each model")
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is visible to torch (install a CUDA build)")
    if args.group:
        print(json.dumps(run_group(args)))
        return 0
    where = torch.cuda.get_device_name() if args.device == "cuda" else f"{torch.get_num_threads()} threads"
    print(
        f"torch {torch.__version__}, {where}, amp {args.amp}, compile {args.compile}, load average "
        f"{os.getloadavg()[0]:.2f}\n"
    )
    print_costs()
    small = labelled(
        spawn(["small_classifier", "small_mae"], args),
        {
            "small_classifier": "cpu-small classifier step (32,3,60,20,1)",
            "small_mae": "cpu-small MAE step a=b=0.5 (32,3,60,20,1)",
        },
    )
    print_table("cpu-small on NW-UCLA-shaped batches", small, small[0], "target: > 100 samples/s")
    blocks = labelled(
        spawn(["block_ours", "block_official"], args),
        {
            "block_official": "block 256->256, official formulation (base)",
            "block_ours": "block 256->256, ours (attended tensor rebuilt)",
        },
    )
    print_table("one faithful block, 8 rows x 20 tuples x 150 slots", blocks, blocks[0], "")
    variants = labelled(
        spawn(
            [
                "base_encoder_full",
                "base_encoder_visible",
                "base_encoder_visible_rescale",
            ],
            args,
        ),
        {
            "base_encoder_full": "cpu-base encoder, full grid (base)",
            "base_encoder_visible": "    visible tokens, a=0.4 b=0.5 (the paper)",
            "base_encoder_visible_rescale": "    visible tokens + attention rescale",
        },
    )
    print_table(
        "NW-UCLA encoder options, training step, batch 32 (3, 30, 20)",
        variants,
        variants[0],
        "",
    )
    precision = labelled(
        spawn(["small_mae", "small_mae+bf16", "base_encoder_full", "base_encoder_full+bf16"], args),
        {
            "small_mae": "cpu-small MAE step, fp32 (base)",
            "small_mae+bf16": "    the same under bf16 autocast",
            "base_encoder_full": "cpu-base encoder, full grid, fp32",
            "base_encoder_full+bf16": "    the same under bf16 autocast",
        },
    )
    print_table(
        "bf16 autocast against fp32, interleaved in one process",
        precision,
        precision[0],
        "ratios against the cpu-small fp32 step; compare each bf16 row with the row above it",
    )
    checkpointed = labelled(
        spawn(["base_mae+ckpt", "base_mae"], args),
        {
            "base_mae": "cpu-base MAE step, batch 32 (base)",
            "base_mae+ckpt": "    the same, training.checkpoint_activations",
        },
    )
    print_table(
        "activation checkpointing (peak memory of a fresh process per case)",
        checkpointed,
        checkpointed[0],
        "checkpointing trades one more forward of compute for the blocks' activations",
    )
    if args.skip_ntu:
        return 0
    b, mb, fb = args.ntu_batch, args.mae_batch, args.full_batch
    faithful = labelled(
        spawn(["faithful_ours", "faithful_official"], args),
        {
            "faithful_official": f"faithful STTFormer, official blocks, batch {fb} (base)",
            "faithful_ours": "    the same, our blocks",
        },
    )
    print_table(
        f"NTU-60 faithful STTFormer, every one of {fb} samples with two persons",
        faithful,
        faithful[0],
        "target: >= 1.5x the step at <= 0.7x the peak memory",
    )
    classifiers = labelled(
        spawn(["ntu_classifier_packed", "ntu_sttformer", "ntu_classifier_every_person"], args),
        {
            "ntu_classifier_every_person": f"(a) classifier, every person, batch {b} (base)",
            "ntu_sttformer": "    faithful STTFormer (every person)",
            "ntu_classifier_packed": "    classifier, padded persons skipped",
        },
    )
    print_table(
        f"NTU-60 preset, NTU-like batch (1 of {b} samples has 2 persons)",
        classifiers,
        classifiers[0],
        "target: padded persons skipped >= 1.6x every person",
    )
    mae = labelled(spawn(["ntu_mae"], args), {"ntu_mae": f"(b) MAE step a=b=0.5, batch {mb}"})
    print_table(
        "NTU-60 pre-training (same NTU-like batch composition)",
        mae,
        classifiers[1],
        "vs base = vs the faithful STTFormer classifier step above",
    )
    decoders = ["decoder_128x9", "decoder_256x5", "decoder_256x9"]
    decoder_rows = labelled(
        spawn(decoders, args),
        {
            "decoder_256x9": f"MAE step, decoder 256 x 9 (paper default, base), batch {mb}",
            "decoder_128x9": "    decoder 128 x 9 (paper Table 2: 85.2 vs 86.6)",
            "decoder_256x5": "    decoder 256 x 5 (paper Table 3: 85.7 vs 86.6)",
        },
    )
    print_table(
        "NTU-60 pre-training step by decoder size (padded persons skipped, as in every MAE step)",
        decoder_rows,
        decoder_rows[0],
        "forward GFLOPs per sample: " + decoder_gflops(["decoder_256x9", *decoders[:2]]),
    )
    encoders = labelled(
        spawn(["ntu_encoder_visible", "ntu_encoder_full"], args),
        {
            "ntu_encoder_full": f"(c) encoder, full grid, {mb} rows (base)",
            "ntu_encoder_visible": "    encoder, visible tokens a=b=0.5",
        },
    )
    print_table(
        "NTU-60 encoder alone (training step)",
        encoders,
        encoders[0],
        "target: visible-token cost <= 0.3x full grid (samples/s >= 3.3x)",
    )
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
