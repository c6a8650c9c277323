"""``skeletonmae probe``: cosine k-NN and MAMP's linear probe on frozen features.

    skeletonmae probe CHECKPOINT --data DATASET_ROOT [--train-split train] [--test-split test]
                      [--features encoder raw] [--random-init] [-k 20] [--out probe.json]
    skeletonmae probe --features raw --config RUN.yaml --data DATASET_ROOT

``CHECKPOINT`` is a pre-training (encoder only) or a finetune / linear checkpoint; its encoder is
frozen and both splits are embedded once. ``--features raw`` probes the flattened test-transform
input instead (the baseline); without a checkpoint the transform comes from ``--config``.
``--random-init`` adds an untrained encoder of the checkpoint's config. Prints a table; ``--out``
writes the numbers as JSON (atomically). Exit codes: 0 done; 2 bad checkpoint, dataset or option.
"""

from __future__ import annotations

import argparse
import logging
import sys

logger = logging.getLogger(__name__)

__all__ = ["register", "run_probe"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="k-NN and linear-probe accuracy of frozen features (train -> test)",
        description="Embed the training and test splits once with the frozen encoder of "
        "CHECKPOINT, then report cosine k-NN top-1 and MAMP's linear probe (non-affine "
        "BatchNorm + linear, SGD lr 0.1, momentum 0.9, 100 epochs, batch 256, cosine "
        "decay; final-epoch test top-1, best epoch labelled optimistic).",
    )
    parser.add_argument(
        "checkpoint",
        metavar="CHECKPOINT",
        nargs="?",
        help="best.pt of any stage (optional with --features raw --config)",
    )
    parser.add_argument(
        "--data", required=True, metavar="DATASET_ROOT", help="prepared dataset root (one folder per split)"
    )
    parser.add_argument("--train-split", help="default: the run's data.train_split")
    parser.add_argument("--test-split", help="default: the run's data.test_split")
    parser.add_argument(
        "--features",
        nargs="+",
        choices=("encoder", "raw"),
        default=["encoder"],
        help="what to probe: the frozen encoder and/or the raw input coordinates",
    )
    parser.add_argument(
        "--random-init",
        action="store_true",
        help="also probe a randomly initialised encoder of the checkpoint's config",
    )
    parser.add_argument(
        "--config",
        metavar="RUN.yaml",
        help="run config whose data.transform is used for --features raw without a checkpoint",
    )
    parser.add_argument("-k", type=int, default=20, help="k-NN neighbours (default 20)")
    parser.add_argument(
        "--temperature",
        type=float,
        default=0.07,
        help="k-NN vote weight exp(similarity / temperature) (default 0.07)",
    )
    parser.add_argument("--majority", action="store_true", help="unweighted k-NN votes")
    parser.add_argument(
        "--pool",
        choices=("mean", "tuple"),
        default="mean",
        help="encoder features: mean over the whole grid (D values; default) or "
        "per tuple in time order (D * T / L values; keeps the order of the motion as raw coordinates do)",
    )
    parser.add_argument(
        "--standardize",
        action="store_true",
        help="z-score each feature dimension with the training split's statistics before the cosine "
        "k-NN (a much stronger raw-coordinate baseline; the linear probe standardises anyway)",
    )
    parser.add_argument(
        "--train-views",
        type=int,
        default=1,
        metavar="K",
        help="linear probe: train on K augmented views of the training split (the run's training "
        "transform: random crop, rotation), epoch e on view e mod K, as MAMP's probe trains through "
        "its augmenting feeder; 1 (default): the test-transform features, as the k-NN",
    )
    parser.add_argument("--epochs", type=int, default=100, help="linear probe epochs (100)")
    parser.add_argument("--lr", type=float, default=0.1, help="linear probe SGD lr (0.1)")
    parser.add_argument("--probe-batch-size", type=int, default=256, help="linear probe batch (256)")
    parser.add_argument("--seed", type=int, default=0, help="probe seed (head init, shuffling)")
    parser.add_argument(
        "--label-fraction",
        type=float,
        default=1.0,
        help="train both probes on this class-balanced fraction of the training split (few-label "
        "probes; the subset fine-tuning's --label-fraction picks with the same --label-seed)",
    )
    parser.add_argument("--label-seed", type=int, default=1, help="seed of the labelled subset (1)")
    parser.add_argument("--out", metavar="probe.json", help="write the results as JSON")
    parser.add_argument("--batch-size", type=int, default=64, help="samples per forward pass")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    parser.set_defaults(func=run_probe)


