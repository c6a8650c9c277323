"""``skeletonmae embed`` (pooled encoder features) and ``skeletonmae knn`` (cosine k-NN accuracy).

    skeletonmae embed CHECKPOINT DATASET --out FEATURES.npy [--split test]
    skeletonmae knn CHECKPOINT DATASET [--train-split train --test-split test] [-k 200]
    skeletonmae knn --train-features TRAIN.npy --test-features TEST.npy [-k 200]

``CHECKPOINT`` may be a fine-tuning or a pre-training checkpoint. ``DATASET`` is a prepared
dataset root (every split, or ``--split``), one split folder, or skeleton files / folders as
``predict`` takes them. ``embed`` writes ``FEATURES.npy`` ``(N, D)`` float32 and ``FEATURES.json``
(names, labels, split of every row, checkpoint). Exit codes: 0 done; 1 some input failed;
2 bad checkpoint, dataset or option.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from skeletonmae.data.store import is_prepared_dataset, is_split_folder

logger = logging.getLogger(__name__)

__all__ = ["register", "run_embed", "run_knn"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "embed",
        help="pooled encoder features of a dataset or of skeleton files",
        description="Write the pooled encoder features (N, D) of every sample to a .npy file, "
        "with names / labels / splits in a .json beside it. Works with pre-training "
        "and fine-tuning checkpoints.",
    )
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="best.pt of any stage")
    parser.add_argument(
        "dataset",
        metavar="DATASET",
        nargs="+",
        help="prepared dataset root, split folder, or skeleton files / folders",
    )
    parser.add_argument("--out", required=True, metavar="FEATURES.npy", help="output .npy")
    parser.add_argument("--split", help="only this split of a prepared dataset root")
    _add_runtime_arguments(parser)
    parser.set_defaults(func=run_embed)

    knn = subparsers.add_parser(
        "knn",
        help="cosine k-NN accuracy of encoder features (train -> test)",
        description="Weighted cosine k-NN (Wu et al. 2018: k=200, temperature 0.07) of the test "
        "split's features against the training split's, from a checkpoint and a "
        "prepared dataset, or from two feature files written by embed.",
    )
    knn.add_argument("checkpoint", metavar="CHECKPOINT", nargs="?", help="best.pt of any stage")
    knn.add_argument("dataset", metavar="DATASET", nargs="?", help="prepared dataset root")
    knn.add_argument("--train-split", help="default: the checkpoint's data.train_split")
    knn.add_argument("--test-split", help="default: the checkpoint's data.test_split")
    knn.add_argument("--train-features", metavar="NPY", help="features from embed (instead)")
    knn.add_argument("--test-features", metavar="NPY", help="features from embed (instead)")
    knn.add_argument("-k", type=int, default=200, help="neighbours (default 200)")
    knn.add_argument(
        "--temperature",
        type=float,
        default=0.07,
        help="vote weight exp(similarity / temperature) (default 0.07)",
    )
    knn.add_argument("--majority", action="store_true", help="unweighted votes instead")
    knn.add_argument(
        "--standardize",
        action="store_true",
        help="z-score each dimension with the training bank's statistics before the cosine k-NN",
    )
    knn.add_argument("--json", action="store_true", help="print one JSON object")
    _add_runtime_arguments(knn)
    knn.set_defaults(func=run_knn)


def _add_runtime_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pool",
        choices=("mean", "tuple"),
        help="mean: over tuples and slots (D values); tuple: per tuple in time order (D * T / L); "
        "default: as the checkpoint's head reads them (model.head_pool)",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="samples per forward pass")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")


def _fail(command: str, error: BaseException | str) -> int:
    print(f"skeletonmae {command}: {error}", file=sys.stderr)
    return 2


def _is_prepared(path: Path) -> bool:
    return is_split_folder(path) or is_prepared_dataset(path)


def run_embed(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae embed``; returns the exit code."""
    from skeletonmae.inference import features as feature_io
    from skeletonmae.inference.predictor import load
    from skeletonmae.training.checkpoint import CheckpointError

    try:
        predictor = load(args.checkpoint, device=args.device, batch_size=args.batch_size)
        model = predictor.model
        info = {
            "checkpoint": str(args.checkpoint),
            "stage": model.stage,
            "class_names": list(model.class_names),
        }
        first = Path(args.dataset[0])
        if len(args.dataset) == 1 and _is_prepared(first):
            features, rows = _embed_prepared(model, first, args.split, args.batch_size, args.pool)
            failures = []
        else:
            items, arrays, failures = predictor.prepare(args.dataset)
            features = predictor.features(arrays, args.pool)
            rows = {
                "names": [item.name for item in items],
                "labels": [-1] * len(items),
                "sources": [item.source for item in items],
            }
        out, sidecar = feature_io.write_features(
            args.out, features, {**info, **rows, "dataset": [str(p) for p in args.dataset]}
        )
    except (CheckpointError, ValueError, FileNotFoundError, OSError) as error:
        return _fail("embed", error)
    print(f"features {features.shape[0]} x {features.shape[1]} -> {out} (rows in {sidecar})")
    for failure in failures:
        print(f"skeletonmae embed: FAILED {failure.error}", file=sys.stderr)
    return 1 if failures else 0


