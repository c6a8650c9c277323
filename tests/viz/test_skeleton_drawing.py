"""The skeleton drawings are real images of the requested size and frame count."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from skeletonmae.viz import skeleton
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


@pytest.fixture
def drawn_figures(monkeypatch) -> list:
    """The figures ``draw_sequence_grid`` saves, drawn (so 3D artists hold screen positions)."""
    figures = []

    def keep(fig, path, **kwargs):
        fig.canvas.draw()
        figures.append(fig)
        Image.new("L", (1, 1)).save(path)

    monkeypatch.setattr(skeleton, "save_figure_atomic", keep)
    return figures


@pytest.mark.parametrize("frames", [1, 4])
def test_a_long_title_stays_inside_the_picture(frames, drawn_figures, tmp_path):
    from matplotlib.text import Text

    title = (
        "a01_s01_e03_v03 (pick up with one hand); random masking, frames 0.4, joints 0.5; "
        "MSE masked 3.719, visible 3.694"
    )
    rows = [SequenceRow("original", _waving()), SequenceRow("reconstruction", _waving())]
    draw_sequence_grid(rows, BONES, tmp_path / "grid.png", frames=pick_frames(12, frames), suptitle=title)
    fig = drawn_figures[0]
    [shown] = [t for t in fig.findobj(Text) if t.get_text().replace("\n", " ") == title]
    box, page = shown.get_window_extent(), fig.bbox
    assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1


def test_a_wild_reconstruction_stays_inside_its_panels(drawn_figures, tmp_path):
    joints = _waving()
    wild = joints * 4 + [0.5, 0, 0]  # partly beyond twice the original's cube
    rows = [SequenceRow("original", joints), SequenceRow("reconstruction", wild)]
    draw_sequence_grid(rows, BONES, tmp_path / "grid.png", frames=pick_frames(12, 3))
    fig = drawn_figures[0]
    for ax in fig.axes:
        panel = ax.bbox
        points = [line.get_xydata() for line in ax.get_lines()]
        points += [collection.get_offsets() for collection in ax.collections]
        screen = ax.transData.transform(np.concatenate(points or [np.zeros((0, 2))]))
        screen = screen[np.isfinite(screen).all(axis=1)]
        assert ((screen >= [panel.x0 - 1, panel.y0 - 1]) & (screen <= [panel.x1 + 1, panel.y1 + 1])).all(), (
            ax.get_title()
        )
    original_panel = fig.axes[0]
    assert original_panel.get_xlim()[1] - original_panel.get_xlim()[0] < 10  # not shrunk to a dot
    assert "off-panel" in fig.axes[-1].get_title()  # and the clipped joints are counted
    assert fig.axes[-1].get_lines()  # the part inside is still drawn


def test_segments_are_clipped_to_the_box():
    lo, hi = np.zeros(3), np.ones(3)
    inside = skeleton._clip_segment(np.array([0.5, 0.5, 0.5]), np.array([2.5, 0.5, 0.5]), lo, hi)
    assert np.allclose(inside, [[0.5, 0.5, 0.5], [1.0, 0.5, 0.5]])
    assert skeleton._clip_segment(np.array([2.0, 2, 2]), np.array([3.0, 2, 2]), lo, hi) is None
    through = skeleton._clip_segment(np.array([-1.0, 0.5, 0.5]), np.array([2.0, 0.5, 0.5]), lo, hi)
    assert np.allclose(through, [[0, 0.5, 0.5], [1, 0.5, 0.5]])


def test_error_heatmap_leaves_unscored_joints_blank(drawn_figures, tmp_path):
    error = np.full((12, 5), 3.0)
    error[:, 2] = np.nan  # a joint never scored
    draw_error_heatmap(error, tmp_path / "err.png", label="L2 error (blank: visible)")
    heatmap, colorbar = drawn_figures[0].axes
    image = heatmap.images[0]
    assert image.get_array().mask[2].all() and not image.get_array().mask[[0, 1, 3, 4]].any()
    assert tuple(image.cmap.get_bad()) == (1.0, 1.0, 1.0, 1.0)  # blank, not a colour of the scale
    assert image.get_clim() == (0.0, 3.0)
    assert colorbar.get_ylabel() == "L2 error (blank: visible)"
