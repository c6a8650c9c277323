"""Tabulate the transfer study (scripts/transfer_study.sh) as RESULTS.md's Markdown table and a figure.

    python scripts/transfer_table.py [--out runs/transfer] [--png docs/images/transfer_fewlabel.png]
        NAME [NAME ...]

For each pre-training NAME (a folder of OUT) and for scratch: the interpolation ratio on NW-UCLA's
test split (``eval_test.json`` of ``skeletonmae evaluate --checkpoint OUT/NAME/best.pt --set
data.root=data/prepared/nw-ucla``), k-NN and the one-view linear probe (``probe.json``), 10 %-label
fine-tuning over the label subsets found (``ft10-NAME-sK``: mean +- std of the best test top-1 and the
gain over scratch's same subset), all labels (``ft100-NAME-sK``), and the pre-training's wall time.
The figure draws each label subset's accuracy per row, scratch first.
"""

from __future__ import annotations

import argparse
import csv
import json
from datetime import datetime
from pathlib import Path

import numpy as np

from skeletonmae.checkpoints import load_checkpoint


def best_top1(run: Path) -> float | None:
    """Best test top-1 (%) of a finished fine-tuning (curves.png is written last), else None."""
    if not (run / "curves.png").is_file():
        return None
    return 100 * float(load_checkpoint(run / "best.pt")["best_metric"])


def seeds_of(out: Path, prefix: str, name: str) -> dict[int, float]:
    found = {}
    for run in sorted(out.glob(f"{prefix}-{name}-s*")):
        value = best_top1(run)
        if value is not None:
            found[int(run.name.rsplit("-s", 1)[1])] = value
    return found


def mean_std(values: list[float]) -> str:
    if not values:
        return "—"
    spread = np.std(values, ddof=1) if len(values) > 1 else 0.0
    return f"{np.mean(values):.1f} +- {spread:.1f} ({len(values)})"


def pretraining_facts(run: Path) -> tuple[str, str, str]:
    """Interpolation ratio on NW-UCLA test, 'k-NN / linear', and wall time in minutes."""
    ratio = knn_linear = wall = "—"
    if (run / "eval_test.json").is_file():
        ratio = f"{json.loads((run / 'eval_test.json').read_text())['val_interp_ratio']:.2f}"
    if (run / "probe.json").is_file():
        result = json.loads((run / "probe.json").read_text())["results"][0]
        knn_linear = f"{result['knn_top1']:.1f} / {result['linear_top1']:.1f}"
    if (run / "curves.png").is_file():
        started = datetime.fromtimestamp((run / "env.json").stat().st_mtime)
        wall = f"{(datetime.fromtimestamp((run / 'curves.png').stat().st_mtime) - started).seconds / 60:.0f}"
    steps = (
        sum(1 for _ in csv.DictReader((run / "metrics.csv").open())) if (run / "metrics.csv").is_file() else 0
    )
    return ratio, knn_linear, f"{wall} ({steps} epochs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="+")
    parser.add_argument("--out", type=Path, default=Path("runs/transfer"))
    parser.add_argument("--png", type=Path, default=None)
    args = parser.parse_args()
    scratch10, scratch100 = seeds_of(args.out, "ft10", "scratch"), seeds_of(args.out, "ft100", "scratch")
    columns = ("pre-training", "interp. ratio", "k-NN / linear", "10 % labels", "gain over scratch")
    print("| " + " | ".join((*columns, "all labels", "wall (min)")) + " |")
    print("|---" * (len(columns) + 2) + "|")
    scratch = (mean_std(list(scratch10.values())), mean_std(list(scratch100.values())))
    print(f"| none (scratch) | — | — | {scratch[0]} | | {scratch[1]} | |")
    rows = {"scratch": scratch10}
    for name in args.names:
        few, full = seeds_of(args.out, "ft10", name), seeds_of(args.out, "ft100", name)
        gains = [few[s] - scratch10[s] for s in few if s in scratch10]
        ratio, knn_linear, wall = pretraining_facts(args.out / name)
        print(
            f"| {name} | {ratio} | {knn_linear} | {mean_std(list(few.values()))} | "
            f"{mean_std(gains)} | {mean_std(list(full.values()))} | {wall} |"
        )
        rows[name] = few
    if args.png:
        draw(rows, args.png)


def draw(rows: dict[str, dict[int, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(1.8 + 1.6 * len(rows), 3.6))
    for column, by_seed in enumerate(rows.values()):
        seeds = sorted(by_seed)
        values = [by_seed[s] for s in seeds]
        axis.scatter([column] * len(values), values, s=18, color="tab:gray", zorder=2)
        for seed, value in zip(seeds, values):
            axis.annotate(str(seed), (column, value), xytext=(4, -3), textcoords="offset points", fontsize=7)
        if values:
            axis.hlines(np.mean(values), column - 0.3, column + 0.3, color="tab:red", zorder=3)
    axis.set_xticks(range(len(rows)), list(rows), rotation=15)
    axis.set_ylabel("NW-UCLA top-1 (%), 10 % labels")
    axis.set_title("10 %-label fine-tuning per label subset (red: mean)")
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
