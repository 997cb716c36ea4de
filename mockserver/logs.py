"""The mock's logging: one line per request carrying the response's id, and no key in any line.

Every answer carries ``mistral-correlation-id`` (and ``x-kong-request-id``, the same value), as the live API
does; the access line names that id, and Kong's ``request_id`` (the one in 401 and 404 bodies), so a
client's report of either finds the line. Lines are JSON, so a path with a newline or a quote cannot forge
a second line.

Keys are kept out twice: the access line holds no header, no query string and no body, and every record
any logger writes (aiohttp's and tracebacks included) goes through ``Redactor``, which replaces the
configured keys and any ``Bearer <token>``. aiohttp logs a request it cannot even parse (a header line over
8 KiB, say) with a traceback whose message quotes the raw bytes, an ``Authorization`` header included;
``FramingErrors`` logs those as one line naming the problem, without the bytes.
"""

import json
import logging
import time
from collections.abc import Iterable

from mistral_wire.scrub import Redactor

log = logging.getLogger("mockserver.access")
# Status of a request whose client went away before the answer was complete (nginx's convention).
CLIENT_CLOSED = 499


def access(method: str, path: str, status: int, correlation_id: str, request_id: str, started: float) -> None:
    """Write the access line of one request (INFO, logger ``mockserver.access``)."""
    if not log.isEnabledFor(logging.INFO):
        return
    line = {
        "correlation_id": correlation_id,
        "request_id": request_id,
        "method": method,
        "path": path,
        "status": status,
        "ms": round((time.monotonic() - started) * 1000, 1),
    }
    log.info(json.dumps(line, ensure_ascii=True))


class FramingErrors(logging.Filter):
    """aiohttp's "Error handling request" for an unparseable request: one line, without the raw bytes."""

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        error = record.exc_info[1] if record.exc_info else None
        if record.name == "aiohttp.server" and isinstance(error, HttpProcessingError):
            record.msg = f"{record.getMessage()}: {error.code} {type(error).__name__} (request not parsed)"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


def configure(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at ``level``, every record scrubbed of ``secrets`` and bearer tokens."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("mistral_common").setLevel(logging.WARNING)
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, Redactor | FramingErrors)]:
            handler.removeFilter(old)
        # Framing first: the redactor then scrubs the one line it leaves.
        handler.addFilter(FramingErrors())
        handler.addFilter(Redactor(secrets))
