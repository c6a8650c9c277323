"""skeletonmae.data: raw NTU RGB+D / NW-UCLA and other formats -> a prepared dataset -> training tensors.

Import the torch-side pieces from their modules (kept out of this namespace so that preparation
workers start without importing torch)::

    from skeletonmae.data.dataset import SkeletonDataset
    from skeletonmae.data.loader import make_loader

See docs/data.md for the formats and the prepared-dataset folder.
"""

from skeletonmae.data.errors import DataFormatError, ForbiddenPickleError, PreparationError
from skeletonmae.data.layouts import SkeletonLayout, get_layout
from skeletonmae.data.prepare import PrepareReport, prepare_ntu, prepare_nw_ucla
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.splits import BENCHMARKS, parse_ntu_name, split_names
from skeletonmae.data.store import SplitArrays, load_split, read_manifest, write_split
from skeletonmae.data.subsets import label_fraction_indices
from skeletonmae.data.synthetic import write_synthetic_ntu
from skeletonmae.run_config import TransformConfig

__all__ = [
    "BENCHMARKS",
    "DataFormatError",
    "ForbiddenPickleError",
    "PrepareReport",
    "PreparationError",
    "SkeletonLayout",
    "SkeletonSamples",
    "SplitArrays",
    "TransformConfig",
    "get_layout",
    "label_fraction_indices",
    "load_split",
    "parse_ntu_name",
    "prepare_ntu",
    "prepare_nw_ucla",
    "read_manifest",
    "split_names",
    "write_split",
    "write_synthetic_ntu",
]
