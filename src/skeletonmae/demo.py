"""The demo: the whole SkeletonMAE recipe at CPU scale, in a few minutes.

1. Data: the real NW-UCLA ``all_sqe`` folder if one is given or found, otherwise generated
   NTU-format ``.skeleton`` files (prepared through the same raw NTU pipeline as the real dataset).
2. Pre-train the ``cpu-base`` SkeletonMAE on the training split without labels, with the CPU
   recipe of ``configs/nw-ucla/pretrain-base.yaml`` (RESULTS.md, issue 12).
3. Fine-tune on a class-balanced fraction of the labels twice: from the pre-trained encoder and
   from scratch, with the same seed, schedule and data (``configs/nw-ucla/finetune-base.yaml``).
4. Print both accuracies side by side and draw a masked sequence and its reconstruction.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from skeletonmae.config import require
from skeletonmae.data.transforms import TransformConfig
from skeletonmae.models.config import MaskConfig, preset
from skeletonmae.training.run_config import DataConfig, FinetuneConfig, RunConfig
from skeletonmae.training.settings import OptimConfig, ScheduleConfig, TrainingConfig

log = logging.getLogger(__name__)

NW_UCLA_ENV = "SKELETONMAE_NW_UCLA"
# Where the demo looks for NW-UCLA's all_sqe folder when no path is given (relative to the cwd).
NW_UCLA_CANDIDATES = ("data/nw_ucla/all_sqe", "../shared/data/nw_ucla/all_sqe")


@dataclass(frozen=True)
class DemoConfig:
    """Demo settings; the defaults finish in a few minutes on a 2-core CPU."""

    output_dir: Path = Path("runs/demo")
    nw_ucla: Path | None = None
    synthetic: bool = False
    synthetic_samples: int = 480
    synthetic_actions: int = 6
    pretrain_epochs: int = 20
    finetune_epochs: int = 50
    label_fraction: float = 0.1
    batch_size: int = 16  # fine-tuning; pre-training uses 32
    seed: int = 1
    workers: int = 2

    def __post_init__(self) -> None:
        require(
            self.synthetic_samples >= 48,
            "synthetic_samples",
            f"got {self.synthetic_samples}; use at least 48 so every split has samples",
        )
        require(self.pretrain_epochs >= 1, "pretrain_epochs", "use at least 1")
        require(self.finetune_epochs >= 1, "finetune_epochs", "use at least 1")
        require(0.0 < self.label_fraction <= 1.0, "label_fraction", "use a fraction in (0, 1]")


@dataclass(frozen=True)
class DemoResult:
    """Accuracies (top-1, in [0, 1]) and the files a user should look at."""

    dataset: str
    pretrained_top1: float
    scratch_top1: float
    pretrain_dir: Path
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
    """Prepare the demo's dataset; returns its name and the prepared root (train/ and test/)."""
    from skeletonmae.data.prepare import prepare_ntu, prepare_nw_ucla

    raw = None if config.synthetic else find_nw_ucla(config.nw_ucla)
    if raw is not None:
        root = config.output_dir / "data" / "nw-ucla"
        log.info("demo data: real NW-UCLA from %s", raw)
        prepare_nw_ucla(raw, root, workers=config.workers)
        return "NW-UCLA (real)", root
    from skeletonmae.data.synthetic import write_synthetic_ntu

    raw_dir = config.output_dir / "data" / "synthetic-raw"
    root = config.output_dir / "data" / "synthetic-ntu60-xsub"
    log.info(
        "demo data: no NW-UCLA found (pass --nw-ucla DIR or set %s); generating %d "
        "NTU-format .skeleton files in %s",
        NW_UCLA_ENV,
        config.synthetic_samples,
        raw_dir,
    )
    if not raw_dir.is_dir() or len(list(raw_dir.glob("*.skeleton"))) != config.synthetic_samples:
        write_synthetic_ntu(
            raw_dir, config.synthetic_samples, num_actions=config.synthetic_actions, seed=config.seed
        )
    prepare_ntu(raw_dir, root, "ntu60-xsub", workers=config.workers)
    return "generated NTU-format data (ntu60-xsub split)", root


