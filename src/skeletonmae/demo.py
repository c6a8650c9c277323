"""The demo: what pre-training buys with few labels, in a few minutes on a CPU.

1. Data: the real NW-UCLA ``all_sqe`` folder if one is given or found, otherwise generated
   NW-UCLA-format JSON files (the released weights' Kinect v1 layout), both prepared by
   ``prepare_nw_ucla``.
2. Weights: a released pre-trained SkeletonMAE (``skeletonmae.released``; by default
   ``kinect20-base``, pre-trained on 1.3 M unlabelled frames), or any pre-training checkpoint.
3. Fine-tune on a class-balanced fraction of the labels, for each of three label subsets, twice:
   from the pre-trained encoder and from scratch, with the same data, schedule and seeds; the
   recipe is read from ``configs/nw-ucla/finetune-base.yaml``, the model from the weights. The runs
   go two at a time.
4. Print each subset, the mean +- std and the paired gain, and draw a masked test sequence and the
   released decoder's reconstruction.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import multiprocessing
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skeletonmae.config import require
from skeletonmae.run_config import RunConfig, load_run_config, run_config_from_mapping

log = logging.getLogger(__name__)

NW_UCLA_ENV = "SKELETONMAE_NW_UCLA"
# Where the demo looks for NW-UCLA's all_sqe folder when no path is given (relative to the cwd).
NW_UCLA_CANDIDATES = ("data/nw_ucla/all_sqe", "../shared/data/nw_ucla/all_sqe")


@dataclass(frozen=True)
class DemoConfig:
    """Demo settings; the defaults finish in about 10 minutes on a 2-core CPU."""

    output_dir: Path = Path("runs/demo")
    nw_ucla: Path | None = None
    synthetic: bool = False
    synthetic_samples: int = 600
    weights: str = "kinect20-base"
    finetune_epochs: int = 50
    label_fraction: float = 0.1
    label_seeds: tuple[int, ...] = (1, 2, 3)
    workers: int = 2

    def __post_init__(self) -> None:
        require(
            self.synthetic_samples >= 60,
            "synthetic_samples",
            f"got {self.synthetic_samples}; use at least 60 so every class has training and test samples",
        )
        require(self.finetune_epochs >= 1, "finetune_epochs", "use at least 1")
        require(0.0 < self.label_fraction <= 1.0, "label_fraction", "use a fraction in (0, 1]")
        require(len(self.label_seeds) >= 1, "label_seeds", "name at least one label subset, e.g. 1 2 3")
        require(self.workers >= 1, "workers", "use at least 1 process")


@dataclass(frozen=True)
class SubsetResult:
    """Best test top-1 (in [0, 1]) of the two runs on one label subset."""

    seed: int
    pretrained: float
    scratch: float

    @property
    def gain(self) -> float:
        return self.pretrained - self.scratch


@dataclass(frozen=True)
class DemoResult:
    """What the demo measured, and the files a user should look at."""

    dataset: str
    weights: str
    subsets: tuple[SubsetResult, ...]
    run_dirs: tuple[Path, ...]
    picture: Path | None
    animation: Path | None
    seconds: float


def find_nw_ucla(explicit: Path | None) -> Path | None:
    """The NW-UCLA ``all_sqe`` folder: ``explicit``, then ``$SKELETONMAE_NW_UCLA``, then the
    usual places relative to the working directory; ``None`` when none exists."""
    if explicit is not None:
        if not Path(explicit).is_dir():
            raise FileNotFoundError(
                f"{explicit}: NW-UCLA folder not found; pass the all_sqe folder "
                "holding the a??_s??_e??_v??.json files"
            )
        return Path(explicit)
    env = os.environ.get(NW_UCLA_ENV)
    for candidate in ([env] if env else []) + list(NW_UCLA_CANDIDATES):
        if Path(candidate).is_dir() and any(Path(candidate).glob("*.json")):
            return Path(candidate)
    return None


def prepare_demo_data(config: DemoConfig) -> tuple[str, Path]:
    """Prepare the demo's dataset; returns its description and the prepared root."""
    from skeletonmae.data.prepare import prepare_nw_ucla

    raw = None if config.synthetic else find_nw_ucla(config.nw_ucla)
    if raw is not None:
        root = config.output_dir / "data" / "nw-ucla"
        log.info("demo data: real NW-UCLA from %s", raw)
        prepare_nw_ucla(raw, root, workers=config.workers)
        return f"NW-UCLA (real, {raw})", root
    from skeletonmae.data.synthetic import write_synthetic_nw_ucla

    raw = config.output_dir / "data" / "generated-nw-ucla"
    root = config.output_dir / "data" / "generated-nw-ucla-prepared"
    why = "--synthetic" if config.synthetic else f"no NW-UCLA found (pass --nw-ucla DIR or set {NW_UCLA_ENV})"
    log.info("demo data: %s; generating %d NW-UCLA-format files in %s", why, config.synthetic_samples, raw)
    if raw.is_dir():
        shutil.rmtree(raw)
    write_synthetic_nw_ucla(raw, config.synthetic_samples, seed=config.label_seeds[0])
    prepare_nw_ucla(raw, root, workers=config.workers)
    return "generated NW-UCLA-format data (test data, not real recordings)", root


