"""The unlabelled pre-training corpus (``corpus/``): four unmodified Bandai BVH files read with the
project's BVH reader match the corpus' converted copy of the same recording. Extra check: the module
skips as a whole where ../shared/data is absent (tests/data/test_bvh.py covers the reader on written
rigs)."""

from __future__ import annotations

import numpy as np
from shared_data import require_shared_data

from skeletonmae.data.formats.bvh import read_bvh_folder

ROOT = require_shared_data("the corpus' Bandai files", "corpus/raw/bandai", "corpus/bandai.npz")


def test_the_real_bandai_files_match_the_corpus_copy():
    """Every body joint within 1 mm of the corpus' copy of the same recording (whose hands and head
    were placed by hand beyond the rig's end sites)."""
    raw = ROOT / "corpus" / "raw" / "bandai"
    splits, skipped = read_bvh_folder(raw, joint_map="bandai", fps=30)
    train = splits["train"]
    assert not skipped and train.num_samples == 4
    corpus = np.load(ROOT / "corpus" / "bandai.npz")
    names = list(corpus["names"])
    row = names.index("bandai/dataset-1_run_normal_001/w000")
    index = train.names.index("dataset-1_run_normal_001")
    assert train.lengths[index] == 24 == corpus["lengths"][row]
    ours = train.data[index, :, :24, :, 0] - train.data[index, :, :1, 0:1, 0]  # centred like the corpus
    error = np.linalg.norm(ours - corpus["data"][row, :, :24, :, 0].astype(np.float32), axis=0).max(axis=0)
    body = [j for j in range(20) if j not in (3, 7, 11)]  # head and hands: end sites
    assert error[body].max() < 1e-3  # 0.9 mm measured: the corpus copy is float16
    left, right = ours[0, :, 4].mean(), ours[0, :, 8].mean()  # x of the shoulders: left is +x
    assert left > right
