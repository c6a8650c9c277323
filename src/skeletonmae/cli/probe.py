"""``skeletonmae probe``: cosine k-NN and MAMP's linear probe on frozen features (docs/inference.md).

Prints a table (``--json``: the JSON object instead); ``--out`` writes the JSON. Exit codes: 0 done;
2 bad checkpoint, dataset or option.
"""

from __future__ import annotations

import argparse
import json

from skeletonmae.atomic import write_json_atomic
from skeletonmae.checkpoints import CheckpointError
from skeletonmae.cli.arguments import add_device_arguments, print_error
from skeletonmae.config import to_plain
from skeletonmae.inference.checkpoint_model import load_inference_model
from skeletonmae.inference.features import open_split_folder, read_feature_splits
from skeletonmae.inference.knn import KnnConfig
from skeletonmae.inference.probe import ProbeConfig, probe_features, probe_splits
from skeletonmae.run_config import load_run_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="k-NN and linear-probe accuracy of frozen features (train -> test)",
        description="Embed the training and test splits once with the frozen encoder of CHECKPOINT (or "
        "read two feature files written by embed), then report cosine k-NN top-1 / top-5 and MAMP's "
        "linear probe (non-affine BatchNorm + linear, SGD lr 0.1, momentum 0.9, 100 epochs, batch 256, "
        "cosine decay; final-epoch test top-1, best epoch labelled optimistic).",
    )
    parser.add_argument(
        "checkpoint",
        metavar="CHECKPOINT",
        nargs="?",
        help="best.pt of any stage (optional with --features raw --config, or with feature files)",
    )
    parser.add_argument("--data", metavar="DATASET_ROOT", help="prepared dataset root (one folder per split)")
    parser.add_argument("--train-split", help="default: the run's data.train_split")
    parser.add_argument("--test-split", help="default: the run's data.test_split")
    parser.add_argument(
        "--features", nargs="+", choices=("encoder", "raw"), help="frozen encoder (default) and/or raw input"
    )
    parser.add_argument(
        "--random-init", action="store_true", help="also probe an untrained encoder of the same config"
    )
    parser.add_argument(
        "--config", metavar="RUN.yaml", help="run config for --features raw without CHECKPOINT"
    )
    parser.add_argument(
        "--pool",
        choices=("mean", "tuple"),
        help="encoder features: mean over the grid (D values; default) or per tuple, in order (D * T / L)",
    )
    parser.add_argument(
        "--train-features", metavar="NPY", help="labelled training features from `embed --split`"
    )
    parser.add_argument("--test-features", metavar="NPY", help="labelled test features from `embed --split`")
    parser.add_argument("--out", metavar="probe.json", help="write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the JSON object instead of the table")
    add_device_arguments(parser, batch_size=64)
    _add_probe_options(parser)
    parser.set_defaults(func=run_probe)


def _add_probe_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=20, help="k-NN neighbours (default 20; Wu et al. 2018: 200)")
    parser.add_argument(
        "--temperature", type=float, default=0.07, help="k-NN vote weight exp(similarity / T) (0.07)"
    )
    parser.add_argument("--majority", action="store_true", help="unweighted k-NN votes (-k 1: 1-NN)")
    parser.add_argument(
        "--standardize", action="store_true", help="z-score each dimension by the training split's statistics"
    )
    parser.add_argument("--knn-only", action="store_true", help="skip the linear probe")
    parser.add_argument(
        "--train-views",
        type=int,
        default=1,
        metavar="K",
        help="linear probe: train on K augmented views of the training split (epoch e on view e mod K)",
    )
    parser.add_argument("--epochs", type=int, default=100, help="linear probe epochs (100)")
    parser.add_argument("--lr", type=float, default=0.1, help="linear probe SGD lr (0.1)")
    parser.add_argument("--probe-batch-size", type=int, default=256, help="linear probe batch (256)")
    parser.add_argument("--seed", type=int, default=0, help="probe seed (head init, shuffling)")
    parser.add_argument(
        "--label-fraction",
        type=float,
        default=1.0,
        help="train both probes on this class-balanced fraction of the training split (the subset "
        "fine-tuning's --label-fraction picks with the same --label-seed)",
    )
    parser.add_argument("--label-seed", type=int, default=1, help="seed of the labelled subset (1)")


