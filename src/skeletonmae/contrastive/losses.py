"""The two methods' losses on one batch, written against :class:`ContrastiveModel`.

AimCLR (one view): ``q`` from a normal augmentation, ``q_e`` from an extreme one and ``q_ed`` from
the same extreme pass after EADM; the key ``k`` from another normal augmentation.
``loss = NCE(q) + (D3M(q_e) + D3M(q_ed)) / 2`` where D3M is the cross-entropy of the extreme
queries' distributions over {k, queue} against the normal query's; NCE is InfoNCE before
``mining_start_epoch`` and the multi-positive NCE with nearest-neighbour positives from then on.

CrosSCLR (joint, motion, bone): per view, a query and a key from two normal augmentations of the
joint sequence, turned into that view. ``loss = sum_v InfoNCE_v`` before ``mining_start_epoch``,
then ``sum_v mean_{u != v} NCE(v with u's positives)`` (cross-view consistent knowledge mining).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import torch
import torch.nn.functional as F

from skeletonmae.contrastive.augmentations import extreme_augment, normal_augment
from skeletonmae.contrastive.mining import (
    QueueSimilarities,
    cross_view_losses,
    nearest_neighbour_positive_mask,
)
from skeletonmae.contrastive.moco import (
    contrastive_logits,
    distribution_divergence_loss,
    info_nce_loss,
    multi_positive_nce_loss,
)
from skeletonmae.contrastive.views import make_view

if TYPE_CHECKING:
    from skeletonmae.contrastive.model import ContrastiveModel


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


def _similarities(
    query: torch.Tensor, key: torch.Tensor, queue_keys: torch.Tensor, temperature: float
) -> tuple[torch.Tensor, QueueSimilarities]:
    """Logits ``(B, 1+K)`` and raw similarities of normalised queries against their keys and the queue."""
    logits, negative = contrastive_logits(query, key, queue_keys, temperature)
    positive = (query * key).sum(dim=1, keepdim=True)  # (B, 1)
    return logits, QueueSimilarities(positive, negative)


def aimclr_loss(
    model: ContrastiveModel, x: torch.Tensor, generator: torch.Generator | None, mining: bool
) -> ContrastiveOutput:
    """AimCLR on a joint batch ``x (N, C, T, V, M)``; the view trained is ``config.export_view``.

    ``mining`` switches on nearest-neighbour positives. Side effects, as in MoCo: the key branch
    takes a momentum step and the batch's keys are enqueued.
    """
    config, view = model.config, model.config.export_view
    present = model.present(x)  # (N, M)
    generator = default_generator(generator)
    normal_query = normal_augment(x, config.augmentation, generator)
    normal_key = normal_augment(x, config.augmentation, generator)
    extreme = extreme_augment(x, config.augmentation, model.left_right, generator)

    def as_view(batch: torch.Tensor) -> torch.Tensor:
        return make_view(batch, view, model.parents)

    query = model.query_embedding(view, as_view(normal_query), present)  # (N, D)
    query_extreme, query_dropped = model.query_embedding_with_drop(view, as_view(extreme), present)
    model.update_key_branches()
    key = model.key_embedding(view, as_view(normal_key), present)
    queue_keys = model.queues[view].keys.clone()  # (K, D) snapshot: the queue changes below

    logits, negative = contrastive_logits(query, key, queue_keys, config.temperature)
    logits_extreme, negative_extreme = contrastive_logits(query_extreme, key, queue_keys, config.temperature)
    logits_dropped, negative_dropped = contrastive_logits(query_dropped, key, queue_keys, config.temperature)
    if mining:
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
    model.queues[view].enqueue(key)
    return ContrastiveOutput(nce + d3m, {"nce": nce.detach(), "d3m": d3m.detach()})


def crossclr_loss(
    model: ContrastiveModel, x: torch.Tensor, generator: torch.Generator | None, mining: bool
) -> ContrastiveOutput:
    """CrosSCLR on a joint batch ``x (N, C, T, V, M)`` over ``config.views``.

    ``mining`` switches on cross-view positives. Side effects, as in MoCo: the key branches take a
    momentum step and the batch's keys are enqueued.
    """
    config = model.config
    present = model.present(x)  # (N, M)
    generator = default_generator(generator)
    query_joints = normal_augment(x, config.augmentation, generator)
    key_joints = normal_augment(x, config.augmentation, generator)

    queries = {
        v: model.query_embedding(v, make_view(query_joints, v, model.parents), present) for v in config.views
    }
    model.update_key_branches()
    keys = {v: model.key_embedding(v, make_view(key_joints, v, model.parents), present) for v in config.views}
    logits, similarities = {}, {}
    for view in config.views:
        queue_keys = model.queues[view].keys.clone()  # (K, D) snapshot: the queue changes below
        logits[view], similarities[view] = _similarities(
            queries[view], keys[view], queue_keys, config.temperature
        )

    if mining:
        per_view = cross_view_losses(similarities, config.topk, config.temperature, config.cross_view_context)
    else:
        per_view = {view: info_nce_loss(logits[view]) for view in config.views}
    for view in config.views:
        model.queues[view].enqueue(keys[view])
    loss = torch.stack(list(per_view.values())).sum()
    return ContrastiveOutput(loss, {f"nce_{view}": value.detach() for view, value in per_view.items()})


def in_batch_validation_loss(
    model: ContrastiveModel, x: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """Queue-free InfoNCE: each query against the keys of the same batch, summed over the trained views.

    Two normal augmentations of ``x (N, C, T, V, M)`` give queries (query branch) and keys (key
    branch); sample ``i``'s key is its positive, the other samples' keys its negatives. No mining,
    no momentum step, no enqueue: unlike the training loss it does not depend on what the queue
    holds, so it is comparable from epoch to epoch (a queue of random initial keys makes the
    training loss small early on).
    """
    config = model.config
    present = model.present(x)  # (N, M)
    generator = default_generator(generator)
    query_joints = normal_augment(x, config.augmentation, generator)
    key_joints = normal_augment(x, config.augmentation, generator)
    targets = torch.arange(x.shape[0], device=x.device)
    total = x.new_zeros(())
    for view in model.query:
        query = model.query_embedding(view, make_view(query_joints, view, model.parents), present)  # (N, D)
        key = model.key_embedding(view, make_view(key_joints, view, model.parents), present)  # (N, D)
        total = total + F.cross_entropy(query @ key.t() / config.temperature, targets)
    return total
