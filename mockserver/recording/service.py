"""The record, replay and auto modes of ``mistral-mock serve``, as one aiohttp handler.

replay: answer only from recordings (no network); a miss is a clear 404, or a synthetic answer with
``--on-miss synthetic``. record: forward everything upstream and save each interaction. auto: replay when
a recording matches, else record.
"""

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from mockserver.config import MockConfig
from mockserver.faults import HEADER as FAULT_HEADER
from mockserver.faults import NONE as NO_FAULT
from mockserver.faults import Fault
from mockserver.recording import proxy, redact, replay
from mockserver.recording.model import Body
from mockserver.recording.store import RecordingStore

log = logging.getLogger("mockserver.recording")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RecordingService:
    def __init__(self, config: MockConfig, synthetic: Callable[[web.Request], Handler | None]) -> None:
        if config.recordings is None:
            raise ValueError(f"--mode {config.mode} needs --recordings DIR")
        self.config = config
        secrets = [k for k in (config.upstream_key, *config.api_keys) if k]
        self.store = RecordingStore(config.recordings, ignore_fields=config.ignore_fields, secrets=secrets)
        self._synthetic = synthetic
        self._session: aiohttp.ClientSession | None = None
        # The message of every request that no recording matched, in order (the pytest plugin fails the
        # test with them, even when the test never looked at the 404 it got).
        self.misses: list[str] = []

    async def start(self, app: web.Application) -> None:
        loaded = await asyncio.get_running_loop().run_in_executor(None, self.store.load)
        log.info("%d recordings indexed under %s", loaded, self.config.recordings)
        if self.config.mode != "replay":
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=600)
            self._session = aiohttp.ClientSession(timeout=timeout, auto_decompress=True)

    async def stop(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def handle(
        self,
        request: web.Request,
        headers: dict[str, str],
        *,
        arrived: float | None = None,
        fault: Fault = NO_FAULT,
        spend: Callable[[int], None] | None = None,
    ) -> web.StreamResponse:
        """Answer one request. ``arrived`` is the ``loop.time()`` it reached the server (replayed offsets
        count from it); ``fault`` the parsed ``x-mock-fault`` (replay mode); ``spend`` charges a replayed
        answer's tokens to the caller's ``--tpm`` bucket."""
        if arrived is None:
            arrived = asyncio.get_running_loop().time()
        raw = await request.read()
        if self.config.mode in ("replay", "auto"):
            path, query, body = self.store.as_saved(
                request.path, request.rel_url.raw_query_string, raw, [proxy.client_bearer(request)]
            )
            recording = self.store.lookup(request.method, path, query, body)
            if recording is not None:
                if spend is not None:
                    spend(recording.cost)
                return await replay.send(
                    request, recording, self.config.speed, headers, arrived, fault.disconnect_after
                )
            if self.config.mode == "replay":
                return await self._miss(request, path, body)
        return await self._record(request, raw, headers)

    async def _miss(self, request: web.Request, path: str, body: Body) -> web.StreamResponse:
        if self.config.on_miss == "synthetic":
            handler = self._synthetic(request)
            if handler is not None:
                return await handler(request)
        closest = self.store.closest(request.method, path, body)
        named = None
        if closest is not None:
            named = (str(closest[0].relative_to(self.store.root)), closest[1])
        error = replay.miss(request.method, request.path, named)
        self.misses.append(error.body["message"])
        raise error

    async def _record(self, request: web.Request, raw: bytes, headers: dict[str, str]) -> web.StreamResponse:
        assert self._session is not None
        try:
            tracing = {k: v for k, v in headers.items() if k.lower() in proxy.TRACING}
            response, recording = await proxy.forward(
                request, raw, self._session, self.config.upstream, self.config.upstream_key, tracing
            )
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            from mistral_wire.contract.errors import MistralError, envelope

            message = f"Upstream {self.config.upstream} could not be reached: {exc.__class__.__name__}"
            raise MistralError(502, envelope(message, "upstream_unreachable", None)) from None
        if recording is not None and FAULT_HEADER not in request.headers:
            # An answer a test forced with x-mock-fault is not Mistral's: saved, it would be replayed to the
            # same request without the header (faults are not part of matching), and replays apply the
            # header's faults themselves.
            bearer = proxy.client_bearer(request)
            save = functools.partial(self.store.save, recording, extra_secrets=[bearer])
            path = await asyncio.get_running_loop().run_in_executor(None, save)
            shown = redact.scrub(request.path, [*self.store.secrets, bearer])
            log.info("recorded %s %s -> %s", request.method, shown, path)
        return response
