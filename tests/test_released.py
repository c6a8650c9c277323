"""The shipped pre-trained weights load by name and agree with their model card."""

from __future__ import annotations

import hashlib

import pytest
import torch

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.released import RELEASE_DIR, read_card, released_names
from skeletonmae.run_config import run_config_from_mapping


@pytest.mark.parametrize("name", released_names())
def test_a_release_matches_its_card(name):
    facts, text = read_card(name)
    path = RELEASE_DIR / facts["file"]
    assert facts["name"] == name and path.stat().st_size <= 10 * 2**20  # shipped in the package: <= 10 MB
    assert hashlib.sha256(path.read_bytes()).hexdigest() == facts["sha256"]
    payload = load_checkpoint(name)  # by name, as finetune.pretrained and the commands take it
    config = run_config_from_mapping(dict(payload["config"]))
    assert payload["stage"] == facts["stage"] == "pretrain"
    assert payload["extra"]["layout"] == facts["layout"] and payload["extra"]["channels"] == facts["channels"]
    for key, value in facts["transform"].items():
        assert getattr(config.data.transform, key) == value, key
    assert config.model.num_frames == facts["frames"] and config.model.num_persons == facts["persons"]
    # encoder and decoder are both there: the weights rebuild the whole masked autoencoder
    model = SkeletonMAE(config.model, config.mask)
    model.load_state_dict(payload["model"])
    counts = {
        part: sum(p.numel() for n, p in model.named_parameters() if n.startswith(f"{part}."))
        for part in ("encoder", "decoder")
    }
    assert counts == facts["parameters"]
    assert "non-commercial" in facts["licence"] and facts["command"] in text
    with torch.no_grad():  # and they reconstruct
        x = torch.randn(2, config.model.in_channels, config.model.num_frames, config.model.num_joints, 1)
        assert torch.isfinite(model(x, generator=torch.Generator().manual_seed(0)).loss)


def test_the_default_release_is_shipped():
    assert "kinect20-base" in released_names()
