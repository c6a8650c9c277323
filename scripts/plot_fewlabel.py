r"""Plot few-label fine-tuning runs seed by seed: best validation top-1 of each run, grouped by variant.

Each argument is ``LABEL=PATTERN``, where PATTERN is a run folder with ``{seed}`` in place of the seed
(e.g. ``"scratch=runs/s10/ft10-lr1e-2-face-scratch-s{seed}"``). The first argument is the baseline: every
other variant's mean gain over it is printed, and the same seed (the same label subset) is joined by a
line across variants, so a reader sees whether a gain holds on every subset or only on average.

    python scripts/plot_fewlabel.py --out docs/images/fewlabel.png \
        "scratch=runs/s10/ft10-lr1e-2-face-scratch-s{seed}" \
        "facing-minmax=runs/s10/ft10-lr1e-2-face-facing-minmax-s{seed}"
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

from skeletonmae.viz.curves import read_metrics_csv, save_figure_atomic


def best_top1(run_dir: Path) -> float:
    """Best ``val_top1`` (%) in ``run_dir/metrics.csv``; a missing or empty run raises naming the folder."""
    path = run_dir / "metrics.csv"
    if not path.is_file():
        raise SystemExit(f"{path}: no metrics.csv; run the fine-tuning first or fix the pattern")
    values = [
        row["val_top1"] for row in read_metrics_csv(path) if math.isfinite(row.get("val_top1", math.nan))
    ]
    if not values:
        raise SystemExit(f"{path}: no validation epoch logged yet")
    return 100.0 * max(values)


def parse_variant(text: str) -> tuple[str, str]:
    label, sep, pattern = text.partition("=")
    if not sep or "{seed}" not in pattern:
        raise SystemExit(f"{text!r}: expected LABEL=PATTERN with {{seed}} in the pattern")
    return label, pattern


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("variants", nargs="+", help="LABEL=PATTERN, the baseline first")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--title", default="NW-UCLA, 10 % labels: best top-1 per seed")
    args = parser.parse_args()

    variants = [parse_variant(text) for text in args.variants]
    table = {label: [best_top1(Path(p.format(seed=s))) for s in args.seeds] for label, p in variants}
    base = table[variants[0][0]]
    for label, values in table.items():
        gains = [v - b for v, b in zip(values, base)]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        print(
            f"{label:28s} {' / '.join(f'{v:.1f}' for v in values)}  mean {statistics.fmean(values):.1f}"
            f" +- {std:.1f}  paired gain {statistics.fmean(gains):+.1f}"
            f" ({', '.join(f'{g:+.1f}' for g in gains)})"
        )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(max(6.0, 1.1 * len(table)), 4.2))
    xs = range(len(table))
    for index, seed in enumerate(args.seeds):
        axis.plot(
            xs, [values[index] for values in table.values()], marker="o", alpha=0.6, label=f"seed {seed}"
        )
    means = [statistics.fmean(values) for values in table.values()]
    axis.scatter(xs, means, marker="_", s=900, color="black", zorder=3, label="mean")
    axis.axhline(means[0], color="grey", linestyle=":", linewidth=1)
    axis.set_xticks(list(xs), list(table), rotation=25, ha="right", fontsize=8)
    axis.set_ylabel("best validation top-1 (%)")
    axis.set_title(args.title, fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    save_figure_atomic(figure, args.out, dpi=110)
    plt.close(figure)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
