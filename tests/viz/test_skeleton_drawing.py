"""The skeleton drawings are real images of the requested size and frame count."""

from __future__ import annotations

import numpy as np
from PIL import Image

from skeletonmae.viz.skeleton import (
    SequenceRow,
    draw_error_heatmap,
    draw_sequence_gif,
    draw_sequence_grid,
    pick_frames,
)

# A five-joint stick figure: hip, neck, head, left hand, right hand.
BONES = [(0, 1), (1, 2), (1, 3), (1, 4)]


def _waving(frames: int = 12) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, frames)
    joints = np.zeros((frames, 5, 3), dtype=np.float32)
    joints[:, 1, 1] = 0.5
    joints[:, 2, 1] = 0.7
    joints[:, 3] = np.stack([-0.3 + 0 * t, 0.5 + 0.2 * np.sin(t), 0 * t], axis=1)
    joints[:, 4] = np.stack([0.3 + 0 * t, 0.5 - 0.2 * np.sin(t), 0 * t], axis=1)
    return joints


def test_pick_frames_is_sorted_unique_and_bounded():
    assert pick_frames(100, 5).tolist() == [0, 25, 50, 74, 99]
    assert pick_frames(3, 8).tolist() == [0, 1, 2]
    assert pick_frames(1, 4).tolist() == [0]


def test_grid_png_has_one_panel_per_row_and_frame(tmp_path):
    joints = _waving()
    mask = np.zeros((12, 5))
    mask[:, 3] = 1
    rows = [SequenceRow("original", joints), SequenceRow("masked", joints, mask)]
    path = draw_sequence_grid(rows, BONES, tmp_path / "grid.png", frames=pick_frames(12, 4))
    with Image.open(path) as image:
        width, height = image.size
        pixels = np.asarray(image.convert("L"))
    assert width > height  # 4 columns, 2 rows
    assert pixels.std() > 5  # something was drawn, not a blank canvas


def test_gif_has_requested_frames(tmp_path):
    rows = [SequenceRow("original", _waving()), SequenceRow("reconstruction", _waving() + 0.01)]
    path = draw_sequence_gif(rows, BONES, tmp_path / "seq.gif", frames=pick_frames(12, 6))
    with Image.open(path) as image:
        assert image.n_frames == 6
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_error_heatmap_writes_png(tmp_path):
    path = draw_error_heatmap(np.random.default_rng(0).random((12, 5)), tmp_path / "err.png")
    assert path.stat().st_size > 1000
