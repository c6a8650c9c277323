"""Pre-trained weights shipped inside the package, loadable by name.

Each release is ``NAME.safetensors`` (the model's tensors plus the run's config and data facts as
metadata, :func:`skeletonmae.checkpoints.save_weights_file`) beside its model card
``NAME.md``: YAML front matter with the facts a program checks (file hash, layout, transform,
parameters, the command and commit that made it, measured results), then the card for people.

Anywhere a checkpoint path is accepted (``finetune.pretrained``, ``predict``, ``embed``,
``probe``, ``visualize``, ``skeletonmae.load``) a release's name may stand instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

__all__ = ["RELEASE_DIR", "read_card", "released_names", "resolve_weights"]

RELEASE_DIR = Path(__file__).resolve().parent


def released_names() -> tuple[str, ...]:
    """Names of the shipped releases, sorted."""
    return tuple(sorted(path.stem for path in RELEASE_DIR.glob("*.safetensors")))


def resolve_weights(path: str | os.PathLike[str]) -> Path:
    """``path`` itself when it exists (or is not a release's name), else the release of that name."""
    candidate = Path(path)
    if candidate.exists() or str(path) not in released_names():
        return candidate
    return RELEASE_DIR / f"{path}.safetensors"


def read_card(name: str) -> tuple[dict[str, Any], str]:
    """The facts (front matter) and the text of release ``name``'s model card."""
    path = RELEASE_DIR / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no model card; released models: {', '.join(released_names())}")
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body
