"""Reconstruction pictures (paper, Supplementary C): original, masked input and reconstruction.

:func:`visualize_reconstruction` loads a pre-training checkpoint, takes one sample of a prepared
split (by index or by name) through the evaluation transform, masks it with the checkpoint's
``MaskConfig`` and a seeded generator, reconstructs it, and writes

* ``<sample>_<masking>_seed<S>.png``: three rows (original, masked input, reconstruction) over a
  few evenly spaced frames, drawn as 3D skeletons with the dataset layout's bones;
* ``<sample>_<masking>_seed<S>.gif``: the three side by side, one GIF frame per requested frame;
* ``<sample>_<masking>_seed<S>_error.png``: the per-joint reconstruction error (joints x frames);

where ``<masking>`` is the strategy and ratios, e.g. ``random-f0.4-j0.5`` (:func:`output_stem`).

With ``loss_on="masked"`` (the paper's) the decoder is only trained to predict removed joints; its
output at visible joints is unconstrained. As in MAE's figures, the reconstruction row then shows
the predicted removed joints together with the visible input joints, and the heat map the error
of the removed joints (blank, NaN, where the joint was visible). With ``loss_on="all"`` both show
the full prediction.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "ReconstructedSample",
    "VisualizationFiles",
    "load_mae_checkpoint",
    "require_dataset_folder",
    "find_sample",
    "splits_with_sample",
    "locate_sample",
    "reconstruct_sample",
    "output_stem",
    "visualize_reconstruction",
]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ReconstructedSample:
    """One person of one sample: ``original`` / ``reconstruction`` ``(T, V, 3)``, ``mask``
    ``(T, V)`` (1 = removed), and the mean squared error on removed and on visible joints."""

    name: str
    index: int
    label: int
    class_name: str
    person: int
    original: np.ndarray
    reconstruction: np.ndarray
    mask: np.ndarray
    masked_mse: float
    visible_mse: float

    @property
    def joint_error(self) -> np.ndarray:
        """``(T, V)`` Euclidean distance between reconstruction and original."""
        return np.linalg.norm(self.reconstruction - self.original, axis=-1)

    @property
    def removed_joint_error(self) -> np.ndarray:
        """``(T, V)`` :attr:`joint_error` of removed joints, NaN where the joint was visible."""
        return np.where(self.mask > 0.5, self.joint_error, np.nan)

    @property
    def pasted(self) -> np.ndarray:
        """``(T, V, 3)``: predicted removed joints, input joints where visible (MAE's view)."""
        return np.where(self.mask[..., None] > 0.5, self.reconstruction, self.original)


@dataclasses.dataclass(frozen=True)
class VisualizationFiles:
    png: Path
    gif: Path
    heatmap: Path
    sample: ReconstructedSample
    frames_png: tuple[int, ...]
    frames_gif: tuple[int, ...]


def load_mae_checkpoint(
    checkpoint: str | Path, overrides: Sequence[str] = ()
) -> tuple[torch.nn.Module, Any, Any]:
    """The SkeletonMAE of a pre-training checkpoint (eval mode), its RunConfig (with
    ``KEY=VALUE`` overrides, e.g. ``data.root=...`` or ``mask.frame_ratio=0.6``) and the split's
    arrays (``data.test_split`` unless overridden); the model is checked against the data."""
    from skeletonmae.models.mae import SkeletonMAE
    from skeletonmae.saved_run import bind_run, load_run

    run = load_run(
        checkpoint,
        overrides,
        stages=("pretrain",),
        wrong_stage="has no decoder; pass the best.pt or last.pt of a pretrain run",
    )
    for root in run.config.data.roots:
        require_dataset_folder(root)
    run = bind_run(run)
    config = run.config
    model = SkeletonMAE(config.model, config.mask)
    model.load_state_dict(run.payload["model"])
    arrays = run.arrays
    return model.eval(), config, arrays


def require_dataset_folder(root: str | Path | None) -> None:
    """Raise FileNotFoundError naming the resolved ``data.root`` when it is not a folder; a
    relative root is read from the current directory, not from the checkpoint's."""
    if root is None or Path(root).is_dir():
        return  # None: split_folder says how to set it
    relative = "" if Path(root).is_absolute() else ", relative to the current directory"
    raise FileNotFoundError(
        f"dataset folder not found at {Path(root).resolve()} (data.root={str(root)!r}{relative})"
        "; pass --data-root PATH, the prepared dataset folder (made by `skeletonmae prepare`)"
    )


def find_sample(
    names: Sequence[str], sample: str | int, *, split: str = "", elsewhere: Sequence[str] = ()
) -> int:
    """Index of ``sample`` (an index, or a sample name) in the ``names`` of split ``split``;
    ``elsewhere`` lists other splits that hold the name, for the error's hint."""
    where = f"split {split!r}" if split else "the split"
    if _is_index(sample):
        index = int(sample)
        if not -len(names) <= index < len(names):
            raise IndexError(f"sample index {index} out of range: {where} has {len(names)} samples")
        return index % len(names)
    try:
        return list(names).index(sample)
    except ValueError:
        pass
    message = f"no sample named {sample!r} in {where}"
    close = [n for n in names if sample.lower() in n.lower()][:5]
    if elsewhere:
        plural = "s" if len(elsewhere) > 1 else ""
        message += f"; it is in split{plural} {', '.join(map(repr, elsewhere))}: pass --split {elsewhere[0]}"
    elif close:
        message += f"; did you mean {', '.join(close)}?"
    else:
        message += "; pass an index or a name listed in the split's names.json"
    raise KeyError(message)


def splits_with_sample(root: str | Path, name: str, exclude: str = "") -> list[str]:
    """Split folders of the prepared dataset ``root`` (but ``exclude``) whose ``names.json``
    lists ``name``; unreadable ones are skipped."""
    found = []
    for folder in sorted(Path(root).iterdir()) if Path(root).is_dir() else []:
        names_file = folder / "names.json"
        if folder.name == exclude or not names_file.is_file():
            continue
        try:
            names = json.loads(names_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            logger.debug("skipping %s: %s", names_file, error)
            continue
        if name in names:
            found.append(folder.name)
    return found


def locate_sample(arrays: Any, sample: str | int, data: Any) -> int:
    """:func:`find_sample` in ``data.test_split``, hinting at the other splits of ``data.root``
    that hold a name missing from it."""
    split = data.test_split
    missing = not _is_index(sample) and sample not in arrays.names
    elsewhere = (
        [found for root in data.roots for found in splits_with_sample(root, str(sample), split)]
        if missing
        else []
    )
    return find_sample(arrays.names, sample, split=split, elsewhere=elsewhere)


def _is_index(sample: str | int) -> bool:
    return isinstance(sample, int) or sample.lstrip("-").isdigit()


@torch.no_grad()
def reconstruct_sample(
    model: torch.nn.Module, config: Any, arrays: Any, index: int, *, seed: int = 0, person: int = 0
) -> ReconstructedSample:
    """Mask (seeded) and reconstruct sample ``index`` of ``arrays`` as the model sees it."""
    from skeletonmae.data.dataset import SkeletonDataset

    if config.data.transform.stream != "joint":
        raise ValueError(
            f"the checkpoint was trained on the {config.data.transform.stream!r} "
            "stream; reconstruction pictures need joint positions (stream 'joint')"
        )
    dataset = SkeletonDataset(arrays, config.data.transform, train=False, seed=config.training.seed)
    x, label, _ = dataset[index]  # (C, T, V, M)
    if not 0 <= person < x.shape[-1]:
        raise ValueError(f"person {person} out of range: the data has {x.shape[-1]} person slot(s)")
    if not bool(x[..., person].any()):
        raise ValueError(f"sample {arrays.names[index]!r} has no person {person}; use --person 0")
    generator = torch.Generator().manual_seed(seed)
    output = model(x.unsqueeze(0), generator=generator)
    original = x[..., person].permute(1, 2, 0).numpy()  # (T, V, C)
    mask = output.mask[0].numpy()  # (T, V)
    reconstruction = _as_coordinates(output.reconstruction[0, ..., person], x[..., person], mask, config)
    squared = ((reconstruction - original) ** 2).mean(axis=-1)  # (T, V)
    removed = mask > 0.5
    masked_mse = float(squared[removed].mean()) if removed.any() else float("nan")
    visible_mse = float(squared[~removed].mean()) if (~removed).any() else float("nan")
    class_names = arrays.meta.get("class_names") or []
    class_name = class_names[label] if 0 <= label < len(class_names) else str(label)
    return ReconstructedSample(
        arrays.names[index],
        index,
        label,
        class_name,
        person,
        original,
        reconstruction,
        mask,
        masked_mse,
        visible_mse,
    )


def _as_coordinates(predicted: torch.Tensor, row: torch.Tensor, mask: np.ndarray, config: Any) -> np.ndarray:
    """``(T, V, C)`` positions that the prediction ``predicted`` ``(C, T, V)`` (in the run's target
    space: coordinates, motion, normalised, ...) stands for, given the true ``row`` ``(C, T, V)``."""
    from skeletonmae.models.targets import reconstruction_target, target_to_coordinates

    visible = torch.from_numpy(mask < 0.5).unsqueeze(0)  # (1, T, V)
    target, tuple_len = config.mask.target, config.model.tuple_len
    _, stats = reconstruction_target(row[None], target, config.mask.normalize_target, tuple_len)
    positions = target_to_coordinates(predicted[None], row[None], stats, target, visible, tuple_len)
    return positions[0].permute(1, 2, 0).numpy()


def visualize_reconstruction(
    checkpoint: str | Path,
    sample: str | int,
    *,
    output_dir: str | Path | None = None,
    seed: int = 0,
    person: int = 0,
    png_frames: int = 6,
    gif_frames: int = 24,
    fps: int = 8,
    overrides: Sequence[str] = (),
) -> VisualizationFiles:
    """Write the PNG, GIF and error heat map of one sample (see the module docstring)."""
    from skeletonmae.data.layouts import get_layout
    from skeletonmae.viz.skeleton import (
        SequenceRow,
        draw_error_heatmap,
        draw_sequence_gif,
        draw_sequence_grid,
        pick_frames,
    )

    if min(png_frames, gif_frames, fps) < 1:
        raise ValueError(
            f"png_frames, gif_frames and fps must be >= 1, got {png_frames}, {gif_frames} and {fps}"
        )
    checkpoint = Path(checkpoint)
    model, config, arrays = load_mae_checkpoint(checkpoint, overrides)
    index = locate_sample(arrays, sample, config.data)
    result = reconstruct_sample(model, config, arrays, index, seed=seed, person=person)
    layout = get_layout(arrays.layout)
    out = Path(output_dir) if output_dir is not None else checkpoint.parent / "visualize"
    mask = config.mask
    stem = output_stem(result.name, mask, seed)
    title = (
        f"{result.name} ({result.class_name}); {mask.strategy} masking, frames "
        f"{mask.frame_ratio:g}, joints {mask.joint_ratio:g}; MSE masked "
        f"{result.masked_mse:.4g}, visible {result.visible_mse:.4g}"
    )
    masked_only = mask.loss_on == "masked"
    shown = result.pasted if masked_only else result.reconstruction
    error = result.removed_joint_error if masked_only else result.joint_error
    rows = [
        SequenceRow("original", result.original),
        SequenceRow("masked input", result.original, result.mask),
        SequenceRow("reconstruction" + (" + visible" if masked_only else ""), shown),
    ]
    frame_count = result.original.shape[0]
    frames_png, frames_gif = pick_frames(frame_count, png_frames), pick_frames(frame_count, gif_frames)
    png = draw_sequence_grid(rows, layout.bones, out / f"{stem}.png", frames=frames_png, suptitle=title)
    gif = draw_sequence_gif(rows, layout.bones, out / f"{stem}.gif", frames=frames_gif, fps=fps)
    heatmap = draw_error_heatmap(
        error,
        out / f"{stem}_error.png",
        joint_names=layout.joint_names,
        title=f"{result.name}: reconstruction error"
        + (" of removed joints\n(visible joints blank: the loss skips them)" if masked_only else ""),
        label="L2 error" + (" (blank: visible joint)" if masked_only else ""),
    )
    return VisualizationFiles(
        png, gif, heatmap, result, tuple(int(f) for f in frames_png), tuple(int(f) for f in frames_gif)
    )


def output_stem(name: str, mask: Any, seed: int) -> str:
    """``<sample>_<strategy>-f<frame_ratio>-j<joint_ratio>_seed<S>``, e.g.
    ``a01_s01_e00_v03_random-f0.4-j0.5_seed0``: pictures of other masking do not overwrite."""
    setting = f"{mask.strategy}-f{mask.frame_ratio:g}-j{mask.joint_ratio:g}"
    return f"{_safe(name)}_{_safe(setting)}_seed{seed}"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "sample"
