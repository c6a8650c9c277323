"""diagnostic (an earlier run; usage: python scripts/probe_crossview.py CHECKPOINT, on
data/prepared/nw-ucla): is the linear probe limited by the classifier or by the features?
For each weight decay it prints the probe's cross-view accuracy inside the training split (fit on
view 1, test on view 2, and back), its view-3 test accuracy and its training accuracy."""

import sys

import numpy as np
import torch

from skeletonmae.inference.checkpoint_model import load_inference_model
from skeletonmae.inference.features import embed_split, open_split_folder
from skeletonmae.inference.probe import ProbeConfig, train_linear_probe

torch.set_num_threads(1)
ckpt = sys.argv[1]
model = load_inference_model(ckpt, "cpu")
train = open_split_folder("data/prepared/nw-ucla", "train")
test = open_split_folder("data/prepared/nw-ucla", "test")
ftr = embed_split(model, train, 64, "tuple", None)
fte = embed_split(model, test, 64, "tuple", None)
views = np.array([n.split("_v")[-1][:2] for n in ftr.names])
v1, v2 = views == "01", views == "02"
print("train views", dict(zip(*np.unique(views, return_counts=True))))
for wd in (0.0, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1):
    cfg = ProbeConfig(weight_decay=wd)
    a = train_linear_probe(ftr.features[v1], ftr.labels[v1], ftr.features[v2], ftr.labels[v2], 10, cfg)
    b = train_linear_probe(ftr.features[v2], ftr.labels[v2], ftr.features[v1], ftr.labels[v1], 10, cfg)
    t = train_linear_probe(ftr.features, ftr.labels, fte.features, fte.labels, 10, cfg)
    tr = train_linear_probe(ftr.features, ftr.labels, ftr.features, ftr.labels, 10, cfg)
    print(
        f"wd {wd:g}: cross-view val (1->2, 2->1) {100 * a.final_top1:.1f} {100 * b.final_top1:.1f}"
        f" | test {100 * t.final_top1:.1f} | train acc {100 * tr.final_top1:.1f}",
        flush=True,
    )
