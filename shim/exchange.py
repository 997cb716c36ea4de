"""The record of one request through the shim: what it became, what was dropped or repaired, how long it took.

The pipeline (``shim.pipeline``) and the pass-through (``shim.passthrough``) each make one and return it
with the answer; the edges read it for the headers every answer carries and for the access-log line. No
other module writes it.
"""

import time
from dataclasses import dataclass, field

from aiohttp import web

from shim.keys import REQUEST_ID, STARTED


@dataclass
class Exchange:
    request_id: str
    started: float
    model: str | None = None
    # The Mistral model the request went to (an alias resolved), for ``x-mistral-model``.
    mistral_model: str | None = None
    dropped: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    upstream_status: int | None = None
    upstream_seconds: float = 0.0
    # The client left before the answer was complete (logged as 499).
    client_gone: bool = False
    # The status of an answer the handler itself wrote to its last byte (a stream, a relayed download):
    # a cancellation after that is a client hanging up on a complete answer, logged with this status.
    delivered: int | None = None
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
        if self.mistral_model:
            out["x-mistral-model"] = _header_safe(self.mistral_model)
        return out


EXCHANGE = web.ResponseKey("exchange", Exchange)
"""Where an answer carries its exchange record to the edges."""

IN_FLIGHT = web.RequestKey("exchange", Exchange)
"""The exchange of the request being answered, for the edges when aiohttp cancels the handler (its
client's connection closed) before the answer carried it back."""


def begin(request: web.Request) -> Exchange:
    """The exchange of ``request`` (its id and arrival, as the edges set them), also kept on the request
    (``IN_FLIGHT``)."""
    exchange = Exchange(request_id=request[REQUEST_ID], started=request[STARTED])
    request[IN_FLIGHT] = exchange
    return exchange


def _header_safe(name: str) -> str:
    """A client's field name as header text: control and non-ASCII characters escaped (``\\x1f``).

    The names are the client's own; one with a control character in it made aiohttp refuse the header and
    drop the connection with no answer at all (found by schemathesis).
    """
    if name.isascii() and name.isprintable():
        return name
    return name.encode("unicode_escape").decode("ascii")
