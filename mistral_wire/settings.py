"""Each setting of each server declared once: a dataclass field with its flag, variable, file key and help.

Both servers are configured the same ways, a flag, an environment variable, a TOML file, and read the same
rule: flags win over the environment, which wins over the file, which wins over the default; the highest
source that sets a setting wins it whole. A server declares its settings as one frozen dataclass whose
fields are made with ``setting(default, help, ...)``; from that one declaration this module builds the
command line (``add_arguments``), reads the environment and the file (``load``), checks every value with
a one-line error that names its source and the setting to change (``SettingsError``), and renders the
README's table (``markdown``). A setting is added in one place, and cannot be documented wrong.

Values from the command line and the environment are text, converted here by the field's type, so that a
bad value is the same plain line whichever way it came (argparse would print its usage and exit instead).
"""

import argparse
import dataclasses
import math
import os
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Literal, TypeVar, get_args, get_origin

T = TypeVar("T")
S = TypeVar("S")

AUTO: Final = "auto"
"""The default for ``flag``, ``env`` and ``file``: derived from the field's name."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """A setting the server refuses to start with; the message is one line saying what to change."""


@dataclasses.dataclass(frozen=True)
class Spec:
    """How one setting is given: its help, flag, environment variables and file keys."""

    help: str
    flag: str | None = AUTO
    env: tuple[str, ...] | str = AUTO
    file: tuple[str, ...] | str = AUTO
    metavar: str | None = None
    # Never printed: keys.
    secret: bool = False
    # A value's further check: an error message (without the setting's name), or None when it is fine.
    check: Callable[[Any], str | None] | None = None
    # Shown in the README instead of the default's repr (e.g. "the data directory").
    shown_default: str | None = None


def setting(
    default: T,
    help: str,
    *,
    flag: str | None = AUTO,
    env: tuple[str, ...] | str = AUTO,
    file: tuple[str, ...] | str = AUTO,
    metavar: str | None = None,
    secret: bool = False,
    check: Callable[[Any], str | None] | None = None,
    shown_default: str | None = None,
) -> T:
    """A settings dataclass field. ``flag=None``, ``env=()``, ``file=()`` mean: not settable that way."""
    spec = Spec(help, flag, env, file, metavar, secret, check, shown_default)
    metadata = {"setting": spec}
    if type(default).__hash__ is None:  # a dict: each instance gets its own copy
        kept = default
        field: Any = dataclasses.field(
            default_factory=lambda: _copy(kept), metadata=metadata, repr=not secret
        )
    else:
        field = dataclasses.field(default=default, metadata=metadata, repr=not secret)
    return typing.cast(T, field)


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting, resolved: name, type, default, and the spellings of each source."""

    name: str
    kind: Any
    default: Any
    spec: Spec
    flag: str | None
    env: tuple[str, ...]
    file: tuple[str, ...]

    @property
    def optional(self) -> bool:
        return _is_optional(self.kind)

    @property
    def base(self) -> Any:
        return _strip_optional(self.kind)

    def describe_default(self) -> str:
        if self.spec.shown_default is not None:
            return self.spec.shown_default
        value = self.default
        if value is None or value in ((), {}, frozenset()):
            return "none"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)


def settings_of(cls: type) -> list[Setting]:
    """The settings a dataclass declares, in declaration order."""
    hints = typing.get_type_hints(cls)
    prefix = getattr(cls, "ENV_PREFIX", "")
    found = []
    for field in dataclasses.fields(cls):
        spec = field.metadata.get("setting")
        if not isinstance(spec, Spec):
            continue
        factory = field.default_factory
        default = field.default if factory is dataclasses.MISSING else factory()
        flag = "--" + field.name.replace("_", "-") if spec.flag == AUTO else spec.flag
        env = (prefix + field.name.upper(),) if spec.env == AUTO else _names(spec.env)
        file = (field.name,) if spec.file == AUTO else _names(spec.file)
        found.append(Setting(field.name, hints[field.name], default, spec, flag, env, file))
    return found


