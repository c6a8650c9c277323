"""SkeletonMAE: spatial-temporal masked autoencoders for 3D skeleton action recognition."""

__version__ = "0.1.0"
