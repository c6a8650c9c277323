"""The three training stages as plain functions: ``run_pretrain``, ``run_finetune``, ``run_linear``.

Each runs a :class:`RunConfig` (in one process, or as one rank of a ``torchrun`` job) and returns a
:class:`RunResult`; the run folder ``config.output_dir`` ends up holding config.yaml, env.json,
metrics.csv, curves.png, last.pt and best.pt.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from skeletonmae.atomic import write_json_atomic
from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.config import dump_yaml
from skeletonmae.contrastive.build import build_for_dataset, pretrained_encoder_state
from skeletonmae.data.binding import (
    DatasetInfo,
    bind_model_to_data,
    dataset_info,
    open_split,
    require_labels,
)
from skeletonmae.data.layouts import layout_definition
from skeletonmae.distributed import DistributedContext, barrier, distributed_session, wrap_model
from skeletonmae.models.checkpointing import set_activation_checkpointing
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.models.transfer import load_pretrained_encoder
from skeletonmae.run_config import RunConfig
from skeletonmae.training.data_setup import build_eval_loader, build_train_data, micro_batch_size
from skeletonmae.training.engine import Trainer
from skeletonmae.training.loop_types import RunResult, Task, TrainingSetup, count_steps_per_epoch
from skeletonmae.training.optim import build_optimizer, build_scheduler, layer_decay_groups
from skeletonmae.training.run_dir import environment_info
from skeletonmae.training.tasks import ClassificationTask, ContrastivePretrainTask, PretrainTask

logger = logging.getLogger(__name__)


def run_pretrain(
    config: RunConfig, *, resume: bool = False, pinned_model_fields: Collection[str] = ()
) -> RunResult:
    """Masked-autoencoder pre-training on the training split (labels unused); best by val loss."""
    return _run_stage("pretrain", config, resume, pinned_model_fields)


def run_finetune(
    config: RunConfig, *, resume: bool = False, pinned_model_fields: Collection[str] = ()
) -> RunResult:
    """End-to-end fine-tuning from ``finetune.pretrained`` (or from scratch when null), on
    ``data.label_fraction`` of the labels; best by val top-1."""
    return _run_stage("finetune", config, resume, pinned_model_fields)


def run_linear(
    config: RunConfig, *, resume: bool = False, pinned_model_fields: Collection[str] = ()
) -> RunResult:
    """Linear evaluation: frozen pre-trained encoder (eval-mode BatchNorm), train the head only
    (with ``finetune.feature_norm``, MAMP's non-affine BatchNorm before the linear layer)."""
    if config.finetune.pretrained is None:
        fix = "pass --pretrained RUN/best.pt"
        raise ValueError(f"linear evaluation needs finetune.pretrained (a pretrain checkpoint); {fix}")
    return _run_stage("linear", config, resume, pinned_model_fields)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def prepare_run_dir(config: RunConfig, stage: str, context: DistributedContext, resume: bool) -> Path:
    """Check resume / overwrite, then (rank 0) write config.yaml and env.json."""
    run_dir = Path(config.output_dir)
    last = run_dir / "last.pt"
    if resume and not last.is_file():
        raise FileNotFoundError(f"{last}: nothing to resume; start the run without --resume")
    if not resume and last.is_file():
        message = "pass --resume to continue it or choose another output_dir"
        raise FileExistsError(f"{run_dir} already holds a run ({last.name}); {message}")
    if context.is_main:
        resolved = run_dir / "config.yaml"  # its first line: the command that runs it
        dump_yaml(config, resolved, header=f"skeletonmae {stage} --config {resolved}")
        env = environment_info(config.training.seed, context.world_size)
        write_json_atomic(run_dir / "env.json", {**env, "stage": stage, "resumed": resume})
    return run_dir


def build_stage_model(
    stage: str, config: RunConfig, layout_name: str = "", num_samples: int = 0
) -> torch.nn.Module:
    """SkeletonMAE or, with a ``contrastive:`` section, the contrastive model (pretrain), or the
    classifier with the pre-trained encoder loaded / frozen. ``layout_name`` and ``num_samples``
    (the training split's) are read by the contrastive baselines only."""
    if stage == "pretrain" and config.contrastive is not None:
        stream = config.data.transform.stream
        return build_for_dataset(config.model, config.contrastive, layout_name, stream, num_samples)
    if stage == "pretrain":
        return SkeletonMAE(config.model, config.mask)
    classifier = SkeletonClassifier(config.model)
    if config.finetune.pretrained is not None:
        payload = load_checkpoint(config.finetune.pretrained)
        try:
            report = load_pretrained_encoder(classifier, pretrained_encoder_state(payload))
        except ValueError as error:
            raise ValueError(f"{config.finetune.pretrained}: {error}") from error
        logger.info("loaded %d encoder tensors from %s", len(report.loaded), config.finetune.pretrained)
    else:
        logger.info("%s from scratch (finetune.pretrained is null)", stage)
    if stage == "linear":
        classifier.freeze_encoder(feature_norm=config.finetune.feature_norm)
    return classifier


def _run_stage(stage: str, config: RunConfig, resume: bool, pinned: Collection[str]) -> RunResult:
    with distributed_session(config.training.device) as context:
        train_arrays = open_split(config.data, config.data.train_split)
        info = dataset_info(train_arrays)
        if stage != "pretrain":
            require_labels(train_arrays, stage)
        config = bind_model_to_data(config, info, pinned)
        seed_everything(config.training.seed)  # same initial weights on every rank
        model = built = build_stage_model(stage, config, info.layout, len(train_arrays))  # checks the masking
        run_dir = prepare_run_dir(config, stage, context, resume)
        set_activation_checkpointing(model, config.training.checkpoint_activations)
        seed_everything(config.training.seed + context.rank)  # per-rank dropout streams
        train = build_train_data(config, train_arrays, context, stage)
        val_loader = _validation_loader(config, context)
        model = wrap_model(model, context, config.training.sync_batchnorm)
        optimizer = build_optimizer(_optimizer_parameters(stage, config, model), config.optim)
        if config.training.compile:
            model = torch.compile(model)
        steps = count_steps_per_epoch(len(train.loader), config.training)
        scheduler = build_scheduler(optimizer, config.schedule, steps, config.training.epochs)
        setup = TrainingSetup(
            task=_stage_task(stage, config),
            model=model,
            optimizer=optimizer,
            scheduler=scheduler,
            train=dataclasses.replace(train, set_epoch=_epoch_hook(stage, config, train.set_epoch, built)),
            val_loader=val_loader,
            config=config,
            run_dir=run_dir,
            context=context,
            checkpoint_extra=_data_facts(info),
        )
        trainer = Trainer(setup)
        if resume:
            trainer.resume(run_dir / "last.pt")
        result = trainer.fit()
        if context.is_main:
            _plot_curves(result.history, run_dir / "curves.png", f"{stage}: {run_dir.name}")
        barrier(context)  # every rank returns only once rank 0 has written its files
        return result


def _data_facts(info: DatasetInfo) -> dict:
    """What a checkpoint keeps of its training data (``extra``): classes, layout, channels."""
    return {
        "class_names": list(info.class_names),
        "layout": info.layout,
        "channels": info.channels,
        "layout_definition": layout_definition(info.layout) if info.layout else None,
        "normalization": info.normalization,
    }


def _optimizer_parameters(stage: str, config: RunConfig, model: torch.nn.Module) -> list:
    """Every parameter; when fine-tuning, layer-decay groups (``finetune.layer_decay < 1``)
    and encoder groups held for ``finetune.frozen_encoder_epochs``."""
    held = config.finetune.frozen_encoder_epochs
    if stage != "finetune" or (config.finetune.layer_decay == 1 and not held):
        return list(model.parameters())
    blocks = len(config.model.block_specs)
    groups = layer_decay_groups(model.named_parameters(), blocks, config.finetune.layer_decay)
    if held:
        if held >= config.training.epochs:
            raise ValueError(
                f"finetune.frozen_encoder_epochs={held} leaves no epoch of fine-tuning in "
                f"training.epochs={config.training.epochs}; lower it (or use the linear stage)"
            )
        for group in groups[:-1]:  # every group but the head's (layer num_blocks + 1)
            group["hold_epochs"] = held
    return groups


def _validation_loader(config: RunConfig, context: DistributedContext) -> DataLoader | None:
    if config.data.val_split is None:
        return None
    arrays = open_split(config.data, config.data.val_split)
    return build_eval_loader(config, arrays, context, micro_batch_size(config, context))


def _stage_task(stage: str, config: RunConfig) -> Task:
    if stage != "pretrain":
        return ClassificationTask(stage, config.model.num_classes, config.training.label_smoothing)
    return PretrainTask() if config.contrastive is None else ContrastivePretrainTask()


def _epoch_hook(
    stage: str, config: RunConfig, set_data_epoch: Callable[[int], None], model: torch.nn.Module
) -> Callable[[int], None]:
    """What starts an epoch: the data's augmentation seed and, where the stage has them, the
    contrastive model's mining switch and the LP-FT hold on the encoder."""
    mining = stage == "pretrain" and config.contrastive is not None
    held = config.finetune.frozen_encoder_epochs if stage == "finetune" else 0

    def start_epoch(epoch: int) -> None:
        if held:  # LP-FT: the encoder stays in eval mode while held
            model.encoder_held = epoch < held
        set_data_epoch(epoch)
        if mining:  # from contrastive.mining_start_epoch on
            model.set_epoch(epoch)

    return start_epoch


def _plot_curves(history: list[dict[str, float]], path: Path, title: str) -> None:
    try:
        from skeletonmae.viz.curves import plot_training_curves
    except ImportError as error:  # matplotlib missing: the run itself succeeded
        logger.warning("curves not drawn (%s)", error)
        return
    plot_training_curves(history, path, title=title)
