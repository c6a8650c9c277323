"""``skeletonmae embed CHECKPOINT DATASET... --out FEATURES.npy``: pooled encoder features
(docs/inference.md). Exit codes: 0 done; 1 some input failed; 2 bad checkpoint, dataset or option.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from skeletonmae.checkpoints import CheckpointError
from skeletonmae.cli.arguments import add_device_arguments, print_error
from skeletonmae.data.store import dataset_splits, is_prepared_dataset, is_split_folder
from skeletonmae.inference.features import embed_split, open_split_folder, write_features
from skeletonmae.inference.predictor import load


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "embed",
        help="pooled encoder features of a dataset or of skeleton files",
        description="Write the pooled encoder features (N, D) of every sample to a .npy file, with names / "
        "labels / splits in a .json beside it. Works with pre-training and fine-tuning checkpoints.",
    )
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="best.pt of any stage")
    parser.add_argument(
        "dataset", metavar="DATASET", nargs="+", help="prepared dataset root, split folder, or skeleton files"
    )
    parser.add_argument("--out", required=True, metavar="FEATURES.npy", help="output .npy")
    parser.add_argument("--split", help="only this split of a prepared dataset root")
    parser.add_argument(
        "--pool",
        choices=("mean", "tuple"),
        help="mean: over tuples and slots (D values); tuple: per tuple in time order (D * T / L); "
        "default: as the checkpoint's head reads them (model.head_pool)",
    )
    add_device_arguments(parser, batch_size=64)
    parser.set_defaults(func=run_embed)


def run_embed(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae embed``; returns the exit code."""
    try:
        predictor = load(args.checkpoint, device=args.device, batch_size=args.batch_size)
        model = predictor.model
        first = Path(args.dataset[0])
        failures = []
        if len(args.dataset) == 1 and (is_split_folder(first) or is_prepared_dataset(first)):
            features, rows = _embed_prepared(model, first, args.split, args.batch_size, args.pool)
        else:
            items, arrays, failures = predictor.prepare(args.dataset)
            features = predictor.features(arrays, args.pool)
            names, sources = [item.name for item in items], [item.source for item in items]
            rows = {"names": names, "labels": [-1] * len(items), "sources": sources}
        info = {
            "checkpoint": str(args.checkpoint),
            "stage": model.stage,
            "class_names": list(model.class_names),
        }
        out, sidecar = write_features(args.out, features, {**info, **rows, "dataset": args.dataset})
    except (CheckpointError, ValueError, OSError) as error:
        return print_error("embed", error)
    print(f"features {features.shape[0]} x {features.shape[1]} -> {out} (rows in {sidecar})")
    for failure in failures:
        print(f"skeletonmae embed: FAILED {failure.error}", file=sys.stderr)
    return 1 if failures else 0


def _embed_prepared(model, root: Path, split: str | None, batch_size: int, pool: str | None):
    """Features ``(N, D)`` and row facts of one split folder, one ``--split`` of a root, or every
    split of a root (in name order)."""

    names = [split] if is_split_folder(root) or split is not None else dataset_splits(root)
    parts = [embed_split(model, open_split_folder(root, name), batch_size, pool) for name in names]
    rows = {
        "names": [n for part in parts for n in part.names],
        "labels": [int(label) for part in parts for label in part.labels],
        "splits": [part.split for part in parts for _ in part.names],
    }
    return np.concatenate([part.features for part in parts]), rows
