"""diagnostic: probe the pooled output of every encoder block (and the input embedding),
not only the last one, with the same k-NN and linear probe as ``skeletonmae probe``; the last
rows add standardised features (z-scored per dimension with the training split's statistics):
the last block, all blocks concatenated, and the raw input coordinates as their baseline.

    python scripts/probe_blocks.py runs/exp/visible-rescale-100ep/best.pt \
        --data data/prepared/nw-ucla [--random-init]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.store import load_split
from skeletonmae.inference.features import SplitFeatures
from skeletonmae.inference.predictor import load
from skeletonmae.inference.probe import probe_features, random_init_model


def block_features(model, split, batch_size: int = 64) -> list[np.ndarray]:
    """Per block (input embedding first): ``(N, D_k)`` features, mean over tuples, slots, persons;
    then the last block pooled less (per joint ``(N, D * V)``, per tuple ``(N, D * T / L)``) and
    the raw input coordinates ``(N, C * T * V)``."""
    encoder = model.classifier.encoder
    cfg = model.classifier.config
    captured: list[torch.Tensor] = []
    unpooled: list[torch.Tensor] = []
    hooks = [
        encoder.input_embedding.register_forward_hook(lambda m, i, o: captured.append(o.mean(dim=(2, 3))))
    ]
    hooks += [
        b.register_forward_hook(lambda m, i, o: captured.append(o.mean(dim=(2, 3)))) for b in encoder.blocks
    ]
    last = encoder.blocks[-1].register_forward_hook(lambda m, i, o: unpooled.append(o))
    dataset = SkeletonDataset(split, model.transform, train=False)
    layers: list[list[torch.Tensor]] = [[] for _ in hooks] + [[], [], []]
    with torch.no_grad():
        for start in range(0, len(dataset), batch_size):
            x, _, _ = dataset.get_batch(np.arange(start, min(start + batch_size, len(dataset))))
            captured.clear()
            unpooled.clear()
            model.classifier.forward_features(x)  # one person (NW-UCLA): rows are samples
            for k, features in enumerate(captured):
                layers[k].append(features)
            grid = unpooled[0]  # (N, D, T / L, L * V), slot = frame-in-tuple * V + joint
            n, d, tuples, _ = grid.shape
            per_joint = grid.reshape(n, d, tuples, cfg.tuple_len, cfg.num_joints).mean(dim=(2, 3))
            layers[-3].append(per_joint.flatten(1))
            layers[-2].append(grid.mean(dim=3).flatten(1))
            layers[-1].append(x.flatten(1))
    for hook in [*hooks, last]:
        hook.remove()
    return [torch.cat(chunks).numpy() for chunks in layers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--data", required=True)
    parser.add_argument("--random-init", action="store_true", help="the same config, randomly initialised")
    args = parser.parse_args()
    model = load(args.checkpoint).model
    if args.random_init:
        model = random_init_model(model)
    splits = {name: load_split(f"{args.data}/{name}") for name in ("train", "test")}
    per_split = {name: block_features(model, split) for name, split in splits.items()}
    num_classes = int(splits["train"].meta["num_classes"])
    raw = {name: per_split[name].pop() for name in per_split}
    less_pooled = {name: [per_split[name].pop(), per_split[name].pop()][::-1] for name in per_split}
    names = ["input embedding"] + [f"block {k}" for k in range(1, len(per_split["train"]))]
    blocks = range(1, len(per_split["train"]))
    last = len(per_split["train"]) - 1

    def standardised(name: str, k: int | str | None) -> np.ndarray:
        pick = {None: lambda split: raw[split], "joint": lambda split: less_pooled[split][0]}
        pick["tuple"] = lambda split: less_pooled[split][1]
        source = {split: pick[k](split) if k in pick else per_split[split][k] for split in per_split}
        mean, std = source["train"].mean(axis=0), source["train"].std(axis=0) + 1e-6
        return (source[name] - mean) / std

    for name in per_split:
        per_split[name] += [
            standardised(name, last),
            np.concatenate([standardised(name, k) for k in blocks], axis=1),
            standardised(name, "joint"),
            standardised(name, "tuple"),
            standardised(name, None),
        ]
    names += [
        f"block {last}, std.",
        "blocks concat., std.",
        f"block {last} per joint, std.",
        f"block {last} per tuple, std.",
        "raw coords, std.",
    ]
    print(f"{'layer':<26}{'dim':>5}{'k-NN':>8}{'linear':>8}")
    for k in range(len(per_split["train"])):
        parts = [
            SplitFeatures(per_split[name][k], np.asarray(splits[name].labels), splits[name].names, name)
            for name in ("train", "test")
        ]
        result = probe_features(f"layer {k}", parts[0], parts[1], num_classes)
        dim, knn, linear = parts[0].features.shape[1], result.knn_top1, result.linear.final_top1
        print(f"{names[k]:<26}{dim:>5}{100 * knn:>8.1f}{100 * linear:>8.1f}")


if __name__ == "__main__":
    main()
