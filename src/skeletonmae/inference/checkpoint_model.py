"""Rebuild a trained model from a training checkpoint for inference.

A checkpoint (``best.pt`` / ``last.pt``, see :mod:`skeletonmae.checkpoints`) holds the
resolved run config, so the model, its input grid and the test transform are rebuilt from it alone.

- ``finetune`` / ``linear`` checkpoints give the full classifier (``predict`` and ``embed``);
- ``pretrain`` checkpoints (SkeletonMAE, or a contrastive baseline) give the encoder only, loaded
  into a classifier whose head stays untrained (``embed`` only; ``predict`` refuses).

Class names come from the checkpoint when it stores them (``class_names``, at the top level or in
``extra``), else from the training split's ``meta.json`` if that dataset is still where the run
read it, else from the built-in tables (NTU-60/120 by class count, NW-UCLA by layout), else
``class_0, ...``. The skeleton layout is found the same way (``layout``; else by joint count).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from skeletonmae.checkpoints import CheckpointError, load_checkpoint
from skeletonmae.data.channels import check_channels
from skeletonmae.data.classes import default_class_names
from skeletonmae.data.layouts import (
    SkeletonLayout,
    get_layout,
    layout_for_joint_count,
    register_layout_definition,
)
from skeletonmae.data.normalize import Normalization
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.transfer import load_pretrained_encoder
from skeletonmae.run_config import ModelConfig, RunConfig, TransformConfig
from skeletonmae.saved_run import run_config_of

logger = logging.getLogger(__name__)

__all__ = ["InferenceModel", "load_inference_model", "CLASSIFIER_STAGES", "ENCODER_STAGES"]

CLASSIFIER_STAGES = ("finetune", "linear")
ENCODER_STAGES = ("pretrain",)


@dataclasses.dataclass(frozen=True)
class InferenceModel:
    """A checkpoint ready for inference: ``classifier`` is in eval mode on ``device``.

    ``has_head`` is False for pre-training checkpoints (the head is untrained). ``names_source``
    says where ``class_names`` came from (``checkpoint``, a ``meta.json`` path, ``built-in``).
    """

    path: Path
    stage: str
    config: RunConfig
    classifier: SkeletonClassifier
    has_head: bool
    class_names: tuple[str, ...]
    names_source: str
    layout: SkeletonLayout
    device: torch.device
    channels: str = "xyz"
    normalization: Normalization = Normalization()

    @property
    def model_config(self) -> ModelConfig:
        return self.config.model

    @property
    def transform(self) -> TransformConfig:
        return self.config.data.transform


def load_inference_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> InferenceModel:
    """Load ``path`` (weights-only) and rebuild its model; raises :class:`CheckpointError` naming
    the file for an unreadable, unknown-stage or incompatible checkpoint."""
    path = Path(path)
    payload = load_checkpoint(path)
    stage = payload.get("stage")
    if stage not in CLASSIFIER_STAGES + ENCODER_STAGES:
        stages = ", ".join(CLASSIFIER_STAGES + ENCODER_STAGES)
        raise CheckpointError(
            f"{path}: unknown stage {stage!r}; expected a checkpoint of {stages} (best.pt / last.pt)"
        )
    config = run_config_of(path, payload)
    classifier = SkeletonClassifier(config.model)
    if stage == "linear":  # the head the run trained (feature_norm adds head.norm.*)
        classifier.freeze_encoder(feature_norm=config.finetune.feature_norm)
    if stage in CLASSIFIER_STAGES:
        _load_classifier_weights(path, classifier, payload["model"])
    else:
        _load_encoder_weights(path, classifier, payload)
    device = torch.device(device)
    classifier = classifier.to(device).eval()
    meta = _training_meta(config)
    layout = _layout(payload, meta, config.model)
    names, source = _class_names(payload, meta, config, layout)
    logger.info(
        "loaded %s (%s, %d classes, layout %s; class names from %s)",
        path,
        stage,
        config.model.num_classes,
        layout.name,
        source,
    )
    channels = _channels(payload, meta, config.model)
    stored = _stored(payload, "normalization") or (meta[1].get("normalization") if meta else None)
    return InferenceModel(
        path,
        stage,
        config,
        classifier,
        stage in CLASSIFIER_STAGES,
        names,
        source,
        layout,
        device,
        channels,
        Normalization.from_dict(stored),
    )


def _load_classifier_weights(
    path: Path, classifier: SkeletonClassifier, state: Mapping[str, torch.Tensor]
) -> None:
    weights = {key.removeprefix("module."): value for key, value in state.items()}
    try:
        classifier.load_state_dict(weights)
    except RuntimeError as error:
        first = str(error).strip().splitlines()
        raise CheckpointError(
            f"{path}: the weights do not match the model its config describes "
            f"({'; '.join(line.strip() for line in first[:3])}); the checkpoint comes from an "
            "incompatible skeletonmae version or was edited"
        ) from error


def _load_encoder_weights(path: Path, classifier: SkeletonClassifier, payload: Mapping[str, Any]) -> None:
    from skeletonmae.contrastive.build import pretrained_encoder_state  # MAE or contrastive

    try:
        load_pretrained_encoder(classifier, pretrained_encoder_state(payload))
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from error


def _training_meta(config: RunConfig) -> tuple[Path, dict[str, Any]] | None:
    """The training split's ``meta.json`` if the dataset is still there (else None)."""
    if not config.data.roots:
        return None
    meta_path = config.data.roots[0] / config.data.train_split / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (meta_path, meta) if isinstance(meta, dict) else None


def _stored(payload: Mapping[str, Any], key: str) -> Any:
    extra = payload.get("extra")
    if key in payload:
        return payload[key]
    return extra.get(key) if isinstance(extra, Mapping) else None


def _channels(payload: Mapping[str, Any], meta: tuple[Path, dict] | None, model: ModelConfig) -> str:
    """What the input channels hold: the checkpoint's, else the training data's, else by count."""
    stored = _stored(payload, "channels") or (meta[1].get("channels") if meta else None)
    return check_channels(str(stored or ""), model.in_channels)


def _layout(payload: Mapping[str, Any], meta: tuple[Path, dict] | None, model: ModelConfig) -> SkeletonLayout:
    register_layout_definition(_stored(payload, "layout_definition"), "checkpoint")
    candidates = [_stored(payload, "layout"), meta[1].get("layout") if meta else None]
    for name in candidates:
        if isinstance(name, str):
            try:
                layout = get_layout(name)
            except ValueError:
                continue
            if layout.num_joints == model.num_joints:
                return layout
    return layout_for_joint_count(model.num_joints)


def _class_names(
    payload: Mapping[str, Any], meta: tuple[Path, dict] | None, config: RunConfig, layout: SkeletonLayout
) -> tuple[tuple[str, ...], str]:
    count = config.model.num_classes
    stored = _stored(payload, "class_names")
    if _valid_names(stored, count):
        return tuple(stored), "checkpoint"
    if meta is not None and _valid_names(meta[1].get("class_names"), count):
        return tuple(meta[1]["class_names"]), str(meta[0])
    return default_class_names(count, layout.name), "built-in"


def _valid_names(names: Any, count: int) -> bool:
    return (
        isinstance(names, (list, tuple))
        and len(names) == count
        and all(isinstance(name, str) for name in names)
    )
