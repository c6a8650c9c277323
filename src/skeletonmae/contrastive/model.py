"""``ContrastiveModel``: MoCo query/key STTFormer encoders per view, projection heads and key queues.

The query encoders are the same :class:`~skeletonmae.models.encoder.SkeletonEncoder` class the
classifier holds, so the exported one (``encoder``, the ``export_view``'s query encoder) loads into
a classifier through :func:`skeletonmae.models.load_pretrained_encoder` like SkeletonMAE's.

Persons: present persons (any non-zero coordinate in the augmented joint view) are folded into the
batch and computed; absent ones are skipped and not pooled, as in the classifier.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from skeletonmae.contrastive.attention_drop import attention_drop_tuples
from skeletonmae.contrastive.config import ContrastiveConfig
from skeletonmae.contrastive.losses import (
    ContrastiveOutput,
    aimclr_loss,
    crossclr_loss,
    in_batch_validation_loss,
)
from skeletonmae.contrastive.moco import KeyQueue, ProjectionHead, copy_parameters_, momentum_update_
from skeletonmae.models.config import ModelConfig
from skeletonmae.models.encoder import SkeletonEncoder
from skeletonmae.models.persons import PackedPersons, check_input, mean_over_persons, present_persons

Pairs = Sequence[tuple[int, int]]


def pack_present(x: torch.Tensor, present: torch.Tensor) -> PackedPersons:
    """Fold the persons marked in ``present (N, M)`` of ``x (N, C, T, V, M)`` into rows ``(P, C, T, V)``."""
    sample_index, person_index = present.nonzero(as_tuple=True)  # (P,), sample-major
    rows = x.permute(0, 4, 1, 2, 3)[sample_index, person_index]  # (P, C, T, V)
    return PackedPersons(rows, sample_index, person_index, x.shape[0], x.shape[4])


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
        packed = pack_present(x_view, present)
        branch = self.key[view]
        return branch.embed(branch.feature_map(packed), packed)

    def query_embedding(self, view: str, x_view: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """``(N, projection_dim)`` normalised queries of a view batch ``(N, C, T, V, M)``."""
        packed = pack_present(x_view, present)
        branch = self.query[view]
        return branch.embed(branch.feature_map(packed), packed)

    def query_embedding_with_drop(
        self, view: str, x_view: torch.Tensor, present: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """AimCLR: one encoder pass, embeddings of the feature map and of its EADM-dropped version."""
        packed = pack_present(x_view, present)
        branch = self.query[view]
        feature_map = branch.feature_map(packed)  # (P, D, K, S)
        dropped = attention_drop_tuples(feature_map, self.model_config.tuple_len, self.config.attention_drop)
        return branch.embed(feature_map, packed), branch.embed(dropped, packed)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> ContrastiveOutput:
        """One loss of the configured method on a joint batch ``(N, C, T, V, M)``, mining as the epoch says.

        Side effects, as in MoCo: the key branches take a momentum step and the batch's keys are
        enqueued. ``generator`` drives the augmentations (None: one seeded from the global RNG).
        """
        loss = aimclr_loss if self.config.method == "aimclr" else crossclr_loss
        return loss(self, x, generator, self.mining_active)

    def validation_loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Queue-free in-batch InfoNCE of ``(N, C, T, V, M)`` (no side effects); see
        ``in_batch_validation_loss``."""
        return in_batch_validation_loss(self, x, generator)
