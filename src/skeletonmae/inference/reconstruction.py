"""Reconstruction pictures (paper, Supplementary C): original, masked input and reconstruction.

:func:`visualize_reconstruction` masks one sample of a prepared split with a pre-training
checkpoint's ``MaskConfig`` and a seeded generator, reconstructs it and writes ``<stem>.png`` (three
rows over evenly spaced frames), ``<stem>.gif`` and ``<stem>_error.png`` (per-joint error, joints x
frames); ``<stem>`` names sample, masking and seed. With ``loss_on="masked"`` (the paper's) the
decoder is trained on removed joints only, so, as in MAE's figures, the reconstruction row pastes
the predicted removed joints into the visible input and the heat map leaves visible joints blank.
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

from skeletonmae.config import Override
from skeletonmae.data.store import dataset_splits

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
    def pasted(self) -> np.ndarray:
        """``(T, V, 3)``: predicted removed joints, input joints where visible (MAE's view)."""
        return np.where(self.mask[..., None] > 0.5, self.reconstruction, self.original)


@dataclasses.dataclass(frozen=True)
class VisualizationFiles:
    png: Path
    gif: Path
    heatmap: Path
    sample: ReconstructedSample
    frames_gif: tuple[int, ...]


def load_mae_checkpoint(
    checkpoint: str | Path, overrides: Sequence[Override] = ()
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
    for root in run.config.data.roots:  # a relative root is read from here, not from the checkpoint's
        if not root.is_dir():
            relative = "" if root.is_absolute() else ", relative to the current directory"
            raise FileNotFoundError(
                f"dataset folder not found at {root.resolve()} (data.root={str(root)!r}{relative}); "
                "pass --data-root PATH, the prepared dataset folder (made by `skeletonmae prepare`)"
            )
    run = bind_run(run)
    model = SkeletonMAE(run.config.model, run.config.mask)
    model.load_state_dict(run.payload["model"])
    return model.eval(), run.config, run.arrays


def locate_sample(arrays: Any, sample: str | int, data: Any) -> int:
    """Index of ``sample`` (an index, or a sample name) in ``arrays``, the split ``data.test_split``;
    the error for a missing name points to the splits of ``data.root`` that hold it."""
    names, split = list(arrays.names), data.test_split
    if isinstance(sample, int) or sample.lstrip("-").isdigit():
        index = int(sample)
        if not -len(names) <= index < len(names):
            raise IndexError(f"sample index {index} out of range: split {split!r} has {len(names)} samples")
        return index % len(names)
    if sample in names:
        return names.index(sample)
    message = f"no sample named {sample!r} in split {split!r}"
    elsewhere = [found for root in data.roots for found in _splits_with_sample(root, sample, split)]
    close = [n for n in names if sample.lower() in n.lower()][:5]
    if elsewhere:
        plural = "s" if len(elsewhere) > 1 else ""
        message += f"; it is in split{plural} {', '.join(map(repr, elsewhere))}: pass --split {elsewhere[0]}"
    elif close:
        message += f"; did you mean {', '.join(close)}?"
    else:
        message += "; pass an index or a name listed in the split's names.json"
    raise KeyError(message)


def _splits_with_sample(root: Path, name: str, exclude: str) -> list[str]:
    """Split folders of the prepared dataset ``root`` (but ``exclude``) whose ``names.json`` lists
    ``name``; unreadable ones are skipped."""
    found = []
    for split in dataset_splits(root) if root.is_dir() else []:
        try:
            if split != exclude and name in json.loads((root / split / "names.json").read_text("utf-8")):
                found.append(split)
        except (OSError, ValueError) as error:
            logger.debug("skipping %s: %s", root / split, error)
    return found


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
    name = arrays.names[index]
    return ReconstructedSample(
        name, index, label, class_name, person, original, reconstruction, mask, masked_mse, visible_mse
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
    overrides: Sequence[Override] = (),
) -> VisualizationFiles:
    """Write the PNG, GIF and error heat map of one sample (see the module docstring)."""
    from skeletonmae.data.layouts import get_layout

    if min(png_frames, gif_frames, fps) < 1:
        raise ValueError(
            f"png_frames, gif_frames and fps must be >= 1, got {png_frames}, {gif_frames} and {fps}"
        )
    checkpoint = Path(checkpoint)
    model, config, arrays = load_mae_checkpoint(checkpoint, overrides)
    index = locate_sample(arrays, sample, config.data)
    result = reconstruct_sample(model, config, arrays, index, seed=seed, person=person)
    out = Path(output_dir) if output_dir is not None else checkpoint.parent / "visualize"
    stem = out / output_stem(result.name, config.mask, seed)
    return _draw(result, config.mask, get_layout(arrays.layout), stem, (png_frames, gif_frames), fps)


def _draw(
    result: ReconstructedSample, mask: Any, layout: Any, stem: Path, counts: tuple[int, int], fps: int
) -> VisualizationFiles:
    """``<stem>.png`` (``counts[0]`` frames), ``<stem>.gif`` (``counts[1]``) and ``<stem>_error.png``."""
    from skeletonmae.viz import skeleton as viz

    title = (
        f"{result.name} ({result.class_name}); {mask.strategy} masking, frames "
        f"{mask.frame_ratio:g}, joints {mask.joint_ratio:g}; MSE masked "
        f"{result.masked_mse:.4g}, visible {result.visible_mse:.4g}"
    )
    masked_only = mask.loss_on == "masked"
    shown = result.pasted if masked_only else result.reconstruction
    error = np.where(result.mask > 0.5, result.joint_error, np.nan) if masked_only else result.joint_error
    rows = [
        viz.SequenceRow("original", result.original),
        viz.SequenceRow("masked input", result.original, result.mask),
        viz.SequenceRow("reconstruction" + (" + visible" if masked_only else ""), shown),
    ]
    frames_png, frames_gif = (viz.pick_frames(result.original.shape[0], count) for count in counts)
    png = viz.draw_sequence_grid(rows, layout.bones, Path(f"{stem}.png"), frames=frames_png, suptitle=title)
    gif = viz.draw_sequence_gif(rows, layout.bones, Path(f"{stem}.gif"), frames=frames_gif, fps=fps)
    heatmap = viz.draw_error_heatmap(
        error,  # (T, V); masked_only: NaN (blank) where the joint was visible
        Path(f"{stem}_error.png"),
        joint_names=layout.joint_names,
        title=f"{result.name}: reconstruction error"
        + (" of removed joints\n(visible joints blank: the loss skips them)" if masked_only else ""),
        label="L2 error" + (" (blank: visible joint)" if masked_only else ""),
    )
    return VisualizationFiles(png, gif, heatmap, result, tuple(int(f) for f in frames_gif))


def output_stem(name: str, mask: Any, seed: int) -> str:
    """``<sample>_<strategy>-f<frame_ratio>-j<joint_ratio>_seed<S>``, e.g.
    ``a01_s01_e00_v03_random-f0.4-j0.5_seed0``: pictures of other masking do not overwrite."""
    setting = f"{mask.strategy}-f{mask.frame_ratio:g}-j{mask.joint_ratio:g}"
    return f"{_safe(name)}_{_safe(setting)}_seed{seed}"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "sample"
