"""SkeletonMAE: spatial-temporal masked autoencoders for 3D skeleton action recognition."""

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def __getattr__(name: str) -> Any:
    """Lazy top-level API: ``skeletonmae.load(checkpoint)`` imports torch only when first used."""
    if name == "load":
        from skeletonmae.inference.predictor import load

        return load
    raise AttributeError(f"module 'skeletonmae' has no attribute {name!r}")
