"""The shim's settings: one frozen object from flags, environment and an optional TOML file.

Precedence is flags, then environment, then the config file, then defaults. The one rule that can stop
the shim from starting: with ``MISTRAL_API_KEY`` set, clients spend that key, so on any address other than
loopback at least one client key (``--api-key`` / ``SHIM_API_KEYS``) is required.
"""

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shim.translate.context import Options, Unsupported

DEFAULT_UPSTREAM = "https://api.mistral.ai"


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
    retries: int = 0
    log_bodies: bool = False
    cors_origins: tuple[str, ...] = ()
    max_body_mb: float = 50.0

    @property
    def options(self) -> Options:
        return Options(unsupported=self.unsupported, aliases=dict(self.aliases))

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    def check(self) -> None:
        if self.mistral_api_key and not self.client_keys and not is_loopback(self.host):
            raise ConfigError(
                f"refusing to serve MISTRAL_API_KEY on {self.host} with no client keys: anyone who can reach "
                "the shim would spend your key. Set --api-key (or SHIM_API_KEYS), or bind to 127.0.0.1."
            )
        if self.unsupported not in ("drop", "error"):
            raise ConfigError(f"unsupported must be 'drop' or 'error', not {self.unsupported!r}")
        if self.retries < 0 or self.timeout <= 0 or self.connect_timeout <= 0:
            raise ConfigError("retries must be >= 0 and timeouts > 0")


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_FILE_KEYS = {
    "host": str,
    "port": int,
    "upstream": str,
    "unsupported": str,
    "timeout": float,
    "connect_timeout": float,
    "retries": int,
    "log_bodies": bool,
    "max_body_mb": float,
}


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    settings: dict[str, Any] = {}
    for key, value in data.items():
        if key in _FILE_KEYS:
            settings[key] = _FILE_KEYS[key](value)
        elif key == "api_keys":
            settings["client_keys"] = frozenset(map(str, value))
        elif key == "cors_origins":
            settings["cors_origins"] = tuple(map(str, value))
        elif key == "aliases":
            if not isinstance(value, dict):
                raise ConfigError(f'{path}: [aliases] must be a table of "openai-name" = "mistral-model"')
            settings["aliases"] = {str(k): str(v) for k, v in value.items()}
        else:
            raise ConfigError(f"{path}: unknown setting {key!r}")
    return settings


def build(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> ShimConfig:
    """The configuration from flags (None means not given), environment and file, checked."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    environ = os.environ if environ is None else environ
    file_path = config_file or (Path(environ["SHIM_CONFIG"]) if environ.get("SHIM_CONFIG") else None)
    settings: dict[str, Any] = _from_file(file_path) if file_path else {}
    if environ.get("MISTRAL_BASE_URL"):
        settings["upstream"] = environ["MISTRAL_BASE_URL"]
    keys = {k.strip() for k in environ.get("SHIM_API_KEYS", "").split(",") if k.strip()}
    if keys:
        settings["client_keys"] = frozenset(settings.get("client_keys", frozenset()) | keys)
    settings["mistral_api_key"] = environ.get("MISTRAL_API_KEY") or None
    flag_keys = flags.pop("client_keys", None)
    if flag_keys:
        settings["client_keys"] = frozenset(settings.get("client_keys", frozenset()) | set(flag_keys))
    cors = flags.pop("cors_origins", None)
    if cors:
        settings["cors_origins"] = tuple(cors)
    settings.update(flags)
    config = ShimConfig(**settings)
    config.check()
    return config