#: The fine-tuning recipe the demo runs, shipped beside the package in the source checkout.
RECIPE = Path("configs/nw-ucla/finetune-base.yaml")


def recipe_path() -> Path:
    """``configs/nw-ucla/finetune-base.yaml`` of the checkout this package runs from (or of the
    working directory)."""
    for base in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (base / RECIPE).is_file():
            return base / RECIPE
    raise FileNotFoundError(
        f"{RECIPE}: the demo's fine-tuning recipe was not found; run the demo from a clone of the "
        "repository (pip install -e .) or from its root folder"
    )


def weights_config(weights: str) -> RunConfig:
    """The run config stored with the pre-trained weights (their model and transform)."""
    from skeletonmae.checkpoints import load_checkpoint

    return run_config_from_mapping(dict(load_checkpoint(weights)["config"]))


def finetune_config(
    config: DemoConfig, root: Path, pretraining: RunConfig, seed: int, pretrained: str | None
) -> RunConfig:
    """One demo run: ``configs/nw-ucla/finetune-base.yaml`` with the weights' model, label subset
    and seed ``seed``, the demo's epochs; from ``pretrained`` (with the layer decay the recipe
    recommends) or from scratch (None)."""
    name = f"{'pretrained' if pretrained else 'scratch'}-{seed}"
    overrides = [
        f"data.root={root}",
        f"data.label_fraction={config.label_fraction}",
        f"data.label_seed={seed}",
        f"training.epochs={config.finetune_epochs}",
        f"training.seed={seed}",
        "training.progress_bar=false",
        "training.device=cpu",
        f"finetune.pretrained={pretrained or 'null'}",
        f"finetune.layer_decay={0.75 if pretrained else 1.0}",
        f"output_dir={config.output_dir / name}",
    ]
    recipe, _ = load_run_config(recipe_path(), overrides)
    warmup = min(recipe.schedule.warmup_epochs, config.finetune_epochs / 2)  # short demo runs
    return dataclasses.replace(
        recipe, model=pretraining.model, schedule=dataclasses.replace(recipe.schedule, warmup_epochs=warmup)
    )


def _run_one(run: RunConfig, threads: int) -> float:
    """One fine-tuning in a worker process; its best test top-1."""
    import torch

    from skeletonmae.training.stages import run_finetune

    torch.set_num_threads(threads)
    return float(run_finetune(run).best_metric or 0.0)


