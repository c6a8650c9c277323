"""Generic loader for nested frozen dataclass configs: YAML + dotted overrides -> typed config.

A plain mapping (YAML patched with ``--set a.b=value`` overrides) becomes a tree of dataclasses,
every key and value checked against the fields' annotations; every error names the full dotted key
and the fix. :func:`to_plain` / :func:`dump_yaml` write the resolved config back as YAML that loads
to an equal object. A section may read ``preset: NAME`` plus field overrides when the caller passes
a preset function for its dataclass (``presets={ModelConfig: preset}``).

Field types: ``bool``, ``int``, ``float``, ``str``, ``Path``, ``Literal[...]``, ``X | None`` and
other unions, ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]``, ``dict[str, X]``, dataclasses.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from skeletonmae.atomic import write_text_atomic

T = TypeVar("T")

PresetFunction = Callable[[str], Any]


class ConfigError(ValueError):
    """A config key or value is wrong; the message names the dotted key and the fix."""


class FieldValueError(ValueError):
    """Raised by a config's ``__post_init__`` for one bad field; the loader adds the section key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def require(condition: bool, field: str, message: str) -> None:
    """Raise :class:`FieldValueError` for ``field`` unless ``condition`` holds."""
    if not condition:
        raise FieldValueError(field, message)


# -- what a field means (dataclasses.field metadata) --------------------------------------------

#: The setting does not change a run's results (paths, workers, logging, device): a finished run
#: is reused when only such settings differ. ``dataclasses.field(default=..., metadata=RESULT_NEUTRAL)``.
RESULT_NEUTRAL: Mapping[str, bool] = types.MappingProxyType({"result_neutral": True})
#: The value is read from the dataset (and its transform) when the run starts, not chosen; also
#: result-neutral, since the data decides it.
DATA_BOUND: Mapping[str, bool] = types.MappingProxyType({"data_bound": True, "result_neutral": True})


def marked_fields(cls: type, marker: str, prefix: str = "") -> tuple[str, ...]:
    """Dotted keys of every field of dataclass ``cls`` (and of its nested dataclass sections)
    whose metadata sets ``marker``, e.g. ``marked_fields(RunConfig, "result_neutral")``."""
    hints = typing.get_type_hints(cls)
    keys: list[str] = []
    for field in dataclasses.fields(cls):
        key = f"{prefix}{field.name}"
        if field.metadata.get(marker):
            keys.append(key)
        hint = hints[field.name]
        options = (
            typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
        )
        for option in options:
            if dataclasses.is_dataclass(option) and isinstance(option, type):
                keys += marked_fields(option, marker, f"{key}.")
    return tuple(keys)


# -- reading YAML and overrides ------------------------------------------------------------------


def read_yaml_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping (an empty file gives ``{}``)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; pass the path of an existing YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({error}); fix the syntax") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of sections at the top level, got {type(data).__name__}"
        )
    return data


def parse_override(item: str) -> tuple[str, Any]:
    """Split ``"optim.lr=0.001"`` into ``("optim.lr", 0.001)``; the value is parsed as YAML."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"override {item!r}: expected KEY=VALUE with a dotted key, e.g. optim.lr=0.001")
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError as error:
        raise ConfigError(f"override {item!r}: value is not valid YAML ({error})") from error
    return key, value


#: One override: ``"KEY=VALUE"`` text (the value parsed as YAML, as typed on a command line) or a
#: ``(KEY, value)`` pair whose value is used as it is (a float stays a float, a path a path).
Override = str | tuple[str, Any]


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``key = "a.b.c"``, creating sections."""
    parts = key.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise ConfigError(
                f"{'.'.join(parts[: depth + 1])} is a value, not a section, so {key} cannot be set"
            )
        node = child
    node[parts[-1]] = value


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """Return a deep copy of ``data`` with each override set at its dotted key."""
    result = _deep_copy_mapping(data)
    for item in overrides:
        key, value = parse_override(item) if isinstance(item, str) else item
        try:
            set_dotted(result, key, value)
        except ConfigError as error:
            raise ConfigError(f"override {item!r}: {error}") from None
    return result


def _deep_copy_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy_mapping(v) if isinstance(v, Mapping) else v for k, v in data.items()}


# -- mapping -> dataclass ------------------------------------------------------------------------