def _embed_prepared(model, root: Path, split: str | None, batch_size: int, pool: str | None):
    """Features of one split folder, one ``--split`` of a root, or every split of a root."""
    import numpy as np

    from skeletonmae.data.store import dataset_splits
    from skeletonmae.inference.features import embed_split, open_split_folder

    if (root / "meta.json").is_file() or split is not None:
        names = [split]
    else:
        names = dataset_splits(root)
    parts = [embed_split(model, open_split_folder(root, name), batch_size, pool) for name in names]
    rows = {
        "names": [n for part in parts for n in part.names],
        "labels": [int(label) for part in parts for label in part.labels],
        "splits": [part.split for part in parts for _ in part.names],
    }
    return np.concatenate([part.features for part in parts]), rows


def run_knn(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae knn``; returns the exit code."""
    from skeletonmae.inference.knn import KnnConfig
    from skeletonmae.training.checkpoint import CheckpointError

    from_files = args.train_features is not None or args.test_features is not None
    if from_files == (args.checkpoint is not None):
        return _fail(
            "knn",
            "pass CHECKPOINT DATASET, or --train-features and --test-features "
            "(files written by skeletonmae embed), not both",
        )
    try:
        config = KnnConfig(
            k=args.k, temperature=args.temperature, weighted=not args.majority, standardize=args.standardize
        )
        result = _knn_from_files(args, config) if from_files else _knn_from_checkpoint(args, config)
    except (CheckpointError, ValueError, FileNotFoundError, OSError) as error:
        return _fail("knn", error)
    summary = {
        "k": result.k,
        "temperature": config.temperature,
        "weighted": config.weighted,
        "num_train": result.num_train,
        "num_test": result.num_test,
        "top1": result.top1,
        "top5": result.top5,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        top5 = "n/a" if result.top5 is None else f"{100 * result.top5:.2f} %"
        votes = f"weighted, T={config.temperature}" if config.weighted else "majority"
        print(
            f"k-NN (k={result.k}, {votes}): top-1 {100 * result.top1:.2f} %  top-5 {top5}  "
            f"({result.num_train} train / {result.num_test} test samples)"
        )
    return 0


def _knn_from_checkpoint(args: argparse.Namespace, config):
    from skeletonmae.inference.checkpoint_model import load_inference_model
    from skeletonmae.inference.features import knn_on_splits, open_split_folder

    if args.dataset is None:
        raise ValueError("pass the prepared dataset root after the checkpoint")
    model = load_inference_model(args.checkpoint, args.device)
    train = open_split_folder(args.dataset, args.train_split or model.config.data.train_split)
    test = open_split_folder(args.dataset, args.test_split or model.config.data.test_split)
    return knn_on_splits(model, train, test, config, args.batch_size, args.pool)


def _knn_from_files(args: argparse.Namespace, config):
    import numpy as np

    from skeletonmae.inference.features import read_features
    from skeletonmae.inference.knn import knn_evaluate

    if args.train_features is None or args.test_features is None:
        raise ValueError("pass both --train-features and --test-features")
    train, train_info = read_features(args.train_features)
    test, test_info = read_features(args.test_features)
    num_classes = len(train_info.get("class_names") or []) or int(max(train_info["labels"])) + 1
    return knn_evaluate(
        train, np.asarray(train_info["labels"]), test, np.asarray(test_info["labels"]), num_classes, config
    )