def stage_config(config: DemoConfig, root: Path, stage: str, *, pretrained: Path | None = None) -> RunConfig:
    """The run config of one demo stage (``pretrain``, ``finetune``, ``scratch``): the NW-UCLA CPU
    recipe of ``configs/nw-ucla/pretrain-base.yaml`` and ``finetune-base.yaml``."""
    pretraining = stage == "pretrain"
    epochs = config.pretrain_epochs if pretraining else config.finetune_epochs
    return RunConfig(
        data=DataConfig(
            root=root,
            batch_size=32 if pretraining else config.batch_size,
            num_workers=0,
            label_fraction=1.0 if pretraining else config.label_fraction,
            label_seed=config.seed,
            transform=TransformConfig(
                num_frames=30, min_crop_frames=20, align_facing=True, minmax_normalize=True, flip_prob=0.5
            ),
        ),
        model=preset("cpu-base", visible_attention_rescale=True),
        # MAMP's pretext (motion-aware masking, normalised motion target) on the paper's ratios
        mask=MaskConfig(
            frame_ratio=0.4,
            joint_ratio=0.5,
            loss_on="masked",
            motion_temperature=0.75,
            target="motion",
            normalize_target=True,
        ),
        optim=OptimConfig(name="adamw", lr=0.003 if pretraining else 0.01, weight_decay=0.05),
        schedule=ScheduleConfig(name="cosine", warmup_epochs=min(2.0, 0.1 * epochs)),
        training=TrainingConfig(
            epochs=epochs,
            seed=config.seed,
            label_smoothing=0.1,
            eval_every=10 if pretraining else 5,
        ),
        finetune=FinetuneConfig(pretrained=pretrained),
        output_dir=config.output_dir / stage,
    )


def _fresh(run_dir: Path) -> None:
    """The demo always trains anew: clear a stage folder left by an earlier demo."""
    if run_dir.exists():
        log.info("removing the previous demo run %s", run_dir)
        shutil.rmtree(run_dir)


def run_demo(config: DemoConfig) -> DemoResult:
    """Run the demo end to end and return its accuracies and pictures."""
    from skeletonmae.training.stages import run_finetune, run_pretrain

    started = time.perf_counter()
    dataset, root = prepare_demo_data(config)
    for stage in ("pretrain", "finetune", "scratch"):
        _fresh(config.output_dir / stage)
    pretrain = run_pretrain(stage_config(config, root, "pretrain"))
    finetuned = run_finetune(stage_config(config, root, "finetune", pretrained=pretrain.best_checkpoint))
    scratch = run_finetune(stage_config(config, root, "scratch"))
    picture, animation = _draw_reconstruction(pretrain.best_checkpoint, config)
    return DemoResult(
        dataset,
        finetuned.best_metric or 0.0,
        scratch.best_metric or 0.0,
        pretrain.run_dir,
        picture,
        animation,
        time.perf_counter() - started,
    )


def _draw_reconstruction(checkpoint: Path, config: DemoConfig) -> tuple[Path | None, Path | None]:
    """Original, masked input and reconstruction of the first test sample, as PNG and GIF."""
    from skeletonmae.inference.reconstruction import visualize_reconstruction

    files = visualize_reconstruction(
        checkpoint, 0, output_dir=config.output_dir / "reconstruction", seed=config.seed
    )
    return files.png, files.gif


def summary(config: DemoConfig, result: DemoResult) -> str:
    """The table the demo prints, and how to go further."""
    pct = f"{config.label_fraction:.0%}"
    lines = [
        "",
        f"SkeletonMAE demo on {result.dataset}, cpu-base preset, {pct} of the labels",
        f"  {'initialisation':<28}{'top-1 (test)':>14}",
        f"  {'SkeletonMAE pre-trained':<28}{100 * result.pretrained_top1:>13.1f}%",
        f"  {'from scratch':<28}{100 * result.scratch_top1:>13.1f}%",
        f"  wall time {result.seconds / 60:.1f} min; runs in {config.output_dir}/",
    ]
    if result.picture is not None:
        lines.append(f"  reconstruction: {result.picture} and {result.animation}")
    lines += [
        "",
        "The paper's setting (NTU-60 X-Sub, STTFormer, 200 + 200 epochs, 8 GPUs):",
        "  skeletonmae prepare ntu --raw NTU_RAW_DIR --out data/prepared/ntu60-xsub --benchmark ntu60-xsub",
        "  torchrun --nproc_per_node=8 -m skeletonmae.cli.main pretrain "
        "--config configs/ntu60-xsub/pretrain.yaml",
        "  torchrun --nproc_per_node=8 -m skeletonmae.cli.main finetune "
        "--config configs/ntu60-xsub/finetune.yaml",
    ]
    return "\n".join(lines)