def run_all(runs: list[RunConfig], workers: int) -> list[float]:
    """The fine-tunings, ``workers`` at a time (each in its own process); a progress bar counts them."""
    from tqdm import tqdm

    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_run_one, run, threads) for run in runs]
        with tqdm(total=len(runs), desc="fine-tuning runs", unit="run") as bar:
            for _ in concurrent.futures.as_completed(futures):
                bar.update(1)
        return [future.result() for future in futures]


def run_demo(config: DemoConfig) -> DemoResult:
    """Run the demo end to end and return what it measured."""
    from skeletonmae.inference.reconstruction import visualize_reconstruction
    from skeletonmae.released import resolve_weights

    started = time.perf_counter()
    dataset, root = prepare_demo_data(config)
    weights = str(resolve_weights(config.weights))
    pretraining = weights_config(weights)
    runs = [
        finetune_config(config, root, pretraining, seed, pretrained)
        for seed in config.label_seeds
        for pretrained in (weights, None)
    ]
    for run in runs:
        if run.output_dir.exists():
            log.info("removing the previous demo run %s", run.output_dir)
            shutil.rmtree(run.output_dir)
    scores = run_all(runs, config.workers)
    subsets = tuple(
        SubsetResult(seed, scores[2 * i], scores[2 * i + 1]) for i, seed in enumerate(config.label_seeds)
    )
    # the released decoder's reconstruction of the first test sample
    files = visualize_reconstruction(
        weights,
        0,
        output_dir=config.output_dir / "reconstruction",
        seed=config.label_seeds[0],
        overrides=[f"data.root={root}", "data.test_split=test"],
    )
    run_dirs, seconds = tuple(run.output_dir for run in runs), time.perf_counter() - started
    return DemoResult(dataset, config.weights, subsets, run_dirs, files.png, files.gif, seconds)


def _mean_std(values: list[float], sign: str = "") -> str:
    array = 100 * np.asarray(values)
    spread = array.std(ddof=1) if len(array) > 1 else 0.0
    return f"{array.mean():{sign}.1f} +- {spread:.1f}"


def describe_weights(weights: str) -> str:
    """A released model's name with what its card says it learned from; a path as it is."""
    from skeletonmae.released import read_card, released_names

    if weights not in released_names():
        return weights
    facts, _ = read_card(weights)
    return f"{weights} (released; {facts['summary']})"


def summary(config: DemoConfig, result: DemoResult) -> str:
    """The table the demo prints, and how to go further."""
    pct = f"{config.label_fraction:.0%}"
    lines = [
        "",
        f"SkeletonMAE demo on {result.dataset}",
        f"  weights: {describe_weights(result.weights)}",
        f"  {pct} of the labels, {config.finetune_epochs} fine-tuning epochs; best test top-1 (%)",
        f"  {'label subset':<14}{'pre-trained':>14}{'scratch':>14}{'gain':>14}",
    ]
    for subset in result.subsets:
        lines.append(
            f"  {subset.seed:<14}{100 * subset.pretrained:>14.1f}{100 * subset.scratch:>14.1f}"
            f"{100 * subset.gain:>+14.1f}"
        )
    lines += [
        f"  {'mean +- std':<14}{_mean_std([s.pretrained for s in result.subsets]):>14}"
        f"{_mean_std([s.scratch for s in result.subsets]):>14}"
        f"{_mean_std([s.gain for s in result.subsets], '+'):>14}",
        f"  wall time {result.seconds / 60:.1f} min; runs in {config.output_dir}/",
    ]
    if result.picture is not None:
        lines.append(f"  reconstruction by the pre-trained decoder: {result.picture} and {result.animation}")
    lines += [
        "",
        "Pre-train on your own unlabelled skeletons, then fine-tune (docs/data.md, 'Pre-training on an",
        "unlabelled corpus'):",
        "  skeletonmae prepare convert my_clips.npz data/prepared/mine --window 64",
        "  skeletonmae pretrain --config configs/nw-ucla/pretrain-base.yaml \\",
        "      --set data.root=data/prepared/mine --set data.val_split=null",
    ]
    return "\n".join(lines)
