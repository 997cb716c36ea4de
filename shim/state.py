"""What the app and its handlers share: the app's singletons and each request's bookkeeping."""

import time
from dataclasses import dataclass, field

from aiohttp import web

from shim.config import ShimConfig
from shim.upstream import Upstream

CONFIG = web.AppKey("config", ShimConfig)
UPSTREAM = web.AppKey("upstream", Upstream)


@dataclass
class Ledger:
    """One request's facts for the response headers and the access log."""

    request_id: str
    started: float
    upstream_seconds: float = 0.0
    upstream_status: int | None = None
    model: str | None = None
    dropped: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    client_bearer: str | None = field(default=None, repr=False)
    # Close the connection after the answer (a body refused before it was all read).
    close_after: bool = False
    # Filled only with --log-bodies.
    request_body: bytes | None = field(default=None, repr=False)
    response_body: bytes | bytearray | None = field(default=None, repr=False)

    def overhead_ms(self) -> float:
        """Milliseconds spent in the shim so far: time since arrival less time waiting on Mistral."""
        return max(0.0, (time.monotonic() - self.started - self.upstream_seconds) * 1000)

    def headers(self) -> dict[str, str]:
        """The headers every answer carries: request id, the shim's overhead, dropped params, repairs."""
        out = {"x-request-id": self.request_id, "x-shim-overhead-ms": f"{self.overhead_ms():.2f}"}
        if self.dropped:
            out["x-shim-dropped-params"] = ",".join(map(_header_safe, self.dropped))
        if self.repairs:
            out["x-shim-repairs"] = ",".join(self.repairs)
        return out


LEDGER = web.RequestKey("ledger", Ledger)


def _header_safe(name: str) -> str:
    """A client's field name as header text: control and non-ASCII characters escaped (``\\x1f``).

    The names are the client's own; one with a control character in it made aiohttp refuse the header and
    drop the connection with no answer at all (found by schemathesis).
    """
    if name.isascii() and name.isprintable():
        return name
    return name.encode("unicode_escape").decode("ascii")
