"""skeletonmae.inference: use a trained checkpoint (:func:`load` -> :class:`Predictor`; the
features of a prepared split, k-NN and linear probes, ONNX export)."""

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
