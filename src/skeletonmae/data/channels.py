"""What the ``C`` coordinate channels hold, declared once and carried everywhere: ``xyz`` (3D; the
default for C = 3), ``xy`` (2D; the default for C = 2), ``xy_score`` (2D plus the estimator's confidence,
which is never rotated, scaled, flipped or differenced) and ``xyz_score`` (C = 4). Geometry and the
bone / motion streams act on the first ``spatial_dims`` channels; in 2D rotation is in the image plane.
"""

from __future__ import annotations

CHANNEL_LAYOUTS: dict[str, tuple[int, int]] = {  # name -> (channels, spatial dims)
    "xyz": (3, 3),
    "xy": (2, 2),
    "xy_score": (3, 2),
    "xyz_score": (4, 3),
}
DEFAULTS = {3: "xyz", 2: "xy"}


def check_channels(name: str, num_channels: int) -> str:
    """``name`` checked against the count; empty: ``xyz`` for 3 channels, ``xy`` for 2, else an error."""
    if not name:
        if num_channels not in DEFAULTS:
            raise ValueError(
                f"{num_channels} coordinate channels: declare what they hold (channels = one of "
                f"{sorted(CHANNEL_LAYOUTS)}), e.g. 'xyz_score' for x, y, z and a confidence"
            )
        return DEFAULTS[num_channels]
    spatial_dims(name)  # an unknown name is refused there
    expected = CHANNEL_LAYOUTS[name][0]
    if expected != num_channels:
        raise ValueError(f"channels {name!r} means {expected} channels, the data has {num_channels}")
    return name


def spatial_dims(name: str) -> int:
    """How many leading channels are positions (2 or 3)."""
    if name not in CHANNEL_LAYOUTS:
        raise ValueError(f"channels {name!r} is unknown; use one of {sorted(CHANNEL_LAYOUTS)}")
    return CHANNEL_LAYOUTS[name][1]
