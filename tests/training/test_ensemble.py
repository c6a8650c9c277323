"""Multi-stream ensembles: the fusion is the weighted mean of the streams' softmax scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.cli.main import main
from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import load_split, write_dataset
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.run_config import load_run_config
from skeletonmae.saved_run import load_run
from skeletonmae.training.ensemble import run_ensemble_evaluate
from skeletonmae.training.stages import run_finetune


@pytest.fixture(scope="module")
def streams(tiny_dataset, tmp_path_factory, tiny_overrides) -> dict[str, Path]:
    """One-epoch classifiers of the tiny dataset on the joint and the bone-motion stream."""
    base = tmp_path_factory.mktemp("streams")
    runs = {}
    for stream in ("joint", "bone_motion"):
        extra = (f"data.transform.stream={stream}", "training.epochs=1")
        config, pinned = load_run_config(None, tiny_overrides(tiny_dataset, base / stream, *extra))
        runs[stream] = run_finetune(config, pinned_model_fields=pinned).best_checkpoint
    return runs


def _softmax_by_hand(checkpoint: Path, test: Path) -> torch.Tensor:
    """The checkpoint's softmax scores (N, K) on the test split, through its own test transform."""
    run = load_run(checkpoint)
    model = SkeletonClassifier(run.config.model)  # the saved config is already bound to the data
    model.load_state_dict(load_checkpoint(checkpoint)["model"])
    dataset = SkeletonDataset(load_split(test), run.config.data.transform, train=False)
    x, _, _ = dataset.get_batch(np.arange(len(dataset)))
    with torch.no_grad():
        return torch.softmax(model.eval()(x), dim=1)


def test_the_fusion_is_the_weighted_mean_of_the_softmax_scores(streams, tiny_dataset, tmp_path):
    result = run_ensemble_evaluate(list(streams.values()), weights=[3.0, 1.0], output_dir=tmp_path)
    joint, bone_motion = (_softmax_by_hand(path, tiny_dataset / "test") for path in streams.values())
    torch.testing.assert_close(result.streams[0].probabilities, joint, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(result.streams[1].probabilities, bone_motion, rtol=1e-5, atol=1e-6)
    fused = (3 * joint + bone_motion) / 4
    labels = torch.tensor(load_split(tiny_dataset / "test").labels)
    assert result.fused.top1 == pytest.approx((fused.argmax(dim=1) == labels).float().mean().item())
    assert [s.stream for s in result.streams] == ["joint", "bone_motion"]
    report = json.loads(result.json_path.read_text())
    assert [s["weight"] for s in report["streams"]] == [3.0, 1.0] and report["samples"] == 12
    assert result.confusion_png.is_file()


def test_checkpoints_of_other_classes_are_refused_naming_both(streams, tmp_path, tiny_overrides):
    data = np.random.default_rng(0).normal(size=(8, 3, 30, 20, 1)).astype(np.float32)
    samples = SkeletonSamples.from_arrays(
        data, np.arange(8) % 2, layout="nw_ucla20", class_names=("left", "right")
    )
    write_dataset(tmp_path / "other", {"train": samples, "test": samples})
    overrides = tiny_overrides(tmp_path / "other", tmp_path / "ft", "training.epochs=1")
    config, pinned = load_run_config(None, overrides)
    other = run_finetune(config, pinned_model_fields=pinned).best_checkpoint
    with pytest.raises(ValueError, match=rf"{streams['joint']} and {other} disagree on their classes"):
        run_ensemble_evaluate([streams["joint"], other])


def test_evaluate_ensemble_prints_each_stream_and_the_fusion(streams, tmp_path, capsys):
    args = ["evaluate", "--ensemble", *map(str, streams.values()), "--weights", "1", "1"]
    assert main([*args, "--output-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert (
        "(joint, weight 1)" in printed and "(bone_motion, weight 1)" in printed and "fusion of 2" in printed
    )
    assert main(["evaluate", "--checkpoint", str(streams["joint"]), "--weights", "1"]) == 2


def test_several_checkpoints_load_and_predict_as_one_ensemble(streams, tiny_dataset, tmp_path, capsys):
    import skeletonmae
    from skeletonmae.data.formats.generic import write_generic_npz
    from skeletonmae.data.store import to_samples

    test = load_split(tiny_dataset / "test")
    sequences = [np.asarray(test.data[i]) for i in range(3)]  # (C, T, V, M), every frame valid
    members = [skeletonmae.load(path) for path in streams.values()]
    ensemble = skeletonmae.load(list(streams.values()), weights=[1.0, 3.0])
    _, arrays, _ = ensemble.prepare(sequences)
    expected = (members[0].probabilities(arrays) + 3 * members[1].probabilities(arrays)) / 4
    np.testing.assert_allclose(ensemble.probabilities(arrays), expected, rtol=1e-5, atol=1e-6)
    assert ensemble.predict(sequences, top_k=1)[0].top[0].index == int(expected[0].argmax())
    with pytest.raises(ValueError, match="embed with one checkpoint"):
        ensemble.embed(sequences)
    inputs = write_generic_npz(tmp_path / "clips.npz", {"test": to_samples(test)})
    joint, bone_motion = map(str, streams.values())
    assert main(["predict", joint, str(inputs), "--ensemble", bone_motion, "--top-k", "1", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["predictions"]) == 12
