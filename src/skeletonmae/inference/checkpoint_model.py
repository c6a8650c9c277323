"""Rebuild a trained model from a checkpoint (``best.pt``, a weights file or a released name).

The saved run config gives the model, its input grid and the test transform. ``finetune`` /
``linear`` checkpoints give the full classifier; ``pretrain`` ones the encoder only, in a classifier
whose head stays untrained (``embed``, not ``predict``). Class names, layout, channels and
normalisation come from the checkpoint, else from the training split's ``meta.json`` if the dataset
is still there, else from built-in tables (class names by count and layout, layout by joint count).
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
from skeletonmae.saved_run import CLASSIFIER_STAGES, run_config_of

logger = logging.getLogger(__name__)


STAGES = (*CLASSIFIER_STAGES, "pretrain")


@dataclasses.dataclass(frozen=True)
class InferenceModel:
    """A checkpoint ready for inference: ``classifier`` in eval mode on ``device``; ``has_head``
    False when the head is untrained; ``names_source``: where ``class_names`` came from
    (``checkpoint``, a ``meta.json`` path, ``built-in``)."""

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
    if stage not in STAGES:
        raise CheckpointError(
            f"{path}: unknown stage {stage!r}; expected a checkpoint of {', '.join(STAGES)} "
            "(best.pt / last.pt)"
        )
    config = run_config_of(path, payload)
    device = torch.device(device)
    classifier = _classifier(path, stage, config, payload).to(device).eval()
    meta_path, meta = _training_meta(config)
    register_layout_definition(_stored(payload, "layout_definition"), "checkpoint")
    layout = _layout((_stored(payload, "layout"), meta.get("layout")), config.model)
    names, source = _class_names(_stored(payload, "class_names"), meta_path, meta, config.model, layout)
    logger.info("loaded %s (%s, layout %s; class names from %s)", path, stage, layout.name, source)
    channels = check_channels(
        str(_stored(payload, "channels") or meta.get("channels") or ""), config.model.in_channels
    )
    normalization = Normalization.from_dict(_stored(payload, "normalization") or meta.get("normalization"))
    has_head = stage in CLASSIFIER_STAGES
    return InferenceModel(
        path, stage, config, classifier, has_head, names, source, layout, device, channels, normalization
    )


def _classifier(path: Path, stage: str, config: RunConfig, payload: Mapping[str, Any]) -> SkeletonClassifier:
    """The run's classifier with the checkpoint's weights (the encoder's alone for a pre-training)."""
    classifier = SkeletonClassifier(config.model)
    if stage == "linear":  # the head the run trained (feature_norm adds head.norm.*)
        classifier.freeze_encoder(feature_norm=config.finetune.feature_norm)
    if stage == "pretrain":
        from skeletonmae.contrastive.build import pretrained_encoder_state  # MAE or contrastive

        try:
            load_pretrained_encoder(classifier, pretrained_encoder_state(payload))
        except ValueError as error:
            raise CheckpointError(f"{path}: {error}") from error
        return classifier
    weights = {key.removeprefix("module."): value for key, value in payload["model"].items()}
    try:
        classifier.load_state_dict(weights)
    except RuntimeError as error:
        first = "; ".join(line.strip() for line in str(error).strip().splitlines()[:3])
        raise CheckpointError(
            f"{path}: the weights do not match the model its config describes ({first}); the "
            "checkpoint comes from an incompatible skeletonmae version or was edited"
        ) from error
    return classifier


def _training_meta(config: RunConfig) -> tuple[Path | None, dict[str, Any]]:
    """The training split's ``meta.json`` and its content if the dataset is still there."""
    if not config.data.roots:
        return None, {}
    meta_path = config.data.roots[0] / config.data.train_split / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, {}
    return (meta_path, meta) if isinstance(meta, dict) else (None, {})


def _stored(payload: Mapping[str, Any], key: str) -> Any:
    """``payload[key]``, else ``payload["extra"][key]``, else None."""
    extra = payload.get("extra")
    if key in payload:
        return payload[key]
    return extra.get(key) if isinstance(extra, Mapping) else None


def _layout(names: tuple[Any, ...], model: ModelConfig) -> SkeletonLayout:
    """The first named layout that exists and fits the model's joints, else one by joint count."""
    for name in names:
        if isinstance(name, str):
            try:
                layout = get_layout(name)
            except ValueError:
                continue
            if layout.num_joints == model.num_joints:
                return layout
    return layout_for_joint_count(model.num_joints)


def _class_names(
    stored: Any, meta_path: Path | None, meta: dict, model: ModelConfig, layout: SkeletonLayout
) -> tuple[tuple[str, ...], str]:
    """The checkpoint's class names, else the training data's, else the built-in ones."""
    for names, source in ((stored, "checkpoint"), (meta.get("class_names"), str(meta_path))):
        if (
            isinstance(names, (list, tuple))
            and len(names) == model.num_classes
            and all(isinstance(name, str) for name in names)
        ):
            return tuple(names), source
    return default_class_names(model.num_classes, layout.name), "built-in"
