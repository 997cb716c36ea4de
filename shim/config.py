"""The shim's settings: one frozen object from flags, environment and an optional TOML file.

Precedence is flags, then environment, then the config file, then defaults; the highest source that sets a
setting wins it whole (client keys from ``--api-key`` replace ``SHIM_API_KEYS``, which replaces the file's).
Every setting a flag sets can be given in the file (``max_body_mb`` or ``max-body-mb``) and in the
environment as ``SHIM_<NAME>`` (``SHIM_TIMEOUT=30``), so ``create_app()`` under gunicorn, which has no
flags, is configured like the CLI. The file also holds ``[aliases]``.

The one rule that can stop the shim from starting: with ``MISTRAL_API_KEY`` set, clients spend that key, so
on any address other than loopback at least one client key (``--api-key`` / ``SHIM_API_KEYS``) is required.
"""

import functools
import ipaddress
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yarl import URL

from shim.translate.context import Options, Unsupported

DEFAULT_UPSTREAM = "https://api.mistral.ai"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The deepest nesting --max-json-depth may allow: the translators walk a body recursively, and this keeps
# them far from Python's recursion limit (a test sends a body this deep through the shim).
MAX_JSON_DEPTH = 512


class ConfigError(ValueError):
    """A configuration the shim refuses to start with; the message says what to change."""


@dataclass(frozen=True)
class ShimConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    upstream: str = DEFAULT_UPSTREAM
    # Used upstream when set; clients then authenticate with one of ``client_keys``.
    mistral_api_key: str | None = field(default=None, repr=False)
    client_keys: frozenset[str] = field(default_factory=frozenset, repr=False)
    unsupported: Unsupported = "drop"
    aliases: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 600.0
    connect_timeout: float = 10.0
    client_timeout: float = 60.0
    retries: int = 0
    log_bodies: bool = False
    log_level: str = "INFO"
    cors_origins: tuple[str, ...] = ()
    max_body_mb: float = 50.0
    max_json_depth: int = 128

    @functools.cached_property
    def options(self) -> Options:
        """What the translators need to know, built once: every request asks for it."""
        return Options(unsupported=self.unsupported, aliases=dict(self.aliases))

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every key the shim knows, for scrubbing from anything it logs."""
        return tuple(k for k in (self.mistral_api_key, *self.client_keys) if k)

    def check(self) -> None:
        if self.mistral_api_key and not self.client_keys and not is_loopback(self.host):
            raise ConfigError(
                f"refusing to serve MISTRAL_API_KEY on {self.host} with no client keys: anyone who can reach "
                "the shim would spend your key. Set --api-key (or SHIM_API_KEYS), or bind to 127.0.0.1."
            )
        if self.unsupported not in ("drop", "error"):
            raise ConfigError(f"unsupported must be 'drop' or 'error', not {self.unsupported!r}")
        if self.log_level.upper() not in LOG_LEVELS:
            raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be between 0 and 65535, not {self.port}")
        if not 1 <= self.max_json_depth <= MAX_JSON_DEPTH:
            raise ConfigError(
                f"max_json_depth must be between 1 and {MAX_JSON_DEPTH}, not {self.max_json_depth}"
            )
        if self.retries < 0:
            raise ConfigError(f"retries must be 0 or more, not {self.retries}")
        for name in ("timeout", "connect_timeout", "client_timeout", "max_body_mb"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ConfigError(f"{name} must be a positive number, not {value}")
        try:
            url = URL(self.upstream)
        except ValueError:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host or url.query_string:
            raise ConfigError(
                f"upstream must be an http(s) URL such as https://api.mistral.ai, not {self.upstream!r}"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Settings a flag, the file and ``SHIM_<NAME>`` can all set, and the TOML type each must have.
_SCALARS: dict[str, type] = {
    "host": str,
    "port": int,
    "upstream": str,
    "unsupported": str,
    "timeout": float,
    "connect_timeout": float,
    "client_timeout": float,
    "retries": int,
    "log_bodies": bool,
    "log_level": str,
    "max_body_mb": float,
    "max_json_depth": int,
}
# List settings of the file (singular spellings too) → the setting they fill.
_LISTS = {
    "api_keys": "client_keys",
    "api_key": "client_keys",
    "cors_origins": "cors_origins",
    "cors_origin": "cors_origins",
}
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _scalar(name: str, kind: type, value: Any, where: str) -> Any:
    """``value`` if it has the TOML type ``kind`` (an integer is a number too), else a clear ConfigError."""
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok, value = True, float(value)
    if not ok:
        raise ConfigError(f"{where}: {name} must be {_TYPE_NAMES[kind]}, not {value!r}")
    return value


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    settings: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key in _SCALARS:
            settings[key] = _scalar(raw_key, _SCALARS[key], value, str(path))
        elif key in _LISTS:
            values = [value] if isinstance(value, str) else value
            if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
                raise ConfigError(f"{path}: {raw_key} must be a list of strings")
            target = _LISTS[key]
            settings[target] = tuple(values) if target == "cors_origins" else frozenset(values)
        elif key == "aliases":
            if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
                raise ConfigError(f'{path}: [aliases] must be a table of "openai-name" = "mistral-model"')
            settings["aliases"] = dict(value)
        else:
            known = ", ".join([*_SCALARS, "api_keys", "cors_origins", "aliases"])
            raise ConfigError(f"{path}: unknown setting {raw_key!r} (known: {known})")
    return settings


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for name, kind in _SCALARS.items():
        raw = environ.get(f"SHIM_{name.upper()}", "").strip()
        if not raw:
            continue
        if kind is bool:
            if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
                raise ConfigError(f"SHIM_{name.upper()} must be true or false, not {raw!r}")
            settings[name] = raw.lower() in ("1", "true", "yes")
            continue
        try:
            settings[name] = kind(raw)
        except ValueError:
            raise ConfigError(f"SHIM_{name.upper()} must be {_TYPE_NAMES[kind]}, not {raw!r}") from None
    if environ.get("MISTRAL_BASE_URL", "").strip():
        settings["upstream"] = environ["MISTRAL_BASE_URL"].strip()
    keys = frozenset(k.strip() for k in environ.get("SHIM_API_KEYS", "").split(",") if k.strip())
    if keys:
        settings["client_keys"] = keys
    origins = tuple(o.strip() for o in environ.get("SHIM_CORS_ORIGINS", "").split(",") if o.strip())
    if origins:
        settings["cors_origins"] = origins
    return settings


def build(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> ShimConfig:
    """The configuration from flags (None means not given), environment and file, checked."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None and v != []}
    environ = os.environ if environ is None else environ
    file_path = config_file or (Path(environ["SHIM_CONFIG"]) if environ.get("SHIM_CONFIG") else None)
    settings: dict[str, Any] = _from_file(file_path) if file_path else {}
    settings.update(_from_env(environ))
    if "client_keys" in flags:
        flags["client_keys"] = frozenset(flags["client_keys"])
    if "cors_origins" in flags:
        flags["cors_origins"] = tuple(flags["cors_origins"])
    settings.update(flags)
    settings["mistral_api_key"] = environ.get("MISTRAL_API_KEY", "").strip() or None
    config = ShimConfig(**settings)
    config.check()
    return config
