"""Frozen-feature probe: cosine k-NN and a linear probe on cached features of two splits.

The k-NN is :func:`~skeletonmae.inference.knn.knn_evaluate` (``k = 20`` by default). The linear
probe is MAMP's recipe: ``BatchNorm1d(D, affine=False)`` then ``Linear(D, K)`` on features computed
once with the frozen encoder, SGD lr 0.1, momentum 0.9, no weight decay, 100 epochs of batch 256,
per-step cosine decay to 0, fixed seed; it reports the final epoch's test top-1 and the best epoch's,
labelled optimistic. ``train_views = K > 1`` trains it on K augmented views of the training split
(epoch e on view ``e mod K``), as MAMP's augmenting feeder does. Feature kinds
(:data:`FEATURE_KINDS`): ``encoder``, ``random-init`` (an untrained encoder of the same config) and
``raw`` (the flattened test-transform input, the baseline every number must stand beside).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from skeletonmae.config import require
from skeletonmae.data.store import SplitArrays
from skeletonmae.data.subsets import label_fraction_indices
from skeletonmae.inference.checkpoint_model import InferenceModel
from skeletonmae.inference.features import SplitFeatures, embed_split, raw_split_features
from skeletonmae.inference.knn import KnnConfig, knn_evaluate
from skeletonmae.models.classifier import ClassificationHead, SkeletonClassifier
from skeletonmae.models.sttformer import init_sttformer_weights
from skeletonmae.run_config import FEATURE_POOLS, TransformConfig

logger = logging.getLogger(__name__)


FEATURE_KINDS = ("encoder", "random-init", "raw")


@dataclasses.dataclass(frozen=True)
class ProbeConfig:
    """Probe settings; defaults are MAMP's linear probe and a k = 20 cosine k-NN."""

    epochs: int = 100
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    seed: int = 0
    knn: KnnConfig = dataclasses.field(default_factory=lambda: KnnConfig(k=20))
    pool: str = "mean"  # encoder / random-init features: "mean" (the head's input) or "tuple"
    # few-label probes: the class-balanced subset fine-tuning labels with the same fraction and seed
    label_fraction: float = 1.0
    label_seed: int = 1
    train_views: int = 1  # K > 1: the linear probe trains on K augmented views
    linear: bool = True  # False: the k-NN alone (ProbeResult.linear is None)

    def __post_init__(self) -> None:
        require(self.epochs >= 1, "epochs", f"must be >= 1, got {self.epochs}; MAMP uses 100")
        require(
            self.batch_size >= 2,
            "batch_size",
            f"must be >= 2 (BatchNorm needs two samples), got {self.batch_size}; MAMP: 256",
        )
        require(
            math.isfinite(self.lr) and self.lr > 0,
            "lr",
            f"must be a positive number, got {self.lr}; MAMP uses 0.1",
        )
        require(0.0 <= self.momentum < 1.0, "momentum", f"must be in [0, 1), got {self.momentum}")
        require(self.weight_decay >= 0, "weight_decay", f"must be >= 0, got {self.weight_decay}")
        require(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")
        require(
            self.pool in FEATURE_POOLS, "pool", f"got {self.pool!r}; use one of {', '.join(FEATURE_POOLS)}"
        )
        require(
            self.train_views >= 1,
            "train_views",
            f"must be >= 1, got {self.train_views} (1: no augmentation; e.g. 10 augmented views)",
        )
        require(isinstance(self.linear, bool), "linear", f"got {self.linear!r}; use true or false")
        require(
            self.linear or self.train_views == 1,
            "train_views",
            f"got {self.train_views} with linear=false; augmented views only feed the linear probe",
        )
        require(
            0.0 < self.label_fraction <= 1.0,
            "label_fraction",
            f"must be in (0, 1], got {self.label_fraction} (e.g. 0.1 for 10 % of the labels)",
        )


@dataclasses.dataclass(frozen=True)
class LinearProbeResult:
    """Test top-1 (fraction) after the last epoch, and the best epoch's (optimistic: picked on
    the test split). ``history`` holds the test top-1 after every epoch."""

    final_top1: float
    best_top1: float
    best_epoch: int
    history: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """Both probes of one feature kind (``linear`` None: k-NN only); ``to_dict`` is the JSON row
    (accuracies in %; the linear keys are None without a linear probe)."""

    features: str
    feature_dim: int
    num_train: int
    num_test: int
    knn_k: int
    knn_top1: float
    knn_top5: float | None
    linear: LinearProbeResult | None

    def to_dict(self) -> dict[str, Any]:
        linear = self.linear
        return {
            "features": self.features,
            "feature_dim": self.feature_dim,
            "num_train": self.num_train,
            "num_test": self.num_test,
            "knn_k": self.knn_k,
            "knn_top1": 100 * self.knn_top1,
            "knn_top5": None if self.knn_top5 is None else 100 * self.knn_top5,
            "linear_top1": None if linear is None else 100 * linear.final_top1,
            "linear_best_top1_optimistic": None if linear is None else 100 * linear.best_top1,
            "linear_best_epoch": None if linear is None else linear.best_epoch,
        }


def build_probe_head(feature_dim: int, num_classes: int, seed: int) -> ClassificationHead:
    """``BatchNorm1d(D, affine=False)`` then ``Linear(D, K)``, initialised from ``seed`` only
    (the global random state is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head = ClassificationHead(feature_dim, num_classes, dropout=0.0, feature_norm=True)
        init_sttformer_weights(head)
    return head


def _epoch_batches(count: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Shuffled index batches; a last batch of one sample is dropped (BatchNorm needs two)."""
    batches = list(torch.randperm(count, generator=generator).split(batch_size))
    return [b for b in batches if len(b) >= 2]


@torch.no_grad()
def _top1(head: ClassificationHead, features: torch.Tensor, labels: torch.Tensor) -> float:
    head.eval()
    return float((head(features).argmax(dim=1) == labels).float().mean())


def train_linear_probe(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    num_classes: int,
    config: ProbeConfig = ProbeConfig(),
) -> LinearProbeResult:
    """Train the probe head on ``train_features`` ``(N, D)``, or ``(K, N, D)`` for K views of the
    training samples (epoch e trains on view ``e mod K``), with ``train_labels (N,)``, and report the
    test top-1 after every epoch (``test_features (M, D)``, ``test_labels (M,)``)."""
    views = torch.as_tensor(np.asarray(train_features), dtype=torch.float32)
    views = views[None] if views.ndim == 2 else views  # (K, N, D)
    x_train = views[0]
    y_train = torch.as_tensor(np.asarray(train_labels), dtype=torch.long)
    x_test = torch.as_tensor(np.asarray(test_features), dtype=torch.float32)
    y_test = torch.as_tensor(np.asarray(test_labels), dtype=torch.long)
    if len(x_train) < 2 or x_train.shape[1] != x_test.shape[1]:
        raise ValueError(
            f"linear probe: need >= 2 training rows and equal feature sizes, got "
            f"train {tuple(x_train.shape)} and test {tuple(x_test.shape)}"
        )
    head = build_probe_head(x_train.shape[1], num_classes, config.seed)
    optimizer = torch.optim.SGD(
        head.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )
    generator = torch.Generator().manual_seed(config.seed)
    steps = len(_epoch_batches(len(x_train), config.batch_size, generator))
    total = max(steps * config.epochs, 1)  # a half-cosine from the rate down to 0, per step
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step / total, 1.0)))
    )
    history = []
    for epoch in range(config.epochs):
        head.train()
        x_train = views[epoch % len(views)]
        for batch in _epoch_batches(len(x_train), config.batch_size, generator):
            loss = F.cross_entropy(head(x_train[batch]), y_train[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
        history.append(_top1(head, x_test, y_test))
    if not math.isfinite(loss.item()):
        raise FloatingPointError(f"linear probe: the training loss is {loss.item()}")
    best = int(np.argmax(history))
    return LinearProbeResult(history[-1], history[best], best + 1, tuple(history))


def probe_features(
    kind: str,
    train: SplitFeatures,
    test: SplitFeatures,
    num_classes: int,
    config: ProbeConfig = ProbeConfig(),
    train_views: np.ndarray | None = None,
) -> ProbeResult:
    """Cosine k-NN and linear probe (unless ``config.linear`` is False) of one feature kind (train
    split -> test split), trained on ``config.label_fraction`` of the training split. ``train_views``
    ``(K, N, D)``: augmented views of ``train``'s rows that the linear probe trains on instead of
    ``train.features``."""
    if train_views is not None and train_views.shape[1:] != train.features.shape:
        raise ValueError(f"train_views {train_views.shape} do not match features {train.features.shape}")
    if config.label_fraction < 1.0:  # the class-balanced subset fine-tuning would label
        rows = label_fraction_indices(train.labels, config.label_fraction, config.label_seed)
        names = tuple(train.names[i] for i in rows)
        train = SplitFeatures(train.features[rows], train.labels[rows], names, train.split)
        train_views = None if train_views is None else train_views[:, rows]
    dim = int(train.features.shape[1])
    knn = knn_evaluate(train.features, train.labels, test.features, test.labels, num_classes, config.knn)
    linear = None
    if config.linear:
        linear_features = train.features if train_views is None else train_views
        linear = train_linear_probe(
            linear_features, train.labels, test.features, test.labels, num_classes, config
        )
        top1, best = 100 * linear.final_top1, 100 * linear.best_top1
        logger.info("probe %s (D=%d): linear top-1 %.2f %% (best %.2f %%)", kind, dim, top1, best)
    return ProbeResult(kind, dim, len(train.labels), len(test.labels), knn.k, knn.top1, knn.top5, linear)


def random_init_model(model: InferenceModel, seed: int = 0) -> InferenceModel:
    """``model`` with a freshly initialised classifier of the same config (eval mode)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        classifier = SkeletonClassifier(model.model_config)
    return dataclasses.replace(model, classifier=classifier.to(model.device).eval(), has_head=False)


def probe_splits(
    kinds: tuple[str, ...],
    train: SplitArrays,
    test: SplitArrays,
    model: InferenceModel | None,
    transform: TransformConfig,
    num_classes: int,
    config: ProbeConfig = ProbeConfig(),
    batch_size: int = 64,
) -> list[ProbeResult]:
    """One :class:`ProbeResult` per feature kind in ``kinds`` (:data:`FEATURE_KINDS`): ``raw`` reads
    ``transform``, ``encoder`` / ``random-init`` need ``model`` (and use its transform). Features are
    computed once per split, kind and augmented training view, without gradients."""
    results = []
    for kind in kinds:
        features = _feature_source(kind, model, transform, config, batch_size)
        views = None
        if config.train_views > 1:
            views = np.stack([features(train, view).features for view in range(config.train_views)])
        results.append(
            probe_features(kind, features(train, None), features(test, None), num_classes, config, views)
        )
    return results


def _feature_source(
    kind: str, model: InferenceModel | None, transform: TransformConfig, config: ProbeConfig, batch_size: int
) -> Callable[[SplitArrays, int | None], SplitFeatures]:
    """``(split, view) -> SplitFeatures`` of one feature kind (``view``: see :func:`embed_split`)."""
    if kind not in FEATURE_KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; choose from {', '.join(FEATURE_KINDS)}")
    if kind == "raw":
        return lambda split, view: raw_split_features(split, transform, view=view)
    if model is None:
        raise ValueError(f"{kind} features need a checkpoint; pass CHECKPOINT")
    encoder = random_init_model(model, config.seed) if kind == "random-init" else model
    return lambda split, view: embed_split(encoder, split, batch_size, config.pool, view)
