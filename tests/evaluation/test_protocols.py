"""run_evaluate on a real fine-tuned checkpoint: the report matches an independent computation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.prepare import prepare_ntu
from skeletonmae.data.synthetic import write_synthetic_ntu
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.run_config import load_run_config, run_config_from_mapping
from skeletonmae.training.evaluate import run_evaluate
from skeletonmae.training.stages import run_finetune, run_pretrain


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Synthetic NTU files -> prepared ntu60-xsub -> 1-epoch pretrain and finetune runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors; keeps the shared 2-core machine responsive
    base = tmp_path_factory.mktemp("eval")
    write_synthetic_ntu(base / "raw", 24, num_actions=3, frame_range=(30, 40), seed=3)
    prepare_ntu(base / "raw", base / "data", "ntu60-xsub", progress=False)
    common = [
        f"data.root={base / 'data'}",
        "model.preset=cpu-small",
        "data.batch_size=4",
        "data.transform.num_frames=12",
        "data.transform.min_crop_frames=8",
        "data.num_workers=0",
        "training.epochs=1",
        "training.progress_bar=false",
    ]
    config, pinned = load_run_config(None, common + [f"output_dir={base / 'pre'}"])
    run_pretrain(config, pinned_model_fields=pinned)
    config, pinned = load_run_config(None, common + [f"output_dir={base / 'ft'}"])
    run_finetune(config, pinned_model_fields=pinned)
    yield {"pretrain": base / "pre" / "best.pt", "finetune": base / "ft" / "best.pt"}
    torch.set_num_threads(threads)


def _expected(checkpoint: Path) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels of the test split, computed directly from the checkpoint."""
    payload = load_checkpoint(checkpoint)
    config = run_config_from_mapping(payload["config"])
    model = SkeletonClassifier(config.model)
    model.load_state_dict(payload["model"])
    model.eval()
    dataset = SkeletonDataset(config.data.root / "test", config.data.transform, train=False)
    x, labels, _ = dataset.get_batch(np.arange(len(dataset)))
    with torch.no_grad():
        return model(x).numpy(), labels.numpy()


def test_report_matches_direct_computation(runs, tmp_path: Path):
    result = run_evaluate(runs["finetune"], output_dir=tmp_path)
    logits, labels = _expected(runs["finetune"])
    ranked = np.argsort(-logits, axis=1)
    metrics = result.metrics
    assert metrics.count == len(labels) == 12
    assert metrics.top1 == pytest.approx(np.mean(ranked[:, 0] == labels))
    assert metrics.top5 == pytest.approx(np.mean((ranked[:, :5] == labels[:, None]).any(1)))
    confusion = np.zeros((60, 60), dtype=int)
    np.add.at(confusion, (labels, ranked[:, 0]), 1)
    assert np.array_equal(np.array(metrics.confusion), confusion)

    report = json.loads(result.json_path.read_text())
    assert result.json_path == tmp_path / "eval_test.json"
    assert report["top1"] == pytest.approx(metrics.top1) and report["samples"] == 12
    assert report["stage"] == "finetune" and len(report["class_names"]) == 60
    present = sorted(set(labels.tolist()))
    for label in present:
        name = report["class_names"][label]
        expected = confusion[label, label] / confusion[label].sum()
        assert report["per_class_accuracy"][name] == pytest.approx(expected)
    absent = report["class_names"][next(c for c in range(60) if c not in present)]
    assert report["per_class_accuracy"][absent] is None  # no sample: null, not 0
    assert result.confusion_png.read_bytes()[:4] == b"\x89PNG"


def test_split_and_override_and_wrong_stage(runs, tmp_path: Path):
    train = run_evaluate(runs["finetune"], split="train", output_dir=tmp_path)
    assert train.json_path.name == "eval_train.json" and train.metrics.count == 12
    with pytest.raises(FileNotFoundError, match="split folder not found"):
        run_evaluate(runs["finetune"], overrides=[f"data.root={tmp_path / 'nowhere'}"])
    with pytest.raises(ValueError, match="a 'pretrain' checkpoint has no classifier"):
        run_evaluate(runs["pretrain"])
