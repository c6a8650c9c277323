"""``ContrastiveModel``: CrosSCLR or AimCLR on the STTFormer encoder; ``forward(x) -> loss``.

MoCo query / key encoders, projection heads and a key queue per view; the model computes its
method's loss itself, as :class:`~skeletonmae.models.mae.SkeletonMAE` does:

* AimCLR (one view): ``q`` from a normal augmentation, ``q_e`` from an extreme one and ``q_ed``
  from the same extreme pass after EADM; the key ``k`` from another normal augmentation.
  ``loss = NCE(q) + (D3M(q_e) + D3M(q_ed)) / 2``, where D3M is the cross-entropy of the extreme
  queries' distributions over {k, queue} against the normal query's; NCE is InfoNCE before
  ``mining_start_epoch`` and the multi-positive NCE with nearest-neighbour positives from then on.
* CrosSCLR (joint, motion, bone): per view, a query and a key from two normal augmentations of the
  joint sequence, turned into that view. ``loss = sum_v InfoNCE_v`` before ``mining_start_epoch``,
  then ``sum_v mean_{u != v} NCE(v with u's positives)`` (cross-view consistent knowledge mining).

The query encoders are the classifier's :class:`~skeletonmae.models.encoder.SkeletonEncoder`, so the
exported one (``encoder``: the ``export_view``'s) loads through ``load_pretrained_encoder`` like
SkeletonMAE's. Only present persons are computed and pooled, as in the classifier.
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
    """The scalar ``loss`` to back-propagate and its detached parts, ``terms`` (``nce``, ``d3m``,
    ``nce_motion``, ...), kept as tensors: reading them (and syncing a GPU) is the caller's choice."""

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

    def embed(self, feature_map: torch.Tensor, packed: PackedPersons) -> torch.Tensor:
        """``(P, D, K, S)`` feature map -> ``(N, projection_dim)`` L2-normalised embedding."""
        pooled = mean_over_persons(feature_map.mean(dim=(2, 3)), packed)  # (N, D)
        return F.normalize(self.projection(pooled), dim=1)


class ContrastiveModel(nn.Module):
    """Query branches (trained), key branches (momentum copies) and one key queue per view, for a
    layout's ``left_right`` joint pairs (AimCLR's spatial flip) and joint ``parents`` (the root its
    own; CrosSCLR's bone view). ``generator`` seeds the initial queue keys; weights follow the
    global seed, as elsewhere."""

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

    def embedding(self, side: str, view: str, joints: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """``(N, projection_dim)`` normalised embeddings of ``view`` of a joint batch ``(N, C, T, V, M)``
        by the ``"query"`` branch, or by the ``"key"`` branch without gradient."""
        packed = pack_persons(make_view(joints, view, self.parents), present)
        branch = self.query[view] if side == "query" else self.key[view]
        with torch.set_grad_enabled(side == "query" and torch.is_grad_enabled()):
            return branch.embed(branch.encoder(packed.data), packed)

    def query_embedding_with_drop(
        self, view: str, joints: torch.Tensor, present: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """AimCLR: one encoder pass, embeddings of the feature map and of its EADM-dropped version."""
        packed = pack_persons(make_view(joints, view, self.parents), present)
        branch = self.query[view]
        feature_map = branch.encoder(packed.data)  # (P, D, K, S)
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
        query = self.embedding("query", view, normal_query, present)  # (N, D)
        query_extreme, query_dropped = self.query_embedding_with_drop(view, extreme, present)
        self.update_key_branches()
        key = self.embedding("key", view, normal_key, present)
        queue_keys = self.queues[view].keys.clone()  # (K, D) snapshot: the queue changes below
        scored = [
            contrastive_logits(q, key, queue_keys, config.temperature)
            for q in (query, query_extreme, query_dropped)
        ]
        (logits, _), (logits_extreme, _), (logits_dropped, _) = scored  # (B, 1+K) each
        if self.mining_active:
            positives = nearest_neighbour_positive_mask([negative for _, negative in scored], config.topk)
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
        queries = {v: self.embedding("query", v, query_joints, present) for v in config.views}
        self.update_key_branches()
        keys = {v: self.embedding("key", v, key_joints, present) for v in config.views}
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
        """Queue-free InfoNCE of ``x (N, C, T, V, M)`` summed over the trained views: queries and
        keys of two normal augmentations, sample ``i``'s key its positive, the batch's other keys
        its negatives. No mining, momentum step or enqueue, so unlike the training loss it does not
        depend on what the queue holds and compares from epoch to epoch."""
        present = self.present(x)  # (N, M)
        generator = default_generator(generator)
        query_joints = normal_augment(x, self.config.augmentation, generator)
        key_joints = normal_augment(x, self.config.augmentation, generator)
        targets = torch.arange(x.shape[0], device=x.device)
        total = x.new_zeros(())
        for view in self.query:
            query = self.embedding("query", view, query_joints, present)  # (N, D)
            key = self.embedding("key", view, key_joints, present)  # (N, D)
            total = total + F.cross_entropy(query @ key.t() / self.config.temperature, targets)
        return total
