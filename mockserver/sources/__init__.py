"""Where the mock's answers come from: each source answers a request, or passes it to the next.

A mode is an ordered list of sources (``chain``), first match wins: authored fixtures first whenever a
fixtures file is loaded, then recordings (replay, auto), then the upstream (record, auto) or the
synthetic generator (synthetic, or replay with ``--on-miss synthetic``), and in replay mode a last source
that says no recording matched. Every source sees the contract's verdict on the request, so a request
Mistral would refuse is refused by whichever source would otherwise have answered it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from aiohttp import web

from mistral_wire.http import bearer
from mockserver.faults import NONE, Fault
from mockserver.forms import Form
from mockserver.ratelimit import RateLimiter
from mockserver.recording.format import Body
from mockserver.render import Rendered
from mockserver.settings import MockSettings
from mockserver.validation import Verdict

SOURCE_HEADER = "x-mock-source"
RECORDING_HEADER = "x-mock-recording"


@dataclass(frozen=True)
class Problem:
    """What a test must hear about even when it never read the answer it got (the pytest plugin reports
    them): a request no recording matched (``miss``), an answer the recorder refused to save because it
    was a mistake of the setup (``recording``), a fixture rule Mistral could never have answered that way
    (``fixture``), or an error answered from a recording (``replayed-error``, told only when the test fails).
    """

    kind: Literal["miss", "recording", "fixture", "replayed-error"]
    message: str


@dataclass
class Call:
    """One request, as every source sees it."""

    request: web.Request
    raw: bytes
    # The contract's verdict; None for a route the contract has no model of (a GET, an unknown path).
    verdict: Verdict | None
    settings: MockSettings
    limiter: RateLimiter
    # The caller's key (rate limits are per key); "" on public routes.
    key: str
    # The headers every answer carries (the tracing ids).
    headers: Mapping[str, str]
    # ``loop.time()`` when the request arrived: replayed offsets count from it.
    arrived: float
    fault: Fault = field(default=NONE)
    # A form body (an upload, a transcription), read by the pipeline with its file parts on disk; ``raw``
    # is then empty.
    form: Form | None = None

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def path(self) -> str:
        return self.request.path

    def body(self) -> Body:
        """The body as a recording keeps it and matching compares it: a form as its summary (each file by
        its digest and size), anything else as sent."""
        if self.form is not None:
            return Body(value=self.form.summary())
        return Body.from_bytes(self.raw)

    @property
    def request_bearer(self) -> str:
        """The key the client presented (a recording never holds it, but may need it scrubbed)."""
        return bearer(self.request.headers) or ""

    def tagged(self, source: str) -> dict[str, str]:
        """The headers every answer carries, and ``x-mock-source`` naming what answered: ``synthetic``,
        ``replay``, ``record``, ``fixture``, ``contract`` (Mistral's refusal of the request), ``miss``, or
        ``refused`` (the recorder refused to save a mistake of the setup)."""
        return {**self.headers, SOURCE_HEADER: source}

    def refuse(self, refusal: Rendered, source: str = "contract") -> web.Response:
        """A refusal with the headers the live API sends beside one (its rate-limit counters too)."""
        extra = self.tagged(source)
        if self.key and refusal.status != 401:
            extra.update(self.limiter.headers(self.key))
        return refusal.response(extra)


class Source(Protocol):
    async def answer(self, call: Call) -> web.StreamResponse | None:
        """The answer, sent or ready to send; None to let the next source answer."""
        ...
