"""skeletonmae.models: STTFormer blocks, the visible-token encoder, the reconstruction decoder,
the SkeletonMAE pre-training module and the classifier, built from typed configs."""

from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.mae import MAEOutput, SkeletonMAE
from skeletonmae.models.sttformer import STTFormer
from skeletonmae.models.transfer import EncoderLoadReport, load_pretrained_encoder
from skeletonmae.run_config import MaskConfig, ModelConfig, StageSpec, preset

__all__ = [
    "EncoderLoadReport",
    "MAEOutput",
    "MaskConfig",
    "ModelConfig",
    "SkeletonClassifier",
    "SkeletonMAE",
    "StageSpec",
    "STTFormer",
    "load_pretrained_encoder",
    "preset",
]
