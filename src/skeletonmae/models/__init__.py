"""skeletonmae.models: STTFormer blocks, the visible-token encoder, the reconstruction decoder,
the SkeletonMAE pre-training module and the classifier, built from typed configs."""

from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.factory import (
    EncoderLoadReport,
    build_classifier,
    build_mae,
    build_sttformer,
    freeze_encoder,
    load_pretrained_encoder,
)
from skeletonmae.models.mae import MAEOutput, SkeletonMAE
from skeletonmae.run_config import MaskConfig, ModelConfig, StageSpec, preset

__all__ = [
    "EncoderLoadReport",
    "MAEOutput",
    "MaskConfig",
    "ModelConfig",
    "SkeletonClassifier",
    "SkeletonMAE",
    "StageSpec",
    "build_classifier",
    "build_mae",
    "build_sttformer",
    "freeze_encoder",
    "load_pretrained_encoder",
    "preset",
]
