"""Every setting of the mock, once: its flag, ``MOCK_<NAME>`` variable, config-file key, default and help.

``mistral-mock serve`` builds its command line from ``MockSettings``; the pytest plugin and tests make one
directly; the README's table is rendered from it (``mistral_wire.settings`` says how).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from yarl import URL

from mistral_wire import settings
from mistral_wire.contract.errors import RateLimitShape, ValidationShape
from mistral_wire.settings import SettingsError, log_level, not_negative, port, positive, setting

Mode = Literal["synthetic", "record", "replay", "auto"]
DEFAULT_UPSTREAM = "https://api.mistral.ai"


@dataclass(frozen=True)
class MockSettings:
    ENV_PREFIX: ClassVar[str] = "MOCK_"

    host: str = setting("127.0.0.1", "address to bind (loopback only by default)")
    port: int = setting(8081, "port to listen on", check=port)
    mode: Mode = setting(
        "synthetic",
        "where answers come from: generated, the upstream (record), recordings (replay), or both (auto)",
    )
    recordings: Path | None = setting(
        None, "the folder recordings are read from and written to (record, replay and auto modes)"
    )
    upstream: str = setting(
        DEFAULT_UPSTREAM, "the API to record (a trailing /v1 is removed)", check=lambda v: _http_url(v)
    )
    # The key used upstream when recording; None means the client's own bearer is forwarded.
    upstream_key: str | None = setting(
        None,
        "the key used upstream when recording (without it, each client's bearer is forwarded)",
        flag=None,
        env="MISTRAL_API_KEY",
        file=(),
        secret=True,
    )
    speed: float = setting(
        1.0, "replay speed: 1 as recorded, 2 twice as fast, 0 without waiting", check=not_negative
    )
    on_miss: Literal["error", "synthetic"] = setting(
        "error", "replay: what a request no recording (and no fixture rule) matches gets"
    )
    fixtures: Path | None = setting(
        None,
        "a rules file of authored answers (YAML or JSON), asked first in every mode; the rest goes on to "
        "the mode's source",
        metavar="FILE",
    )
    name_replayed_errors: bool = setting(
        False, "end the message of an error replayed from a recording with the recording's file name"
    )
    ignore_fields: tuple[str, ...] = setting(
        (),
        "a body field left out of matching, dotted, * for any key or index (repeatable)",
        flag="--ignore-field",
        metavar="FIELD",
    )
    # Accepted bearer keys; empty means any non-empty key is accepted, as a stand-in for the real API.
    api_keys: frozenset[str] = setting(
        frozenset(),
        "accept only this bearer key (repeatable; any key is accepted without one)",
        flag="--api-key",
        file=("api_keys", "api_key"),
        metavar="KEY",
        secret=True,
    )
    # OCR data URIs are large, hence a generous default.
    max_body_mb: float = setting(50.0, "largest request body in MB; larger ones get a 413", check=positive)
    latency_ms: int = setting(0, "delay before every answer, in milliseconds", check=not_negative)
    chunk_ms: int = setting(0, "delay between SSE events, in milliseconds", check=not_negative)
    rpm: int | None = setting(None, "requests per minute per key (429 beyond)", check=lambda v: _limit(v))
    tpm: int | None = setting(None, "tokens per minute per key (429 beyond)", check=lambda v: _limit(v))
    # The body of the 429s ``--rpm``/``--tpm`` answer: Mistral's envelope, or the gateway's {"message": ...}.
    rate_limit_shape: RateLimitShape = setting(
        "app",
        "body of --rpm/--tpm 429s: Mistral's rate_limited envelope, or the gateway's "
        '{"message":"Requests rate limit exceeded"}',
        flag="--rate-limit-body",
    )
    # The live API's random ``p`` field on stream chunks.
    padding: bool = setting(False, "add the live API's random 'p' field to stream chunks")
    validation_shape: ValidationShape = setting(
        "envelope",
        "422 body shape: Mistral's envelope, or the bare FastAPI {'detail': [...]}",
        flag="--validation-errors",
    )
    files_dir: Path | None = setting(
        None,
        "where uploaded files and batch outputs are kept (and kept across restarts); without it, a "
        "temporary folder removed when the mock stops",
        shown_default="a temporary folder",
    )
    # Mistral's documented limit per file (the SDK's files.upload docstring).
    max_file_mb: float = setting(
        512.0, "largest file in an upload or a transcription, in MB; larger ones get a 413", check=positive
    )
    job_step_ms: int = setting(
        50,
        "batch jobs: the time each step takes (queued to running, then each fifth of the lines), in "
        "milliseconds; 0 runs a job at once",
        check=not_negative,
    )
    log_level: str = setting(
        "INFO",
        "DEBUG, INFO (one JSON access line per request), WARNING or ERROR; keys are scrubbed from every line",
        check=log_level,
    )

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every key the mock knows, for scrubbing from its logs and recordings."""
        return tuple(k for k in (self.upstream_key, *self.api_keys) if k)

    def check(self) -> None:
        """Each setting's own check, then the rules across settings."""
        settings.check_values(self)
        if self.mode != "synthetic" and self.recordings is None:
            raise SettingsError(f"--mode {self.mode} needs --recordings DIR")
        if self.fixtures is not None and not self.fixtures.is_file():
            raise SettingsError(f"--fixtures {self.fixtures} is not a file")
        if self.mode == "replay" and self.recordings is not None and not self.recordings.is_dir():
            raise SettingsError(
                f"--recordings {self.recordings} is not a folder: replay mode has nothing to answer from "
                "(record some first, with --mode record or auto)"
            )


def _http_url(value: Any) -> str | None:
    try:
        url = URL(str(value))
    except ValueError:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        return f"must be an http(s) URL such as https://api.mistral.ai, not {value!r}"
    return None


def _limit(value: Any) -> str | None:
    return None if value is None or value > 0 else f"must be a positive number, not {value}"


def load(
    flags: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    config_file: Path | None = None,
) -> MockSettings:
    """The settings from flags (text, as the command line gives them), environment and file, checked."""
    return settings.load(MockSettings, flags, environ, config_file)
