"""Issue 12 diagnostic: probe the pooled output of every encoder block (and the input embedding),
not only the last one, with the same k-NN and linear probe as ``skeletonmae probe``; the last
rows add standardised features (z-scored per dimension with the training split's statistics):
the last block, all blocks concatenated, and the raw input coordinates as their baseline.

    python scripts/issue12_probe_blocks.py runs/exp/e8-visible-rescale-100ep/best.pt \
        --data data/prepared/nw-ucla
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.store import load_split
from skeletonmae.inference.features import SplitFeatures
from skeletonmae.inference.predictor import load
from skeletonmae.inference.probe import probe_features


def block_features(model, split, batch_size: int = 64) -> list[np.ndarray]:
    """Per block (input embedding first): ``(N, D_k)`` features, mean over tuples, slots, persons."""
    encoder = model.classifier.encoder
    captured: list[torch.Tensor] = []
    hooks = [
        encoder.input_embedding.register_forward_hook(lambda m, i, o: captured.append(o.mean(dim=(2, 3))))
    ]
    hooks += [
        b.register_forward_hook(lambda m, i, o: captured.append(o.mean(dim=(2, 3)))) for b in encoder.blocks
    ]
    dataset = SkeletonDataset(split, model.transform, train=False)
    layers: list[list[torch.Tensor]] = [[] for _ in hooks] + [[]]  # + raw input coordinates
    with torch.no_grad():
        for start in range(0, len(dataset), batch_size):
            x, _, _ = dataset.get_batch(np.arange(start, min(start + batch_size, len(dataset))))
            captured.clear()
            model.classifier.forward_features(x)  # one person (NW-UCLA): rows are samples
            for k, features in enumerate(captured):
                layers[k].append(features)
            layers[-1].append(x.flatten(1))
    for hook in hooks:
        hook.remove()
    return [torch.cat(chunks).numpy() for chunks in layers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    model = load(args.checkpoint).model
    splits = {name: load_split(f"{args.data}/{name}") for name in ("train", "test")}
    per_split = {name: block_features(model, split) for name, split in splits.items()}
    num_classes = int(splits["train"].meta["num_classes"])
    raw = {name: per_split[name].pop() for name in per_split}
    names = ["input embedding"] + [f"block {k}" for k in range(1, len(per_split["train"]))]
    blocks = range(1, len(per_split["train"]))
    last = len(per_split["train"]) - 1

    def standardised(name: str, k: int | None) -> np.ndarray:
        source = {split: raw[split] if k is None else per_split[split][k] for split in per_split}
        mean, std = source["train"].mean(axis=0), source["train"].std(axis=0) + 1e-6
        return (source[name] - mean) / std

    for name in per_split:
        per_split[name] += [
            standardised(name, last),
            np.concatenate([standardised(name, k) for k in blocks], axis=1),
            standardised(name, None),
        ]
    names += [f"block {last}, std.", "blocks concat., std.", "raw coords, std."]
    print(f"{'layer':<22}{'dim':>5}{'k-NN':>8}{'linear':>8}")
    for k in range(len(per_split["train"])):
        parts = [
            SplitFeatures(per_split[name][k], np.asarray(splits[name].labels), splits[name].names, name)
            for name in ("train", "test")
        ]
        result = probe_features(f"layer {k}", parts[0], parts[1], num_classes)
        dim, knn, linear = parts[0].features.shape[1], result.knn_top1, result.linear.final_top1
        print(f"{names[k]:<22}{dim:>5}{100 * knn:>8.1f}{100 * linear:>8.1f}")


if __name__ == "__main__":
    main()
