"""``ContrastiveModel``: CrosSCLR or AimCLR on the STTFormer encoder; ``forward(x) -> loss``.

The model holds MoCo query / key STTFormer encoders per view, projection heads and key queues,
and computes its method's loss itself, as :class:`~skeletonmae.models.mae.SkeletonMAE` does:

* AimCLR (one view): ``q`` from a normal augmentation, ``q_e`` from an extreme one and ``q_ed``
  from the same extreme pass after EADM; the key ``k`` from another normal augmentation.
  ``loss = NCE(q) + (D3M(q_e) + D3M(q_ed)) / 2``, where D3M is the cross-entropy of the extreme
  queries' distributions over {k, queue} against the normal query's; NCE is InfoNCE before
  ``mining_start_epoch`` and the multi-positive NCE with nearest-neighbour positives from then on.
* CrosSCLR (joint, motion, bone): per view, a query and a key from two normal augmentations of the
  joint sequence, turned into that view. ``loss = sum_v InfoNCE_v`` before ``mining_start_epoch``,
  then ``sum_v mean_{u != v} NCE(v with u's positives)`` (cross-view consistent knowledge mining).

The query encoders are the same :class:`~skeletonmae.models.encoder.SkeletonEncoder` class the
classifier holds, so the exported one (``encoder``, the ``export_view``'s query encoder) loads into
a classifier through :func:`skeletonmae.models.load_pretrained_encoder` like SkeletonMAE's.

Persons: present persons (any non-zero coordinate in the augmented joint view) are folded into the
batch and computed; absent ones are skipped and not pooled, as in the classifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from skeletonmae.contrastive.attention_drop import attention_drop_tuples
from skeletonmae.contrastive.augmentations import extreme_augment, normal_augment
from skeletonmae.contrastive.mining import (
    QueueSimilarities,
    cross_view_losses,
    nearest_neighbour_positive_mask,
)
from skeletonmae.contrastive.moco import (
    KeyQueue,
    ProjectionHead,
    contrastive_logits,
    copy_parameters_,
    distribution_divergence_loss,
    info_nce_loss,
    momentum_update_,
    multi_positive_nce_loss,
)
from skeletonmae.contrastive.views import make_view
from skeletonmae.models.encoder import SkeletonEncoder
from skeletonmae.models.persons import (
    PackedPersons,
    check_input,
    mean_over_persons,
    pack_persons,
    present_persons,
)
from skeletonmae.run_config import ContrastiveConfig, ModelConfig

Pairs = Sequence[tuple[int, int]]


class ContrastiveOutput(NamedTuple):
    """Result of one contrastive forward.

    Attributes:
        loss: the scalar to back-propagate.
        terms: detached scalar parts of the loss for logging (e.g. ``nce``, ``d3m``, ``nce_motion``);
            tensors, so reading them (and syncing a GPU) is the caller's choice.
    """

    loss: torch.Tensor
    terms: dict[str, torch.Tensor]


def default_generator(generator: torch.Generator | None) -> torch.Generator:
    """The given generator, or a CPU one seeded from the global RNG (reproducible under a global seed)."""
    if generator is not None:
        return generator
    return torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,))))


class ViewBranch(nn.Module):
    """One view's query side: encoder + projection head. Its key side is a frozen copy."""

    def __init__(self, model_config: ModelConfig, projection_dim: int, mlp: bool) -> None:
        super().__init__()
        self.encoder = SkeletonEncoder(model_config)
        self.projection = ProjectionHead(model_config.feature_dim, projection_dim, mlp)

    def feature_map(self, packed: PackedPersons) -> torch.Tensor:
        """Present persons -> ``(P, D, T/L, L*V)`` last feature map."""
        return self.encoder(packed.data)

    def embed(self, feature_map: torch.Tensor, packed: PackedPersons) -> torch.Tensor:
        """``(P, D, K, S)`` feature map -> ``(N, projection_dim)`` L2-normalised embedding."""
        pooled = mean_over_persons(feature_map.mean(dim=(2, 3)), packed)  # (N, D)
        return F.normalize(self.projection(pooled), dim=1)


