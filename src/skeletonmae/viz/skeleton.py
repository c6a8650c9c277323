"""Draw skeleton sequences: original, masked input and reconstruction, as a PNG strip or a GIF.

All arrays here are one person of one sample, ``(T, V, D)`` in the dataset's coordinates:
``D = 3`` (x right, y up, z depth for NTU / Kinect) is drawn in 3D; ``D = 2`` (image keypoints,
x right, y down) on a flat panel with y pointing down. Masks are ``(T, V)`` with 1 = removed, as everywhere
in skeletonmae.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skeletonmae.atomic import atomic_path
from skeletonmae.viz.curves import pyplot, save_figure_atomic

log = logging.getLogger(__name__)

Bones = Sequence[tuple[int, int]]

MIN_GRID_WIDTH = 5.0  # inches: room for a (wrapped) figure title over few frames


@dataclass(frozen=True)
class SequenceRow:
    """One row of a figure: a title, joints ``(T, V, D)`` and an optional mask ``(T, V)`` (1 = hidden)."""

    title: str
    joints: np.ndarray
    mask: np.ndarray | None = None


def pick_frames(valid_frames: int, count: int) -> np.ndarray:
    """Evenly spaced frame indices in ``[0, valid_frames)``; at most ``valid_frames`` of them."""
    count = max(1, min(count, valid_frames))
    return np.unique(np.linspace(0, valid_frames - 1, count).round().astype(int))


# A row may widen the common cube to this many times the original's half-size; what lies
# further out is clipped at the cube (and counted in the panel title), never drawn over neighbours.
MAX_ZOOM_OUT = 2.0


def _cube(points: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(centre, half-size) of the cube (square in 2D) around the finite ``points (P, D)``, 10% margin."""
    points = points[np.isfinite(points).all(axis=1)]
    if points.size == 0:
        return None
    lo, hi = points.min(axis=0), points.max(axis=0)
    return (lo + hi) / 2, float(max((hi - lo).max() / 2, 1e-3)) * 1.1


def _axis_limits(rows: Sequence[SequenceRow], frames: np.ndarray) -> tuple[np.ndarray, float]:
    """One cube (centre, half-size) for every panel, so rows are comparable: it holds all rows,
    but grows to at most ``MAX_ZOOM_OUT`` times the original's (first row's) cube, so a poor
    reconstruction cannot shrink the original to a dot."""
    dims = rows[0].joints.shape[-1]
    original = _cube(rows[0].joints[frames].reshape(-1, dims))
    if original is None:
        return np.zeros(dims), 1.0
    centre, half = original
    everything = _cube(np.concatenate([row.joints[frames].reshape(-1, dims) for row in rows]))
    if everything is not None and everything[1] <= MAX_ZOOM_OUT * half:
        return everything
    return centre, MAX_ZOOM_OUT * half


