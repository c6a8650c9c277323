"""Nearest-neighbour (AimCLR) and cross-view (CrosSCLR) positives on hand-made similarities."""

from __future__ import annotations

import pytest
import torch

from skeletonmae.contrastive.mining import (
    QueueSimilarities,
    cross_view_logits_and_mask,
    cross_view_losses,
    nearest_neighbour_positive_mask,
    top_k_mask,
)
from skeletonmae.contrastive.moco import contrastive_logits, multi_positive_nce_loss

# Two queries, a queue of 5 keys. Rows are queries; columns queue slots.
JOINT = torch.tensor([[0.9, 0.1, 0.3, -0.2, 0.0], [0.0, 0.2, 0.1, 0.8, 0.7]])
MOTION = torch.tensor([[0.1, 0.2, 0.95, 0.0, 0.4], [0.6, 0.0, 0.1, 0.2, 0.3]])
BONE = torch.tensor([[0.0, 0.7, 0.1, 0.2, 0.3], [0.1, 0.1, 0.1, 0.1, 0.9]])


def test_top_k_mask_marks_the_largest_entries() -> None:
    assert torch.equal(top_k_mask(JOINT, 1), torch.tensor([[1.0, 0, 0, 0, 0], [0, 0, 0, 1, 0]]))
    assert torch.equal(top_k_mask(JOINT, 2), torch.tensor([[1.0, 0, 1, 0, 0], [0, 0, 0, 1, 1]]))
    with pytest.raises(ValueError, match="queue size"):
        top_k_mask(JOINT, 6)


def test_nearest_neighbour_positives_are_the_union_of_the_three_queries_top_k() -> None:
    # AimCLR: normal query (JOINT), extreme (MOTION), dropped extreme (BONE) similarities.
    mask = nearest_neighbour_positive_mask([JOINT, MOTION, BONE], k=1)
    expected = torch.tensor(
        [
            [1.0, 1, 1, 1, 0, 0],  # own key + slots 0, 2, 1
            [1.0, 1, 0, 0, 1, 1],
        ]
    )  # own key + slots 3, 0, 4
    assert torch.equal(mask, expected)
    assert torch.equal(nearest_neighbour_positive_mask([JOINT], k=1)[:, 0], torch.ones(2))


def test_nearest_neighbour_mining_end_to_end_on_embeddings() -> None:
    # Query 0 is closest to queue slot 3, query 1 to slot 0: these become their mined positives.
    queue = torch.eye(4)
    query = torch.nn.functional.normalize(torch.tensor([[0.1, 0.2, 0.0, 0.9], [0.8, 0.1, 0.3, 0.0]]), dim=1)
    key = query.clone()
    logits, negative = contrastive_logits(query, key, queue, temperature=0.07)
    mask = nearest_neighbour_positive_mask([negative], k=1)
    assert torch.equal(mask, torch.tensor([[1.0, 0, 0, 0, 1], [1.0, 1, 0, 0, 0]]))
    wrong = torch.tensor([[1.0, 1, 0, 0, 0], [1.0, 0, 0, 0, 1]])  # the farthest slots as "neighbours"
    assert multi_positive_nce_loss(logits, mask) < multi_positive_nce_loss(logits, wrong)


def sims(negative: torch.Tensor, positive: float = 0.5) -> QueueSimilarities:
    return QueueSimilarities(positive=torch.full((negative.shape[0], 1), positive), negative=negative)


def test_cross_view_positives_come_from_the_other_view() -> None:
    logits, mask = cross_view_logits_and_mask(sims(JOINT), sims(MOTION), k=1, temperature=0.1, context=False)
    # joint's positives are motion's nearest neighbours: slot 2 for query 0, slot 0 for query 1
    assert torch.equal(mask, torch.tensor([[1.0, 0, 0, 1, 0, 0], [1.0, 1, 0, 0, 0, 0]]))
    assert torch.allclose(logits, torch.cat([torch.full((2, 1), 0.5), JOINT], 1) / 0.1)


def test_cross_view_context_appends_similarity_products_with_the_same_positives() -> None:
    logits, mask = cross_view_logits_and_mask(sims(MOTION), sims(BONE), k=1, temperature=0.1, context=True)
    assert logits.shape == (2, 11) and mask.shape == (2, 11)
    assert torch.allclose(logits[:, 6:], MOTION * BONE / 0.1)
    mined = torch.tensor([[0.0, 1, 0, 0, 0], [0, 0, 0, 0, 1]])  # bone's top-1: slots 1 and 4
    assert torch.equal(mask, torch.cat([torch.ones(2, 1), mined, mined], 1))


def test_cross_view_losses_average_over_the_other_views() -> None:
    views = {"joint": sims(JOINT, 0.9), "motion": sims(MOTION, 0.8), "bone": sims(BONE, 0.7)}
    losses = cross_view_losses(views, k=1, temperature=0.1, context=True)
    assert set(losses) == {"joint", "motion", "bone"}
    jm = multi_positive_nce_loss(*cross_view_logits_and_mask(views["joint"], views["motion"], 1, 0.1, True))
    jb = multi_positive_nce_loss(*cross_view_logits_and_mask(views["joint"], views["bone"], 1, 0.1, True))
    assert torch.allclose(losses["joint"], (jm + jb) / 2)
    with pytest.raises(ValueError, match="two views"):
        cross_view_losses({"joint": views["joint"]}, 1, 0.1, True)