class ContrastiveModel(nn.Module):
    """Query branches (trained), key branches (momentum copies) and one key queue per view.

    Args:
        model_config: the STTFormer encoder config (the same one fine-tuning builds the classifier with).
        config: the contrastive method and its hyper-parameters.
        left_right: the layout's left/right joint pairs (AimCLR's spatial flip).
        parents: the layout's parent of every joint, the root its own (CrosSCLR's bone view).
        generator: seeds the random initial queue keys (weights follow the global seed, as elsewhere).
    """

    def __init__(
        self,
        model_config: ModelConfig,
        config: ContrastiveConfig,
        left_right: Pairs,
        parents: Sequence[int],
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.model_config = model_config
        self.config = config
        self.left_right = tuple(tuple(pair) for pair in left_right)
        if len(parents) != model_config.num_joints:
            raise ValueError(
                f"ContrastiveModel: {len(parents)} joint parents for num_joints="
                f"{model_config.num_joints}; pass the dataset layout's parents"
            )
        self.register_buffer("parents", torch.as_tensor(parents, dtype=torch.long), persistent=False)
        views = config.model_views
        self.query = nn.ModuleDict(
            {v: ViewBranch(model_config, config.projection_dim, config.mlp_projection) for v in views}
        )
        self.key = nn.ModuleDict(
            {v: ViewBranch(model_config, config.projection_dim, config.mlp_projection) for v in views}
        )
        for view in views:
            copy_parameters_(self.key[view], self.query[view])
        self.queues = nn.ModuleDict(
            {v: KeyQueue(config.queue_size, config.projection_dim, generator) for v in views}
        )
        self.epoch = 0

    @property
    def encoder(self) -> SkeletonEncoder:
        """The exported encoder: the ``export_view``'s query encoder (what fine-tuning loads)."""
        return self.query[self.config.export_view].encoder

    def encoder_state_dict(self) -> dict[str, torch.Tensor]:
        """The exported encoder's weights, keys as in ``SkeletonClassifier.encoder.state_dict()``."""
        return {k: v.detach().clone() for k, v in self.encoder.state_dict().items()}

    def set_epoch(self, epoch: int) -> None:
        """Tell the model the (0-based) epoch, which switches mining on at ``config.mining_start_epoch``."""
        self.epoch = int(epoch)

    @property
    def mining_active(self) -> bool:
        return self.epoch >= self.config.mining_start_epoch

    def present(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, M)`` bool present persons of a joint-coordinate batch (after checking its layout)."""
        check_input(x, self.model_config)
        return present_persons(x)

    @torch.no_grad()
    def update_key_branches(self) -> None:
        """Momentum update of every view's key encoder and head from its query side."""
        for view in self.query:
            momentum_update_(self.key[view], self.query[view], self.config.momentum)

    @torch.no_grad()
    def key_embedding(self, view: str, x_view: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """``(N, projection_dim)`` normalised keys of a view batch ``(N, C, T, V, M)``."""
        packed = pack_persons(x_view, present)
        branch = self.key[view]
        return branch.embed(branch.feature_map(packed), packed)

    def query_embedding(self, view: str, x_view: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """``(N, projection_dim)`` normalised queries of a view batch ``(N, C, T, V, M)``."""
        packed = pack_persons(x_view, present)
        branch = self.query[view]
        return branch.embed(branch.feature_map(packed), packed)

    def query_embedding_with_drop(
        self, view: str, x_view: torch.Tensor, present: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """AimCLR: one encoder pass, embeddings of the feature map and of its EADM-dropped version."""
        packed = pack_persons(x_view, present)
        branch = self.query[view]
        feature_map = branch.feature_map(packed)  # (P, D, K, S)
        dropped = attention_drop_tuples(feature_map, self.model_config.tuple_len, self.config.attention_drop)
        return branch.embed(feature_map, packed), branch.embed(dropped, packed)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> ContrastiveOutput:
        """The configured method's loss on a joint batch ``(N, C, T, V, M)``, mining as the epoch
        (:meth:`set_epoch`) says. Side effects, as in MoCo: the key branches take a momentum step
        and the batch's keys are enqueued. ``generator`` drives the augmentations (None: one
        seeded from the global RNG)."""
        present = self.present(x)  # (N, M)
        generator = default_generator(generator)
        if self.config.method == "aimclr":
            return self._aimclr_loss(x, present, generator)
        return self._crossclr_loss(x, present, generator)

    def _aimclr_loss(
        self, x: torch.Tensor, present: torch.Tensor, generator: torch.Generator
    ) -> ContrastiveOutput:
        """AimCLR on the view ``config.export_view``."""
        config, view = self.config, self.config.export_view
        normal_query = normal_augment(x, config.augmentation, generator)
        normal_key = normal_augment(x, config.augmentation, generator)
        extreme = extreme_augment(x, config.augmentation, self.left_right, generator)
        query = self.query_embedding(view, make_view(normal_query, view, self.parents), present)  # (N, D)
        query_extreme, query_dropped = self.query_embedding_with_drop(
            view, make_view(extreme, view, self.parents), present
        )
        self.update_key_branches()
        key = self.key_embedding(view, make_view(normal_key, view, self.parents), present)
        queue_keys = self.queues[view].keys.clone()  # (K, D) snapshot: the queue changes below
        logits, negative = contrastive_logits(query, key, queue_keys, config.temperature)
        logits_extreme, negative_extreme = contrastive_logits(
            query_extreme, key, queue_keys, config.temperature
        )
        logits_dropped, negative_dropped = contrastive_logits(
            query_dropped, key, queue_keys, config.temperature
        )
        if self.mining_active:
            positives = nearest_neighbour_positive_mask(
                [negative, negative_extreme, negative_dropped], config.topk
            )
            nce = multi_positive_nce_loss(logits, positives)
        else:
            nce = info_nce_loss(logits)
        d3m = (
            distribution_divergence_loss(logits_extreme, logits)
            + distribution_divergence_loss(logits_dropped, logits)
        ) / 2
        self.queues[view].enqueue(key)
        return ContrastiveOutput(nce + d3m, {"nce": nce.detach(), "d3m": d3m.detach()})

    def _crossclr_loss(
        self, x: torch.Tensor, present: torch.Tensor, generator: torch.Generator
    ) -> ContrastiveOutput:
        """CrosSCLR over ``config.views``."""
        config = self.config
        query_joints = normal_augment(x, config.augmentation, generator)
        key_joints = normal_augment(x, config.augmentation, generator)
        queries = {
            v: self.query_embedding(v, make_view(query_joints, v, self.parents), present)
            for v in config.views
        }
        self.update_key_branches()
        keys = {
            v: self.key_embedding(v, make_view(key_joints, v, self.parents), present) for v in config.views
        }
        logits, similarities = {}, {}
        for view in config.views:
            queue_keys = self.queues[view].keys.clone()  # (K, D) snapshot: the queue changes below
            logits[view], negative = contrastive_logits(
                queries[view], keys[view], queue_keys, config.temperature
            )
            positive = (queries[view] * keys[view]).sum(dim=1, keepdim=True)  # (B, 1)
            similarities[view] = QueueSimilarities(positive, negative)
        if self.mining_active:
            per_view = cross_view_losses(
                similarities, config.topk, config.temperature, config.cross_view_context
            )
        else:
            per_view = {view: info_nce_loss(logits[view]) for view in config.views}
        for view in config.views:
            self.queues[view].enqueue(keys[view])
        loss = torch.stack(list(per_view.values())).sum()
        return ContrastiveOutput(loss, {f"nce_{view}": value.detach() for view, value in per_view.items()})

    def validation_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Queue-free InfoNCE of ``x (N, C, T, V, M)``: each query against the keys of the same
        batch, summed over the trained views.

        Two normal augmentations give queries (query branch) and keys (key branch); sample ``i``'s
        key is its positive, the other samples' keys its negatives. No mining, no momentum step, no
        enqueue: unlike the training loss it does not depend on what the queue holds, so it is
        comparable from epoch to epoch (a queue of random initial keys makes the training loss
        small early on).
        """
        present = self.present(x)  # (N, M)
        generator = default_generator(generator)
        query_joints = normal_augment(x, self.config.augmentation, generator)
        key_joints = normal_augment(x, self.config.augmentation, generator)
        targets = torch.arange(x.shape[0], device=x.device)
        total = x.new_zeros(())
        for view in self.query:
            query = self.query_embedding(view, make_view(query_joints, view, self.parents), present)  # (N, D)
            key = self.key_embedding(view, make_view(key_joints, view, self.parents), present)  # (N, D)
            total = total + F.cross_entropy(query @ key.t() / self.config.temperature, targets)
        return total