def run_probe(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae probe``; returns the exit code."""
    try:
        config = _probe_config(args)
        if args.train_features is not None or args.test_features is not None:
            results, source, num_classes = _probe_feature_files(args, config)
        else:
            results, source, num_classes = _probe_dataset(args, config)
        results_rows = [result.to_dict() for result in results]
        summary = {**source, "num_classes": num_classes, "probe": to_plain(config), "results": results_rows}
        if args.out is not None:
            write_json_atomic(args.out, summary)
    except (CheckpointError, ValueError, OSError) as error:
        return print_error("probe", error)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(_table(results, config))
    if args.out is not None:
        print(f"-> {args.out}")
    return 0


def _probe_config(args: argparse.Namespace):
    return ProbeConfig(
        epochs=args.epochs,
        batch_size=args.probe_batch_size,
        lr=args.lr,
        seed=args.seed,
        pool=args.pool or "mean",
        label_fraction=args.label_fraction,
        label_seed=args.label_seed,
        train_views=args.train_views,
        linear=not args.knn_only,
        knn=KnnConfig(
            k=args.k, temperature=args.temperature, weighted=not args.majority, standardize=args.standardize
        ),
    )


def _probe_dataset(args: argparse.Namespace, config):
    """Results, source facts and class count of the feature kinds of a checkpoint (or raw input)."""
    if args.data is None:
        raise ValueError(
            "pass --data DATASET_ROOT (a prepared dataset), or --train-features and "
            "--test-features (files written by skeletonmae embed --split NAME)"
        )
    kinds = list(dict.fromkeys(args.features or ["encoder"]))
    if args.random_init:
        kinds.insert(kinds.index("encoder") + 1 if "encoder" in kinds else 0, "random-init")
    model, run_config = _run_config(args, tuple(kinds))
    data = run_config.data
    train = open_split_folder(args.data, args.train_split or data.train_split)
    test = open_split_folder(args.data, args.test_split or data.test_split)
    num_classes = int(train.meta.get("num_classes", run_config.model.num_classes))
    results = probe_splits(
        tuple(kinds), train, test, model, data.transform, num_classes, config, args.batch_size
    )
    source = {
        "checkpoint": args.checkpoint,
        "stage": None if model is None else model.stage,
        "config": args.config,
        "dataset": str(args.data),
        "train_split": train.folder.name,
        "test_split": test.folder.name,
    }
    return results, source, num_classes


def _run_config(args: argparse.Namespace, kinds: tuple[str, ...]):
    """The loaded checkpoint (or None) and the run config that names transform and splits."""
    if args.checkpoint is not None and args.config is not None:
        raise ValueError("pass CHECKPOINT or --config, not both (a checkpoint holds its config)")
    if args.checkpoint is not None:
        model = load_inference_model(args.checkpoint, args.device)
        return model, model.config
    if kinds != ("raw",):
        raise ValueError("encoder features need CHECKPOINT; only --features raw runs without one")
    if args.config is None:
        raise ValueError(
            "--features raw without CHECKPOINT needs --config RUN.yaml (for its "
            "data.transform, e.g. configs/nw-ucla/pretrain.yaml)"
        )
    return None, load_run_config(args.config)[0]


def _probe_feature_files(args: argparse.Namespace, config):
    """Results, source facts and class count of two feature files written by ``embed``."""
    if args.train_features is None or args.test_features is None:
        raise ValueError("pass both --train-features and --test-features (files written by embed --split)")
    given = {
        "CHECKPOINT": args.checkpoint is not None,
        "--data": args.data is not None,
        "--config": args.config is not None,
        "--features": args.features is not None,
        "--random-init": args.random_init,
        "--pool": args.pool is not None,
        "--train-views": args.train_views != 1,
    }
    clashes = [name for name, present in given.items() if present]
    if clashes:
        raise ValueError(
            f"feature files are probed as they were embedded; pass feature files or "
            f"CHECKPOINT --data, not both (drop {', '.join(clashes)})"
        )
    train, test, num_classes = read_feature_splits(args.train_features, args.test_features)
    source = {
        "train_features": str(args.train_features),
        "test_features": str(args.test_features),
        "train_split": train.split,
        "test_split": test.split,
    }
    return [probe_features("file", train, test, num_classes, config)], source, num_classes


def _table(results, config) -> str:
    k = results[0].knn_k if results else config.knn.k  # clamped to the training set size
    knn = f"k-NN top-1 (k={k})"
    header = f"{'features':<12} {'dim':>6}  {knn:>20}  {'k-NN top-5':>10}"
    if config.linear:
        header += f"  {'linear top-1':>12}  {'linear best (optimistic)':>24}"
    lines = [header]
    for result in results:
        top5 = "n/a" if result.knn_top5 is None else f"{100 * result.knn_top5:.2f} %"
        line = f"{result.features:<12} {result.feature_dim:>6}  {100 * result.knn_top1:>18.2f} %  {top5:>10}"
        if result.linear is not None:
            best = f"{100 * result.linear.best_top1:.2f} % (ep {result.linear.best_epoch})"
            line += f"  {100 * result.linear.final_top1:>10.2f} %  {best:>24}"
        lines.append(line)
    if results:
        votes = f"weighted, T={config.knn.temperature}" if config.knn.weighted else "majority"
        votes += ", standardised" if config.knn.standardize else ""
        linear = (
            f"linear probe {config.epochs} epochs, final epoch reported"
            if config.linear
            else "no linear probe"
        )
        counts = f"{results[0].num_train} train / {results[0].num_test} test samples"
        lines.append(f"({counts}; k-NN {votes}; {linear})")
    return "\n".join(lines)
