"""``skeletonmae prepare ntu|nw-ucla|convert|synthetic``: build a prepared dataset or convert formats."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from skeletonmae.cli.arguments import input_error
from skeletonmae.data.checks import check_splits
from skeletonmae.data.errors import DataFormatError, PreparationError
from skeletonmae.data.formats.convert import FORMATS, WRITABLE, convert, read_samples
from skeletonmae.data.layouts import load_layout_file
from skeletonmae.data.normalize import CENTERS, Normalization
from skeletonmae.data.ntu_preprocess import PreprocessConfig
from skeletonmae.data.prepare import PrepareReport, prepare_ntu, prepare_nw_ucla
from skeletonmae.data.splits import BENCHMARKS
from skeletonmae.data.synthetic import write_synthetic_ntu


def _common(parser: argparse.ArgumentParser) -> None:
    workers = max(1, min(4, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, required=True, help="output folder of the prepared dataset")
    parser.add_argument("--workers", type=int, default=workers, help="processes (1: inline; %(default)s)")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any bad input file or data warning")
    parser.add_argument("--dtype", choices=("float32", "float16"), default="float32", help="stored precision")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="prepare raw NTU / NW-UCLA data or convert dataset formats",
        description="Turn raw skeleton data into the dataset format training reads (docs/data.md).",
    )
    commands = parser.add_subparsers(dest="prepare_command", metavar="SOURCE", required=True)

    ntu = commands.add_parser("ntu", help="raw NTU RGB+D 60/120 .skeleton folders")
    ntu.add_argument("--raw", type=Path, nargs="+", required=True, help="folder(s) holding .skeleton files")
    ntu.add_argument("--benchmark", choices=BENCHMARKS, default="ntu60-xsub")
    ntu.add_argument(
        "--missing-list", type=Path, help="official list of samples to ignore (default: beside --raw)"
    )
    ntu.add_argument("--max-frames", type=int, default=300, help="frames to pad to (%(default)s)")
    ntu.add_argument(
        "--motion-filter",
        action="store_true",
        help="also drop second bodies whose motion is outside [0.089925, 2] (off in CTR-GCN)",
    )
    _common(ntu)
    ntu.set_defaults(func=_run_ntu)

    ucla = commands.add_parser("nw-ucla", help="NW-UCLA all_sqe JSON folder")
    ucla.add_argument("--raw", type=Path, required=True, help="the all_sqe folder")
    _common(ucla)
    ucla.set_defaults(func=lambda args: _finish(prepare_nw_ucla, args, args.raw, args.out))
    _register_convert(commands)

    synthetic = commands.add_parser(
        "synthetic", help="write generated real-format .skeleton files (test data)"
    )
    synthetic.add_argument("--out", type=Path, required=True)
    synthetic.add_argument("--samples", type=int, default=120)
    synthetic.add_argument("--actions", type=int, default=6)
    synthetic.add_argument("--seed", type=int, default=0)
    synthetic.set_defaults(func=_run_synthetic)


def _register_convert(commands: argparse._SubParsersAction) -> None:
    conv = commands.add_parser(
        "convert",
        help="convert between dataset formats",
        description=f"Formats: {', '.join(FORMATS)} (writable: {', '.join(WRITABLE)}); see docs/data.md.",
    )
    conv.add_argument("src", type=Path, help="input file or folder")
    conv.add_argument("dst", type=Path, help="output file or folder")
    conv.add_argument("--from", dest="src_format", choices=FORMATS, help="input format (default: detect)")
    conv.add_argument("--to", dest="dst_format", choices=WRITABLE, default="prepared", help="output format")
    conv.add_argument(
        "--layout", help="skeleton layout of the input: a built-in name or a YAML/JSON layout file"
    )
    conv.add_argument("--split-prefix", help="pyskl benchmark prefix, e.g. xsub")
    conv.add_argument(
        "--strict", action="store_true", help="refuse to write when `skeletonmae inspect` would warn"
    )
    conv.add_argument(
        "--center",
        choices=CENTERS,
        default="none",
        help="centre on the layout's centre joint of the first or of every frame (predict does the same)",
    )
    conv.add_argument("--normalize-scale", action="store_true", help="divide each sample by its body size")
    conv.add_argument("--trim", action="store_true", help="cut padded frames beyond the longest sequence")
    conv.add_argument("--window", type=int, metavar="N", help="cut every sequence into clips of N frames")
    conv.add_argument("--stride", type=int, metavar="S", help="first frames of successive clips S apart (N)")
    bvh = conv.add_argument_group("motion capture (.bvh files)")
    bvh.add_argument(
        "--joint-map", metavar="NAME|FILE", help="rig joints of the layout: bandai (default), cmu, a YAML"
    )
    bvh.add_argument("--units", choices=("m", "cm", "mm", "inch"), help="the rig's unit (default cm)")
    bvh.add_argument("--up-axis", choices=("y", "z"), help="the rig's up axis (default y)")
    bvh.add_argument(
        "--fps", type=float, help="resample to this rate (default 30; within 0.1 %% of it: kept)"
    )
    conv.set_defaults(func=_run_convert)


def _print_report(report: PrepareReport) -> None:
    counts = ", ".join(f"{split} {count}" for split, count in report.counts.items())
    print(
        f"prepared {report.out_dir}: {counts} ({report.seconds:.1f} s, "
        f"{report.shards_built} shards built, {report.shards_reused} reused)"
    )
    if report.skipped:
        print(
            f"skipped {len(report.skipped)} file(s) ({len(report.bad_files)} bad); reasons in "
            f"{report.out_dir / 'manifest.json'}"
        )
        for item in report.bad_files[:5]:
            print(f"  {item.reason}")


def _finish(prepare: Callable[..., PrepareReport], args: argparse.Namespace, *inputs, **options) -> int:
    """Call ``prepare(*inputs, **options)`` with the options every preparation shares, print its
    report and the data warnings (an error under ``--strict``)."""
    shared = {"workers": args.workers, "strict": args.strict, "dtype": args.dtype}
    try:
        report = prepare(*inputs, **shared, progress=not args.no_progress, **options)
        _print_report(report)
    except PreparationError as error:
        _print_report(error.report)
        return input_error(error)
    except (DataFormatError, FileNotFoundError, ValueError) as error:
        return input_error(error)
    warnings = check_splits(read_samples(report.out_dir, "prepared"))
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return input_error(f"{len(warnings)} data warning(s) under --strict") if args.strict and warnings else 0


def _run_ntu(args: argparse.Namespace) -> int:
    preprocess = PreprocessConfig(motion_filter=args.motion_filter)
    options = {"missing_list": args.missing_list, "preprocess": preprocess, "max_frames": args.max_frames}
    return _finish(prepare_ntu, args, args.raw, args.out, args.benchmark, **options)


def _run_convert(args: argparse.Namespace) -> int:
    try:
        layout = _layout_option(args.layout)
    except ValueError as error:
        return input_error(error)
    if args.stride is not None and args.window is None:
        return input_error("--stride needs --window N (the clip length in frames)")
    window = None if args.window is None else (args.window, args.stride or args.window)
    named = (
        ("layout", layout),
        ("split_prefix", args.split_prefix),
        ("joint_map", args.joint_map),
        ("units", args.units),
        ("up_axis", args.up_axis),
        ("fps", args.fps),
    )
    options = {key: value for key, value in named if value is not None}
    try:
        counts, warnings = convert(
            args.src,
            args.dst,
            src_format=args.src_format,
            dst_format=args.dst_format,
            strict=args.strict,
            normalization=Normalization(args.center, args.normalize_scale),
            trim=args.trim,
            window=window,
            **options,
        )
    except (DataFormatError, FileNotFoundError, ValueError, TypeError) as error:
        return input_error(error)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {args.dst} ({args.dst_format}): " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _layout_option(value: str | None) -> str | None:
    """A layout name, or the name of the layout file ``value`` (read, checked and registered)."""
    if value is None or not (value.endswith((".yaml", ".yml", ".json")) or Path(value).is_file()):
        return value
    return load_layout_file(value).name


def _run_synthetic(args: argparse.Namespace) -> int:
    paths = write_synthetic_ntu(args.out, args.samples, num_actions=args.actions, seed=args.seed)
    print(f"wrote {len(paths)} synthetic .skeleton files to {args.out} (test data, not real recordings)")
    return 0
