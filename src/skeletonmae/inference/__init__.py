"""skeletonmae.inference: use a trained checkpoint.

- :func:`load` -> :class:`Predictor` (``predict`` top-k class names, ``embed`` pooled features);
- :mod:`~.features` (features of a prepared split), :mod:`~.knn` (cosine k-NN evaluation);
- :mod:`~.export` (TorchScript / ONNX classifiers taking ``(N, C, T, V, M)``).
"""

from skeletonmae.inference.checkpoint_model import InferenceModel, load_inference_model
from skeletonmae.inference.inputs import InputFailure, SkeletonInput, read_inputs
from skeletonmae.inference.knn import KnnConfig, KnnResult, knn_evaluate
from skeletonmae.inference.predictor import (
    ClassScore,
    InputsFailedError,
    Prediction,
    PredictionReport,
    Predictor,
    load,
)

__all__ = [
    "ClassScore",
    "InferenceModel",
    "InputFailure",
    "InputsFailedError",
    "KnnConfig",
    "KnnResult",
    "Prediction",
    "PredictionReport",
    "Predictor",
    "SkeletonInput",
    "knn_evaluate",
    "load",
    "load_inference_model",
    "read_inputs",
]
