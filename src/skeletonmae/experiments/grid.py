"""Grid expansion: a :class:`SweepSpec` -> its variants (grid cells and named extra cells).

A *variant* is one setting of the ablation (one row of the paper's table before label fractions
and seeds). Grid variants are every combination of the axis values, in the order the axes and
values are written; their names join ``<short key>-<value>`` parts with ``__``
(``strategy-random__frame_ratio-0.4``), so run folders say what they hold. A spec without axes has
one grid variant, ``base``. Extra cells follow the grid, under their own names.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Sequence
from typing import Any

from skeletonmae.experiments.paper import values_equal
from skeletonmae.experiments.spec import SweepSpec, flatten_settings, split_stage_key

BASE_VARIANT = "base"
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclasses.dataclass(frozen=True)
class Variant:
    """One ablation setting.

    ``axis_values``: the dotted settings that define it and are applied (a grid cell's axis
    values, or an extra cell's own settings), keys possibly stage-prefixed; ``from_scratch``:
    fine-tune without pre-training.
    """

    name: str
    axis_values: tuple[tuple[str, Any], ...]
    from_scratch: bool = False
    is_extra: bool = False

    def stage_settings(self, stage: str) -> list[tuple[str, Any]]:
        """The settings that apply to ``stage``, stage prefix removed, in order."""
        selected = []
        for key, value in self.axis_values:
            prefix, bare = split_stage_key(key)
            if prefix is None or prefix == stage:
                selected.append((bare, value))
        return selected

    def pretrain_name(self, axis_keys: Sequence[str]) -> str:
        """Name of this variant's pre-training: the parts of its name that change pre-training."""
        if self.is_extra:
            return self.name
        labels = axis_labels(axis_keys)
        parts = [
            name_part(labels[key], value)
            for key, value in self.axis_values
            if split_stage_key(key)[0] in (None, "pretrain")
        ]
        return "__".join(parts) or BASE_VARIANT


def value_text(value: Any) -> str:
    """A setting value as short text: ``0.4``, ``random``, ``true``, ``64-128`` for lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "-".join(value_text(v) for v in value)
    if value is None:
        return "null"
    return str(value)


def name_part(label: str, value: Any) -> str:
    """``label-value`` made safe for a folder name."""
    return _UNSAFE.sub("_", f"{label}-{value_text(value)}")


def axis_labels(keys: Sequence[str]) -> dict[str, str]:
    """Short label of each axis key: its last component, or the whole key when two axes share
    a last component (``pretrain.training.epochs`` and ``finetune.training.epochs``)."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {key: (short if last.count(short) == 1 else key) for key, short in zip(keys, last)}


def _matches(when: dict[str, Any], axis_values: dict[str, Any]) -> bool:
    return all(key in axis_values and values_equal(axis_values[key], value) for key, value in when.items())


def _grid_variants(spec: SweepSpec) -> list[Variant]:
    keys = list(spec.axes)
    labels = axis_labels(keys)
    variants = []
    for combination in itertools.product(*(spec.axes[key] for key in keys)):
        axis_values = tuple(zip(keys, combination))
        name = "__".join(name_part(labels[k], v) for k, v in axis_values) or BASE_VARIANT
        variants.append(Variant(name, axis_values))
    return variants


def expand_variants(spec: SweepSpec) -> list[Variant]:
    """Grid variants (every axis combination, or ``base`` when there are no axes) followed by
    the extra cells. ``base`` is kept beside extra cells, so a label-fraction table with a
    from-scratch extra cell compares it against pre-training. ``spec.only`` keeps the variants
    whose settings include all of its key / value pairs."""
    variants = _grid_variants(spec)
    grid_names = {v.name for v in variants}
    for cell in spec.extra_cells:
        if cell.name in grid_names:
            raise ValueError(
                f"extra_cells: {cell.name!r} is also the name of a grid cell; rename the extra cell"
            )
        settings = tuple(flatten_settings(cell.settings).items())
        variants.append(Variant(cell.name, settings, cell.from_scratch, is_extra=True))
    if not spec.only:
        return variants
    varied = {key for v in variants for key, _ in v.axis_values}
    unknown = [key for key in spec.only if key not in varied]
    if unknown:
        raise ValueError(
            f"only: {', '.join(unknown)} is set by none of the cells: only selects "
            "cells by the settings they vary (axes: "
            f"{', '.join(spec.axes) or 'none'}; extra cells' settings: "
            f"{', '.join(sorted(varied - set(spec.axes))) or 'none'})"
        )
    kept = [v for v in variants if _matches(spec.only, dict(v.axis_values))]
    if not kept:
        raise ValueError(
            f"only: {spec.only} matches none of the cells ({', '.join(v.name for v in variants)})"
        )
    return kept
