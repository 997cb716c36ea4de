"""One JSON line per request: what an operator needs, never a key, never a body unless asked.

Keys are kept out by construction (the line is built from the exchange record, which holds no header),
and, as a second guard for every other log line (aiohttp's, a traceback's, a body logged with
``--log-bodies``), ``mistral_wire.scrub.Redactor`` scrubs the configured keys and any bearer token from each
record before it is written.

Where the lines go: through the ``shim.access`` logger, so a host process's logging setup (and pytest's
caplog) sees them, except when the shim set logging up itself (``configure``, as ``mistral-shim serve`` and
the gunicorn runner do). Then each line is written straight to standard error, scrubbed the same way:
building a ``LogRecord`` and passing it through handlers cost more CPU than anything else the shim does
for a small answer (bench/README.md, "Shim").
"""

import logging
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

from aiohttp.http_exceptions import HttpProcessingError

from mistral_wire import jsonio
from mistral_wire.scrub import Redactor
from shim.exchange import Exchange
from shim.relay import LOG_BODY_LIMIT

log = logging.getLogger("shim.access")


class MalformedHTTP(logging.Filter):
    """aiohttp's parser refuses a malformed request (a bad request line, headers over 8 KiB, broken chunked
    framing) with a plain 400 before the shim sees it, and logs the refusal as an ERROR with a traceback.
    That is the client's mistake, not a failure of the shim: this turns it into one INFO line, so errors and
    tracebacks in the shim's log always mean something went wrong in the shim.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError) or not 400 <= (error.code or 400) < 500:
            return True
        if not logging.getLogger("shim").isEnabledFor(logging.INFO):
            return False
        # The description only, never the bytes aiohttp quotes after it: they are the client's, keys included.
        reason = (error.message or "").strip().split("\n", 1)[0].split(":", 1)[0][:120]
        reason = reason or error.__class__.__name__
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.msg, record.args = f"refused a malformed HTTP request ({error.code}): {reason}", None
        record.exc_info, record.exc_text = None, None
        return True


class _Sink:
    """Access lines written straight to a stream, scrubbed like every other record."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        self.stream = stream
        self.redactor = redactor

    def write(self, line: str) -> None:
        self.stream.write(self.redactor.scrub(line) + "\n")
        self.stream.flush()


_sink: _Sink | None = None


def configure(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at ``level`` (unless the host process already set logging up), always redacted."""
    global _sink
    root = logging.getLogger()
    owned = not root.handlers or _sink is not None  # a second call keeps what the first set up
    if owned:
        logging.basicConfig(level=level.upper(), format="%(message)s")
    logging.getLogger("shim").setLevel(level.upper())
    logging.getLogger("mistral_common").setLevel(logging.WARNING)
    redactor = Redactor(secrets)
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, Redactor)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedHTTP) for f in server.filters):
        server.addFilter(MalformedHTTP())
    enabled = logging.getLogger("shim").getEffectiveLevel() <= logging.INFO
    _sink = _Sink(sys.stderr, redactor) if owned and enabled else None


def body_for_log(raw: bytes | bytearray | None) -> Any:
    """A body as it goes in the log: parsed JSON when it is JSON, else text, cut at 64 KiB."""
    if raw is None:
        return None
    cut = raw[:LOG_BODY_LIMIT]
    try:
        return jsonio.loads(cut)
    except ValueError:
        text = cut.decode("utf-8", "replace")
        return text + ("…" if len(raw) > LOG_BODY_LIMIT else "")


def record(exchange: Exchange, method: str, path: str, status: int) -> None:
    if _sink is None and not log.isEnabledFor(logging.INFO):
        return
    total_ms = (time.monotonic() - exchange.started) * 1000
    line: dict[str, Any] = {
        "request_id": exchange.request_id,
        "method": method,
        "path": path,
        "model": exchange.model,
        "status": status,
        "upstream_status": exchange.upstream_status,
        "latency_ms": round(total_ms, 2),
        "overhead_ms": round(exchange.overhead_ms(), 2),
        "dropped_params": list(exchange.dropped),
        "repairs": list(exchange.repairs),
    }
    if exchange.request_body is not None:
        line["request_body"] = body_for_log(exchange.request_body)
    if exchange.response_body is not None:
        line["response_body"] = body_for_log(exchange.response_body)
    text = jsonio.dumps(line).decode()
    if _sink is not None:
        _sink.write(text)
    else:
        log.info(text)