def _names(value: tuple[str, ...] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


# --- types -------------------------------------------------------------------------------------------------


def _is_optional(kind: Any) -> bool:
    return get_origin(kind) in (typing.Union, types.UnionType) and type(None) in get_args(kind)


def _strip_optional(kind: Any) -> Any:
    if not _is_optional(kind):
        return kind
    rest = [arg for arg in get_args(kind) if arg is not type(None)]
    return rest[0] if len(rest) == 1 else kind


def _is_collection(kind: Any) -> bool:
    return get_origin(kind) in (frozenset, tuple, list, set)


def _is_mapping(kind: Any) -> bool:
    return get_origin(kind) in (dict, Mapping, typing.Mapping) or kind is dict


def choices(kind: Any) -> tuple[str, ...] | None:
    base = _strip_optional(kind)
    return tuple(str(value) for value in get_args(base)) if get_origin(base) is Literal else None


def _kind_name(kind: Any) -> str:
    base = _strip_optional(kind)
    allowed = choices(base)
    if allowed is not None:
        quoted = [repr(value) for value in allowed]
        return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    if _is_collection(base):
        return "a list of strings"
    if _is_mapping(base):
        return 'a table of "name" = "value"'
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", Path: "a path"}
    return names.get(base, "a value")


def _from_text(setting: Setting, text: str, where: str) -> Any:
    """A setting's value from a flag's or variable's text."""
    base = setting.base
    text = text.strip()
    if setting.optional and text == "":
        return None
    allowed = choices(base)
    if allowed is not None:
        if text not in allowed:
            raise SettingsError(f"{where} must be {_kind_name(base)}, not {text!r}")
        return text
    if base is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise SettingsError(f"{where} must be true or false, not {text!r}")
    if base in (int, float):
        try:
            value = base(text)
        except ValueError:
            raise SettingsError(f"{where} must be {_kind_name(base)}, not {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise SettingsError(f"{where} must be a finite number, not {text!r}")
        return value
    if base is Path:
        return Path(text)
    if _is_collection(base):
        return _collection(base, [item.strip() for item in text.split(",") if item.strip()])
    if _is_mapping(base):
        return _pairs([item for item in text.split(",") if item.strip()], where)
    return text


def _collection(kind: Any, items: Iterable[str]) -> Any:
    origin = get_origin(kind)
    return frozenset(items) if origin in (frozenset, set) else tuple(items)


def _pairs(items: Iterable[str], where: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SettingsError(f"{where} takes name=value pairs, not {item.strip()!r}")
        out[name.strip()] = value.strip()
    return out


def _from_file_value(setting: Setting, value: Any, where: str) -> Any:
    """A setting's value from the TOML file, whose values are typed already."""
    base = setting.base
    if _is_collection(base):
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
            raise SettingsError(f"{where} must be a list of strings")
        return _collection(base, items)
    if _is_mapping(base):
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            table = where.rsplit(": ", 1)
            raise SettingsError(f'{table[0]}: [{table[-1]}] must be a table of "name" = "value"')
        return dict(value)
    if isinstance(value, str) and base not in (str, Path) and choices(base) is None:
        raise SettingsError(f"{where} must be {_kind_name(base)}, not {value!r}")
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if base in (str, Path) or choices(base) is not None:
        if not isinstance(value, str):
            raise SettingsError(f"{where} must be {_kind_name(base)}, not {value!r}")
        return _from_text(setting, value, where)
    ok = isinstance(value, base) and not (base is int and isinstance(value, bool))
    if not ok:
        raise SettingsError(f"{where} must be {_kind_name(base)}, not {value!r}")
    return value


# --- the command line --------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """One option per setting that has a flag; every value is read as text and checked by ``load``."""
    for item in settings_of(cls):
        if item.flag is None:
            continue
        base = item.base
        help_text = item.spec.help
        allowed = choices(base)
        if not item.spec.secret:
            help_text += f"; default {item.describe_default()}"
        if item.env:
            help_text += f"; env {', '.join(item.env)}"
        if base is bool:
            parser.add_argument(item.flag, dest=item.name, action="store_const", const="true", help=help_text)
        elif _is_collection(base) or _is_mapping(base):
            parser.add_argument(
                item.flag, dest=item.name, action="append", metavar=item.spec.metavar, help=help_text
            )
        else:
            metavar = item.spec.metavar or ("{" + ",".join(allowed) + "}" if allowed else None)
            parser.add_argument(item.flag, dest=item.name, metavar=metavar, help=help_text)


def flags_of(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The settings given as flags, still as text (lists for repeatable ones)."""
    return {item.name: getattr(args, item.name, None) for item in settings_of(cls) if item.flag}


# --- loading -----------------------------------------------------------------------------------------------


def read_file(path: Path, cls: type) -> dict[str, Any]:
    """The settings a TOML file sets; an unknown key is an error that lists the known ones."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read config file {path}: {exc}") from None
    by_key = {key: item for item in settings_of(cls) for key in item.file}
    values: dict[str, Any] = {}
    for raw_key, value in data.items():
        item = by_key.get(raw_key.replace("-", "_"))
        if item is None:
            known = ", ".join(sorted(by_key))
            raise SettingsError(f"{path}: unknown setting {raw_key!r} (known: {known})")
        values[item.name] = _from_file_value(item, value, f"{path}: {raw_key}")
    return values


def _from_environment(cls: type, environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in settings_of(cls):
        for name in item.env:  # the first variable set wins
            text = environ.get(name, "")
            if text.strip():
                values[item.name] = _from_text(item, text, name)
                break
    return values


def _from_flags(cls: type, flags: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in settings_of(cls):
        given = flags.get(item.name)
        if given is None or given == []:
            continue
        where = item.flag or item.name
        if isinstance(given, list):
            if _is_mapping(item.base):
                values[item.name] = _pairs(given, where)
            else:
                values[item.name] = _collection(item.base, [g.strip() for g in given if g.strip()])
        elif isinstance(given, str):
            values[item.name] = _from_text(item, given, where)
        else:
            values[item.name] = given  # a value a caller passed already typed
    return values


def load(
    cls: type[S],
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> S:
    """The settings from flags (None: not given), the environment and a TOML file, each value checked.

    ``config_file`` defaults to the environment's ``<PREFIX>CONFIG``. Raises ``SettingsError``.
    """
    environ = os.environ if environ is None else environ
    prefix = getattr(cls, "ENV_PREFIX", "")
    if config_file is None and environ.get(f"{prefix}CONFIG", "").strip():
        config_file = Path(environ[f"{prefix}CONFIG"].strip())
    values: dict[str, Any] = read_file(config_file, cls) if config_file is not None else {}
    values.update(_from_environment(cls, environ))
    values.update(_from_flags(cls, flags or {}))
    return build(cls, values)


def build(cls: type[S], values: Mapping[str, Any]) -> S:
    """An instance from typed values, checked by its ``check()`` (which calls ``check_values``)."""
    instance = cls(**values)
    check = getattr(instance, "check", None)
    if callable(check):
        check()
    else:
        check_values(instance)
    return instance


def check_values(instance: object) -> None:
    """Each setting's own check, on an instance however it was made: ``port must be between ...``."""
    for item in settings_of(type(instance)):
        if item.spec.check is not None:
            problem = item.spec.check(getattr(instance, item.name))
            if problem:
                raise SettingsError(f"{item.name} {problem}")


# --- checks several settings share ---------------------------------------------------------------------


def positive(value: Any) -> str | None:
    return None if value > 0 else f"must be a positive number, not {value:g}"


def not_negative(value: Any) -> str | None:
    return None if value >= 0 else f"must be 0 or more, not {value:g}"


def port(value: Any) -> str | None:
    return None if 0 <= value <= 65535 else f"must be between 0 and 65535, not {value}"


LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level(value: Any) -> str | None:
    known = ", ".join(LOG_LEVELS)
    return None if str(value).upper() in LOG_LEVELS else f"must be one of {known}, not {value!r}"


# --- the README --------------------------------------------------------------------------------------------


def markdown(cls: type) -> str:
    """The settings as a Markdown table: flag, variable, file key, default and meaning."""
    lines = [
        "| Flag | Environment | Config file | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in settings_of(cls):
        flag = f"`{item.flag}`" if item.flag else ""
        env = ", ".join(f"`{name}`" for name in item.env)
        file = ", ".join(f"`{key}`" for key in item.file[:1])
        default = "" if item.spec.secret else item.describe_default().replace("|", "\\|")
        meaning = item.spec.help.replace("|", "\\|")
        allowed = choices(item.kind)
        if allowed is not None:
            meaning += f" ({', '.join(allowed)})"
        lines.append(f"| {flag} | {env} | {file} | {default} | {meaning} |")
    return "\n".join(lines)
