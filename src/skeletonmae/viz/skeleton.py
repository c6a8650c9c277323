"""Draw skeleton sequences: original, masked input and reconstruction, as a PNG strip or a GIF.

All arrays here are one person of one sample, ``(T, V, 3)`` in the dataset's coordinates
(x right, y up, z depth for NTU / Kinect). Masks are ``(T, V)`` with 1 = removed, as everywhere
in skeletonmae. matplotlib is imported lazily so the library imports without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from skeletonmae.atomic import atomic_path
from skeletonmae.viz.curves import save_figure_atomic

log = logging.getLogger(__name__)

Bones = Sequence[tuple[int, int]]


@dataclass(frozen=True)
class SequenceRow:
    """One row of a figure: a title, joints ``(T, V, 3)`` and an optional mask ``(T, V)`` (1 = hidden)."""

    title: str
    joints: np.ndarray
    mask: np.ndarray | None = None


def pick_frames(valid_frames: int, count: int) -> np.ndarray:
    """Evenly spaced frame indices in ``[0, valid_frames)``; at most ``valid_frames`` of them."""
    count = max(1, min(count, valid_frames))
    return np.unique(np.linspace(0, valid_frames - 1, count).round().astype(int))


def _axis_limits(rows: Sequence[SequenceRow], frames: np.ndarray) -> tuple[np.ndarray, float]:
    """A common cube (centre, half-size) fitted to the first row (the original sequence), so rows
    are comparable and a poor reconstruction cannot shrink the original to a dot."""
    points = rows[0].joints[frames].reshape(-1, 3)
    points = points[np.isfinite(points).all(axis=1)]
    if points.size == 0:
        return np.zeros(3), 1.0
    lo, hi = points.min(axis=0), points.max(axis=0)
    half = float(max((hi - lo).max() / 2, 1e-3)) * 1.1
    return (lo + hi) / 2, half


def _draw_pose(ax, joints: np.ndarray, bones: Bones, hidden: np.ndarray | None) -> None:
    """Draw one frame ``joints (V, 3)`` on a 3D axis; hidden joints and their bones are greyed out."""
    hidden = np.zeros(len(joints), dtype=bool) if hidden is None else hidden.astype(bool)
    # Plot as (x, z, y) so that "up" in the data is up on the screen.
    xs, ys, zs = joints[:, 0], joints[:, 2], joints[:, 1]
    for a, b in bones:
        gone = hidden[a] or hidden[b]
        ax.plot([xs[a], xs[b]], [ys[a], ys[b]], [zs[a], zs[b]],
                color="0.8" if gone else "tab:blue", linewidth=1.0 if gone else 2.0,
                linestyle=":" if gone else "-")
    ax.scatter(xs[~hidden], ys[~hidden], zs[~hidden], color="tab:red", s=6, depthshade=False)
    if hidden.any():
        ax.scatter(xs[hidden], ys[hidden], zs[hidden], color="0.7", s=6, marker="x", depthshade=False)


def _style_axis(ax, centre: np.ndarray, half: float) -> None:
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[2] - half, centre[2] + half)
    ax.set_zlim(centre[1] - half, centre[1] + half)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_zticks([])
    ax.view_init(elev=10, azim=-80)


def draw_sequence_grid(
    rows: Sequence[SequenceRow], bones: Bones, path: str | Path, *, frames: np.ndarray,
    suptitle: str = "",
) -> Path:
    """Write a PNG: one row per ``SequenceRow``, one column per frame index in ``frames``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    centre, half = _axis_limits(rows, frames)
    fig = plt.figure(figsize=(2.0 * len(frames), 2.2 * len(rows)))
    for r, row in enumerate(rows):
        for c, t in enumerate(frames):
            ax = fig.add_subplot(len(rows), len(frames), r * len(frames) + c + 1, projection="3d")
            hidden = None if row.mask is None else row.mask[t]
            _draw_pose(ax, row.joints[t], bones, hidden)
            _style_axis(ax, centre, half)
            ax.set_title(f"{row.title}\nframe {t}" if c == 0 else f"frame {t}", fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=90)
    plt.close(fig)
    log.info("wrote %s", path)
    return path


def draw_sequence_gif(
    rows: Sequence[SequenceRow], bones: Bones, path: str | Path, *, frames: np.ndarray, fps: int = 8,
) -> Path:
    """Write an animated GIF with the rows side by side, one GIF frame per index in ``frames``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    path = Path(path)
    centre, half = _axis_limits(rows, frames)
    fig = plt.figure(figsize=(2.6 * len(rows), 2.8))
    axes = [fig.add_subplot(1, len(rows), i + 1, projection="3d") for i in range(len(rows))]

    def update(k: int):
        t = frames[k]
        for ax, row in zip(axes, rows):
            ax.cla()
            _draw_pose(ax, row.joints[t], bones, None if row.mask is None else row.mask[t])
            _style_axis(ax, centre, half)
            ax.set_title(f"{row.title}  t={t}", fontsize=8)
        return axes

    animation = FuncAnimation(fig, update, frames=len(frames), blit=False)
    with atomic_path(path) as temp:
        animation.save(temp, writer=PillowWriter(fps=fps))
    plt.close(fig)
    log.info("wrote %s", path)
    return path


def draw_error_heatmap(error: np.ndarray, path: str | Path, *, joint_names: Sequence[str] | None = None,
                       title: str = "reconstruction error") -> Path:
    """Write a PNG heat map of a per-joint error ``(T, V)`` (frames on x, joints on y)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(8, 0.18 * error.shape[1] + 1.5))
    image = ax.imshow(error.T, aspect="auto", origin="lower", cmap="magma", interpolation="nearest")
    ax.set_xlabel("frame")
    ax.set_ylabel("joint")
    if joint_names is not None:
        ax.set_yticks(range(len(joint_names)))
        ax.set_yticklabels(joint_names, fontsize=6)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="L2 error")
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=100)
    plt.close(fig)
    return path