def _clip_segment(
    a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The part of the segment ``a``-``b`` ``(D,)`` inside the box ``[lo, hi]``, or None
    (Liang-Barsky: shrink the parameter range [0, 1] slab by slab)."""
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return None
    step = b - a
    start, stop = 0.0, 1.0
    for k in range(len(a)):
        if step[k] == 0:
            if not lo[k] <= a[k] <= hi[k]:
                return None
            continue
        enter, leave = sorted(((lo[k] - a[k]) / step[k], (hi[k] - a[k]) / step[k]))
        start, stop = max(start, enter), min(stop, leave)
        if start > stop:
            return None
    return a + start * step, a + stop * step


def _draw_pose(
    ax, joints: np.ndarray, bones: Bones, hidden: np.ndarray | None, cube: tuple[np.ndarray, float]
) -> int:
    """Draw one frame ``joints (V, D)`` on a 3D (or 2D) axis, clipped to the ``cube`` (centre, half);
    hidden joints and their bones are greyed out. Returns how many joints lie outside."""
    hidden = np.zeros(len(joints), dtype=bool) if hidden is None else hidden.astype(bool)
    lo, hi = cube[0] - cube[1], cube[0] + cube[1]
    inside = np.isfinite(joints).all(axis=1) & ((joints >= lo) & (joints <= hi)).all(axis=1)
    # 3D: plot as (x, z, y) so that "up" in the data is up on the screen; 2D: as given.
    screen = [0, 2, 1] if joints.shape[1] == 3 else [0, 1]
    for a, b in bones:
        segment = _clip_segment(joints[a], joints[b], lo, hi)
        if segment is None:
            continue
        ends = np.stack(segment)[:, screen]  # (2, D)
        gone = hidden[a] or hidden[b]
        ax.plot(
            *ends.T,
            color="0.8" if gone else "tab:blue",
            linewidth=1.0 if gone else 2.0,
            linestyle=":" if gone else "-",
        )
    for keep, style in (
        (inside & ~hidden, dict(color="tab:red", marker="o")),
        (inside & hidden, dict(color="0.7", marker="x")),
    ):
        if keep.any():
            points = joints[keep][:, screen]
            depth = {"depthshade": False} if len(screen) == 3 else {}
            ax.scatter(*points.T, s=6, **depth, **style)
    return int((~inside).sum())


def _style_axis(ax, centre: np.ndarray, half: float) -> None:
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_xticks([])
    ax.set_yticks([])
    if len(centre) == 2:  # image keypoints: y grows downwards
        ax.set_ylim(centre[1] + half, centre[1] - half)
        ax.set_aspect("equal")
        return
    ax.set_ylim(centre[2] - half, centre[2] + half)
    ax.set_zlim(centre[1] - half, centre[1] + half)
    ax.set_zticks([])
    ax.view_init(elev=10, azim=-80)


def _projection(rows: Sequence[SequenceRow]) -> str | None:
    """matplotlib's projection for the rows' joints: ``3d`` for 3D, a flat axis for 2D."""
    return "3d" if rows[0].joints.shape[-1] == 3 else None


def _fit_suptitle(fig, text: str, fontsize: float) -> None:
    """Set ``text`` as the figure's title, wrapped at spaces until it fits the figure's width."""
    title = fig.suptitle(text, fontsize=fontsize)
    renderer = fig.canvas.get_renderer()
    width = len(text)
    while width > 10 and title.get_window_extent(renderer).width > 0.96 * fig.bbox.width:
        width = int(width * 0.85)
        title.set_text(textwrap.fill(text, width, break_long_words=False))


def draw_sequence_grid(
    rows: Sequence[SequenceRow], bones: Bones, path: str | Path, *, frames: np.ndarray, suptitle: str = ""
) -> Path:
    """Write a PNG: one row per ``SequenceRow``, one column per frame index in ``frames``, one
    cube shared by every panel."""
    cube = _axis_limits(rows, frames)
    fig = pyplot().figure(figsize=(max(2.0 * len(frames), MIN_GRID_WIDTH), 2.2 * len(rows)))
    for r, row in enumerate(rows):
        for c, t in enumerate(frames):
            ax = fig.add_subplot(
                len(rows), len(frames), r * len(frames) + c + 1, projection=_projection(rows)
            )
            hidden = None if row.mask is None else row.mask[t]
            outside = _draw_pose(ax, row.joints[t], bones, hidden, cube)
            _style_axis(ax, *cube)
            title = f"frame {t}" + (f" ({outside} off-panel)" if outside else "")
            ax.set_title(f"{row.title}\n{title}" if c == 0 else title, fontsize=8)
    if suptitle:
        _fit_suptitle(fig, suptitle, fontsize=10)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=90)
    log.info("wrote %s", path)
    return Path(path)


def draw_sequence_gif(
    rows: Sequence[SequenceRow], bones: Bones, path: str | Path, *, frames: np.ndarray, fps: int = 8
) -> Path:
    """Write an animated GIF with the rows side by side, one GIF frame per index in ``frames``."""
    plt = pyplot()
    from matplotlib.animation import FuncAnimation, PillowWriter

    path = Path(path)
    cube = _axis_limits(rows, frames)
    fig = plt.figure(figsize=(2.6 * len(rows), 2.8))
    axes = [fig.add_subplot(1, len(rows), i + 1, projection=_projection(rows)) for i in range(len(rows))]

    def update(k: int):
        t = frames[k]
        for ax, row in zip(axes, rows):
            ax.cla()
            outside = _draw_pose(ax, row.joints[t], bones, None if row.mask is None else row.mask[t], cube)
            _style_axis(ax, *cube)
            ax.set_title(f"{row.title}  t={t}" + (f"\n{outside} off-panel" if outside else ""), fontsize=8)
        return axes

    animation = FuncAnimation(fig, update, frames=len(frames), blit=False)
    with atomic_path(path) as temp:
        animation.save(temp, writer=PillowWriter(fps=fps))
    plt.close(fig)
    log.info("wrote %s", path)
    return path


def draw_error_heatmap(
    error: np.ndarray,
    path: str | Path,
    *,
    joint_names: Sequence[str] | None = None,
    title: str = "reconstruction error",
    label: str = "L2 error",
) -> Path:
    """Write a PNG heat map of a per-joint error ``(T, V)`` (frames on x, joints on y); NaN
    entries (joints not scored) are left blank, not drawn as zero error."""
    plt = pyplot()
    cmap = plt.colormaps["magma"].with_extremes(bad="white")
    scored = np.isfinite(error)
    top = float(error[scored].max()) if scored.any() else 1.0
    fig, ax = plt.subplots(figsize=(8, 0.18 * error.shape[1] + 1.5))
    image = ax.imshow(
        np.ma.masked_invalid(error.T),
        aspect="auto",
        origin="lower",
        cmap=cmap,
        interpolation="nearest",
        vmin=0.0,
        vmax=max(top, 1e-6),
    )
    ax.set_xlabel("frame")
    ax.set_ylabel("joint")
    if joint_names is not None:
        ax.set_yticks(range(len(joint_names)), joint_names, fontsize=6)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label=label)
    fig.tight_layout()
    return save_figure_atomic(fig, path, dpi=100)