def _fail(error: BaseException | str) -> int:
    print(f"skeletonmae probe: {error}", file=sys.stderr)
    return 2


def _kinds(args: argparse.Namespace) -> tuple[str, ...]:
    kinds = list(dict.fromkeys(args.features))
    if args.random_init:
        kinds.insert(kinds.index("encoder") + 1 if "encoder" in kinds else 0, "random-init")
    return tuple(kinds)


def _run_config(args: argparse.Namespace, kinds: tuple[str, ...]):
    """The loaded checkpoint (or None) and the run config that names transform and splits."""
    from skeletonmae.inference.checkpoint_model import load_inference_model
    from skeletonmae.training.run_config import load_run_config

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
    config, _ = load_run_config(args.config)
    return None, config


def run_probe(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae probe``; returns the exit code."""
    from skeletonmae.atomic import write_json_atomic
    from skeletonmae.inference.features import open_split_folder
    from skeletonmae.inference.knn import KnnConfig
    from skeletonmae.inference.probe import ProbeConfig, probe_splits
    from skeletonmae.training.checkpoint import CheckpointError

    kinds = _kinds(args)
    try:
        config = ProbeConfig(
            epochs=args.epochs,
            batch_size=args.probe_batch_size,
            lr=args.lr,
            seed=args.seed,
            pool=args.pool,
            label_fraction=args.label_fraction,
            label_seed=args.label_seed,
            train_views=args.train_views,
            knn=KnnConfig(
                k=args.k,
                temperature=args.temperature,
                weighted=not args.majority,
                standardize=args.standardize,
            ),
        )
        model, run_config = _run_config(args, kinds)
        train = open_split_folder(args.data, args.train_split or run_config.data.train_split)
        test = open_split_folder(args.data, args.test_split or run_config.data.test_split)
        num_classes = int(train.meta.get("num_classes", run_config.model.num_classes))
        results = probe_splits(
            kinds, train, test, model, run_config.data.transform, num_classes, config, args.batch_size
        )
        summary = _summary(args, model, train, test, num_classes, config, results)
        if args.out is not None:
            write_json_atomic(args.out, summary)
    except (CheckpointError, ValueError, FileNotFoundError, OSError) as error:
        return _fail(error)
    print(_table(results, config))
    if args.out is not None:
        print(f"-> {args.out}")
    return 0


def _summary(args, model, train, test, num_classes, config, results) -> dict:
    from skeletonmae.config import to_plain

    return {
        "checkpoint": args.checkpoint,
        "stage": None if model is None else model.stage,
        "config": args.config,
        "dataset": str(args.data),
        "train_split": train.folder.name,
        "test_split": test.folder.name,
        "num_classes": num_classes,
        "probe": to_plain(config),
        "results": [r.to_dict() for r in results],
    }


def _table(results, config) -> str:
    knn = f"k-NN top-1 (k={config.knn.k})"
    lines = [
        f"{'features':<12} {'dim':>6}  {knn:>20}  {'linear top-1':>12}  {'linear best (optimistic)':>24}"
    ]
    for result in results:
        best = f"{100 * result.linear.best_top1:.2f} % (ep {result.linear.best_epoch})"
        lines.append(
            f"{result.features:<12} {result.feature_dim:>6}  "
            f"{100 * result.knn_top1:>18.2f} %  {100 * result.linear.final_top1:>10.2f} %"
            f"  {best:>24}"
        )
    if results:
        first = results[0]
        lines.append(
            f"({first.num_train} train / {first.num_test} test samples; linear probe "
            f"{config.epochs} epochs, final epoch reported)"
        )
    return "\n".join(lines)
