"""Moving pre-trained encoder weights into a classifier, and freezing them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch

from skeletonmae.models.classifier import SkeletonClassifier

_DATA_PARALLEL_PREFIX = "module."


class EncoderLoadReport(NamedTuple):
    """What :func:`load_pretrained_encoder` did: keys loaded, keys ignored (the decoder's) and
    keys left at their initial values (the head's)."""

    loaded: tuple[str, ...]
    ignored: tuple[str, ...]
    missing: tuple[str, ...]


def load_pretrained_encoder(
    classifier: SkeletonClassifier, state_dict: Mapping[str, torch.Tensor]
) -> EncoderLoadReport:
    """Copy pre-trained encoder weights into ``classifier``.

    ``state_dict`` is a :class:`SkeletonMAE` state dict (keys ``encoder.*`` and ``decoder.*``,
    optionally all under ``module.``) or an encoder-only one (the keys of
    ``classifier.encoder.state_dict()``). The keys left out must be exactly the head's and the
    ignored ones exactly the decoder's; anything else (and any shape mismatch) raises ValueError
    before a single weight is copied.
    """
    weights = dict(state_dict)
    if weights and all(k.startswith(_DATA_PARALLEL_PREFIX) for k in weights):
        weights = {k[len(_DATA_PARALLEL_PREFIX) :]: v for k, v in weights.items()}
    if not any(k.startswith("encoder.") for k in weights):
        weights = {f"encoder.{k}": v for k, v in weights.items()}
    own = classifier.state_dict()
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    head_keys = sorted(k for k in own if k.startswith("head."))
    decoder_keys = sorted(k for k in weights if k.startswith("decoder.") or k == "mask_token")
    if missing != head_keys:
        other = [k for k in missing if k not in head_keys] or [k for k in head_keys if k not in missing]
        raise ValueError(
            f"pre-trained state dict: the keys left out should be exactly the head's {head_keys}, "
            f"but {other[:5]} differ (missing encoder weights, or a classifier checkpoint with a "
            "head); pass a SkeletonMAE or encoder state dict built with the same ModelConfig"
        )
    if unexpected != decoder_keys:
        other = [k for k in unexpected if k not in decoder_keys]
        raise ValueError(
            f"pre-trained state dict: unexpected keys {other[:5]} (only decoder.* keys and the "
            "pre-training mask_token may be ignored); pass a SkeletonMAE or encoder state dict"
        )
    for key in sorted(set(own) & set(weights)):
        if tuple(own[key].shape) != tuple(weights[key].shape):
            raise ValueError(
                f"pre-trained state dict: {key} has shape {tuple(weights[key].shape)}, the "
                f"classifier expects {tuple(own[key].shape)}; build the classifier with the "
                "pre-training ModelConfig (stages, num_frames, tuple_len, num_joints)"
            )
    classifier.load_state_dict(weights, strict=False)
    loaded = tuple(sorted(set(own) & set(weights)))
    return EncoderLoadReport(loaded, tuple(decoder_keys), tuple(head_keys))


def freeze_encoder(classifier: SkeletonClassifier) -> SkeletonClassifier:
    """Linear evaluation: freeze the encoder (no gradients, eval-mode BatchNorm); only
    ``classifier.head`` stays trainable. Returns the classifier."""
    classifier.freeze_encoder()
    return classifier