def from_mapping(
    cls: type[T],
    data: Mapping[str, Any] | None,
    *,
    key: str = "",
    presets: Mapping[type, PresetFunction] | None = None,
) -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys and bad values raise :class:`ConfigError`.

    ``key`` is the dotted prefix used in messages; ``presets`` maps a dataclass type to a function
    ``name -> instance`` so that a section may read ``preset: NAME`` plus field overrides.
    """
    presets = presets or {}
    where = key or "config"
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a section (mapping), got {data!r}")
    data = dict(data)
    preset_name = data.pop("preset", None) if cls in presets else None
    init_fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(init_fields))
    if unknown:
        raise ConfigError(
            f"{_join(key, unknown[0])}: unknown key; valid keys of {where} are "
            f"{', '.join(sorted(init_fields))}"
        )
    hints = typing.get_type_hints(cls)
    values = {
        name: convert_value(hints[name], value, key=_join(key, name), presets=presets)
        for name, value in data.items()
    }
    try:
        if preset_name is not None:
            base = _call_preset(presets[cls], preset_name, _join(key, "preset"))
            return dataclasses.replace(base, **values)
        _check_required(init_fields, values, key)
        return cls(**values)
    except ConfigError:
        raise
    except FieldValueError as error:
        raise ConfigError(f"{_join(key, error.field)}: {error.message}") from error
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{where}: {error}") from error


def _check_required(
    init_fields: Mapping[str, dataclasses.Field], values: Mapping[str, Any], key: str
) -> None:
    for name, field in init_fields.items():
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        if required and name not in values:
            raise ConfigError(f"{_join(key, name)}: required key is missing; add it")


def _call_preset(function: PresetFunction, name: Any, key: str) -> Any:
    if not isinstance(name, str):
        raise ConfigError(f"{key}: expected a preset name (string), got {name!r}")
    try:
        return function(name)
    except (KeyError, ValueError) as error:
        raise ConfigError(f"{key}: {error}") from error


def convert_value(
    hint: Any,
    value: Any,
    *,
    key: str,
    presets: Mapping[type, PresetFunction] | None = None,
) -> Any:
    """Check/convert one value against a type annotation; errors name ``key``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if isinstance(value, hint):
            return value
        return from_mapping(hint, value, key=key, presets=presets)
    if origin is typing.Union or origin is types.UnionType:
        return _convert_union(args, value, key=key, presets=presets)
    if origin is typing.Literal:
        if value in args and any(type(value) is type(a) for a in args if a == value):
            return value
        choices = ", ".join(repr(a) for a in args)
        raise ConfigError(f"{key}: expected one of {choices}, got {value!r}")
    if origin in (tuple, list):
        return _convert_sequence(origin, args, value, key=key, presets=presets)
    if origin is dict or hint is dict:
        return _convert_dict(args, value, key=key, presets=presets)
    return _convert_scalar(hint, value, key=key)


def _convert_union(args: tuple, value: Any, *, key: str, presets: Any) -> Any:
    if value is None:
        if type(None) in args:
            return None
        raise ConfigError(f"{key}: a value is required here, got null")
    errors = []
    for arg in (a for a in args if a is not type(None)):
        try:
            return convert_value(arg, value, key=key, presets=presets)
        except ConfigError as error:
            errors.append(str(error))
    if len(errors) == 1:
        raise ConfigError(errors[0])
    raise ConfigError(f"{key}: {value!r} matches none of: " + "; ".join(errors))


def _convert_sequence(origin: type, args: tuple, value: Any, *, key: str, presets: Any) -> Any:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{key}: expected a list, got {value!r}")
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(value) != len(args):
            raise ConfigError(f"{key}: expected a list of {len(args)} items, got {len(value)}")
        item_types = list(args)
    else:
        item_types = [args[0] if args else Any] * len(value)
    items = [
        convert_value(t, v, key=f"{key}[{i}]", presets=presets)
        for i, (t, v) in enumerate(zip(item_types, value))
    ]
    return tuple(items) if origin is tuple else items


def _convert_dict(args: tuple, value: Any, *, key: str, presets: Any) -> dict:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key}: expected a mapping, got {value!r}")
    value_type = args[1] if len(args) == 2 else Any
    return {
        str(k): convert_value(value_type, v, key=_join(key, str(k)), presets=presets)
        for k, v in value.items()
    }


#: Scalar field types: which values they accept (bools are not numbers) and what the error expects.
_SCALARS: dict[type, tuple[Callable[[Any], bool], str]] = {
    bool: (lambda v: isinstance(v, bool), "true or false"),
    int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    float: (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    str: (lambda v: isinstance(v, str), "a string"),
    Path: (lambda v: isinstance(v, (str, Path)), "a path (string)"),
}


def _convert_scalar(hint: Any, value: Any, *, key: str) -> Any:
    if hint not in _SCALARS:
        raise ConfigError(f"{key}: unsupported config type {hint!r} (a bug in the config class)")
    accepts, expected = _SCALARS[hint]
    if not accepts(value):
        quote = " (quote it in YAML)" if hint is str else ""
        raise ConfigError(f"{key}: expected {expected}, got {value!r}{quote}")
    return hint(value) if hint in (float, Path) else value


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


# -- dataclass -> plain data / YAML -------------------------------------------------------------


def to_plain(value: Any) -> Any:
    """Dataclasses -> dicts, tuples -> lists, paths -> strings (recursively)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return str(value) if isinstance(value, Path) else value


def dump_yaml_text(config: Any, header: str | None = None) -> str:
    """The resolved config as YAML text; ``header`` becomes the first line as a comment."""
    body = yaml.safe_dump(to_plain(config), sort_keys=False, default_flow_style=None, width=100)
    return (f"# {header}\n" if header else "") + body


def dump_yaml(config: Any, path: str | os.PathLike[str], header: str | None = None) -> Path:
    """Write the resolved config as YAML, atomically; returns the path."""
    return write_text_atomic(path, dump_yaml_text(config, header))


# -- one call: YAML file + overrides -> config ---------------------------------------------------


def load_config(
    cls: type[T],
    path: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
    *,
    presets: Mapping[type, PresetFunction] | None = None,
) -> T:
    """Load ``cls`` from a YAML file (optional) patched with ``KEY=VALUE`` overrides."""
    data = read_yaml_mapping(path) if path is not None else {}
    data = apply_overrides(data, overrides)
    try:
        return from_mapping(cls, data, presets=presets)
    except ConfigError as error:
        if path is None:
            raise
        raise ConfigError(f"{path}: {error}") from error
