"""Moving pre-trained encoder weights into a classifier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch

from skeletonmae.models.classifier import SkeletonClassifier


class EncoderLoadReport(NamedTuple):
    """What :func:`load_pretrained_encoder` did: keys loaded, keys ignored (the decoder's) and
    keys left at their initial values (the head's)."""

    loaded: tuple[str, ...]
    ignored: tuple[str, ...]
    missing: tuple[str, ...]


def load_pretrained_encoder(
    classifier: SkeletonClassifier, state_dict: Mapping[str, torch.Tensor]
) -> EncoderLoadReport:
    """Copy pre-trained encoder weights, a :class:`SkeletonMAE` state dict (``encoder.*`` and
    ``decoder.*``, optionally all under DDP's ``module.``) or an encoder-only one, into
    ``classifier``. Unless the keys left out are exactly the head's and the ignored ones exactly
    the decoder's, and every shape matches, it raises ValueError before copying anything."""
    weights = dict(state_dict)
    if weights and all(k.startswith("module.") for k in weights):
        weights = {k.removeprefix("module."): v for k, v in weights.items()}
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
            f"pre-trained state dict: the keys left out should be exactly the head's {head_keys}, but "
            f"{other[:5]} differ (missing encoder weights, or a classifier checkpoint with a head); "
            "pass a SkeletonMAE or encoder state dict built with the same ModelConfig"
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
                f"pre-trained state dict: {key} has shape {tuple(weights[key].shape)}, the classifier "
                f"expects {tuple(own[key].shape)}; build the classifier with the pre-training "
                "ModelConfig (stages, num_frames, tuple_len, num_joints)"
            )
    classifier.load_state_dict(weights, strict=False)
    loaded = tuple(sorted(set(own) & set(weights)))
    return EncoderLoadReport(loaded, tuple(decoder_keys), tuple(head_keys))
