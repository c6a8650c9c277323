"""``skeletonmae embed``: pooled encoder features of a dataset or of skeleton files.

    skeletonmae embed CHECKPOINT DATASET --out FEATURES.npy [--split test]

``CHECKPOINT`` may be a fine-tuning or a pre-training checkpoint. ``DATASET`` is a prepared
dataset root (every split, or ``--split``), one split folder, or skeleton files / folders as
``predict`` takes them. ``embed`` writes ``FEATURES.npy`` ``(N, D)`` float32 and ``FEATURES.json``
(names, labels, split of every row, checkpoint); ``skeletonmae probe --train-features
TRAIN.npy --test-features TEST.npy`` scores two such files. Exit codes: 0 done; 1 some input
failed; 2 bad checkpoint, dataset or option.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from skeletonmae.data.store import is_prepared_dataset, is_split_folder

logger = logging.getLogger(__name__)

__all__ = ["register", "run_embed"]


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
    parser.add_argument(
        "--pool",
        choices=("mean", "tuple"),
        help="mean: over tuples and slots (D values); tuple: per tuple in time order (D * T / L); "
        "default: as the checkpoint's head reads them (model.head_pool)",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="samples per forward pass")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    parser.set_defaults(func=run_embed)


def _fail(error: BaseException | str) -> int:
    print(f"skeletonmae embed: {error}", file=sys.stderr)
    return 2


def _is_prepared(path: Path) -> bool:
    return is_split_folder(path) or is_prepared_dataset(path)


def run_embed(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae embed``; returns the exit code."""
    from skeletonmae.checkpoints import CheckpointError
    from skeletonmae.inference import features as feature_io
    from skeletonmae.inference.predictor import load

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
        return _fail(error)
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
