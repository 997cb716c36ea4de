"""Every setting of the shim, once: its flag, ``SHIM_<NAME>`` variable, config-file key, default and help.

``mistral-shim serve`` builds its command line from ``ShimSettings``, ``create_app()`` under gunicorn (which
has no flags) reads the same settings from the environment and ``SHIM_CONFIG``, and the README's table is
rendered from it (``mistral_wire.settings`` says how). Precedence: flags, then environment, then the file.

The one rule that can stop the shim from starting: with ``MISTRAL_API_KEY`` set, clients spend that key, so
on any address other than loopback at least one client key (``--api-key`` / ``SHIM_API_KEYS``) is required.
"""

import functools
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

from yarl import URL

from mistral_wire import settings
from mistral_wire.scrub import shown_url, url_password
from mistral_wire.settings import SettingsError, log_level, not_negative, port, positive, setting
from shim.translate.context import Options

DEFAULT_UPSTREAM: Final = "https://api.mistral.ai"
MAX_JSON_DEPTH: Final = 512
"""The deepest nesting --max-json-depth may allow: the translators walk a body recursively, and this keeps
them far from Python's recursion limit (a test sends a body this deep through the shim)."""


def _upstream(value: Any) -> str | None:
    try:
        url = URL(value)
    except ValueError:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host or url.query_string:
        return f"must be an http(s) URL such as https://api.mistral.ai, not {value!r}"
    return None


STORE_SCHEMES = ("sqlite", "postgresql", "postgres", "memory")


def _store_url(value: Any) -> str | None:
    if value == "":
        return None
    scheme = str(value).split(":", 1)[0]
    if ":" not in str(value) or scheme not in STORE_SCHEMES:
        return (
            f"must be sqlite:///PATH, postgresql://USER@HOST/DB or memory://, not {shown_url(str(value))!r}"
        )
    return None


def default_data_dir() -> Path:
    """Where the shim keeps its files by default: ``$XDG_DATA_HOME/mistral-shim`` (``~/.local/share``)."""
    base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(base) / "mistral-shim"


def _json_depth(value: Any) -> str | None:
    return None if 1 <= value <= MAX_JSON_DEPTH else f"must be between 1 and {MAX_JSON_DEPTH}, not {value}"


@dataclass(frozen=True)
class ShimSettings:
    ENV_PREFIX: ClassVar[str] = "SHIM_"

    host: str = setting("127.0.0.1", "address to bind")
    port: int = setting(8080, "port to listen on", check=port)
    upstream: str = setting(
        DEFAULT_UPSTREAM,
        "Mistral's base URL (a trailing /v1 is removed)",
        env=("SHIM_UPSTREAM", "MISTRAL_BASE_URL"),
        check=_upstream,
    )
    mistral_api_key: str | None = setting(
        None,
        "the key the shim uses upstream; clients then present a client key (without it, each client's "
        "bearer is its Mistral key)",
        flag=None,
        env="MISTRAL_API_KEY",
        file=(),
        secret=True,
    )
    client_keys: frozenset[str] = setting(
        frozenset(),
        "a key clients must present when MISTRAL_API_KEY is set (repeatable)",
        flag="--api-key",
        env="SHIM_API_KEYS",
        file=("api_keys", "api_key"),
        metavar="KEY",
        secret=True,
    )
    aliases: Mapping[str, str] = setting(
        {},
        'model aliases, "openai-name" = "mistral-model" (repeatable as --alias NAME=MODEL)',
        flag="--alias",
        env="SHIM_ALIASES",
        metavar="NAME=MODEL",
    )
    unsupported: Literal["drop", "error"] = setting(
        "drop", "OpenAI-only parameters: drop and name them in x-shim-dropped-params, or answer 400"
    )
    timeout: float = setting(600.0, "upstream read timeout in seconds; a hang answers 504", check=positive)
    connect_timeout: float = setting(10.0, "upstream connect timeout in seconds", check=positive)
    client_timeout: float = setting(
        60.0, "seconds a client may pause while sending its body before a 408", check=positive
    )
    retries: int = setting(0, "retries of upstream 429/503, honouring Retry-After", check=not_negative)
    log_bodies: bool = setting(False, "include request and response bodies in the access log")
    log_level: str = setting("INFO", "DEBUG, INFO, WARNING or ERROR", check=log_level)
    cors_origins: tuple[str, ...] = setting(
        (),
        "allow this browser origin (repeatable)",
        flag="--cors-origin",
        file=("cors_origins", "cors_origin"),
        metavar="ORIGIN",
    )
    max_body_mb: float = setting(50.0, "largest request body in MB; larger ones get a 413", check=positive)
    max_upload_mb: float = setting(
        512.0,
        "largest file a client may upload (files, audio) in MB, streamed to Mistral as it arrives; Mistral's "
        "own limit is 512",
        check=positive,
    )
    max_json_depth: int = setting(
        128, "deepest nesting of a translated request's JSON body; deeper ones get a 400", check=_json_depth
    )
    responses_store: str = setting(
        "",
        "where stored Responses live: sqlite:///PATH (the default, a file in the data directory), "
        "postgresql://... (shared by several shims), or memory://",
        check=_store_url,
        shown_default="sqlite in the data directory",
    )
    data_dir: Path = setting(
        default_data_dir(),
        "the shim's own files (the default Responses store); printed at startup",
        shown_default="$XDG_DATA_HOME/mistral-shim",
    )
    warm_tokenizers: bool = setting(
        False,
        "load Mistral's tekken tokenizer in a thread at startup (about 110 MB), so that the first embeddings "
        "or input_tokens request of a tekken model does not wait the ~0.8 s its load takes",
    )
    responses_retention_days: float = setting(
        30.0, "days a stored Response is kept (OpenAI keeps them 30); older ones are purged", check=positive
    )

    @functools.cached_property
    def options(self) -> Options:
        """What the translators need to know, built once: every request asks for it."""
        return Options(unsupported=self.unsupported, aliases=dict(self.aliases))

    @property
    def store_url(self) -> str:
        """The Responses store's URL: the setting, or the SQLite file in the data directory."""
        return self.responses_store or f"sqlite:///{self.data_dir / 'responses.sqlite3'}"

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every key the shim knows, for scrubbing from anything it logs (the store's password too)."""
        store_password = url_password(self.store_url)
        return tuple(k for k in (self.mistral_api_key, *self.client_keys, store_password) if k)

    def check(self) -> None:
        """Each setting's own check, then the rules across settings."""
        settings.check_values(self)
        if self.mistral_api_key and not self.client_keys and not is_loopback(self.host):
            raise SettingsError(
                f"refusing to serve MISTRAL_API_KEY on {self.host} with no client keys: anyone who can reach "
                "the shim would spend your key. Set --api-key (or SHIM_API_KEYS), or bind to 127.0.0.1."
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> ShimSettings:
    """The settings from flags (text, as the command line gives them), environment and file, checked."""
    return settings.load(ShimSettings, flags, environ, config_file)
