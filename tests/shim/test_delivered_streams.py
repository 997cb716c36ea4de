"""A stream the client read to its end is logged as answered, even when the client hangs up at once.

aiohttp cancels a handler whose client's connection closes (the shim runs with ``handler_cancellation``, so
a client that leaves stops its upstream request). A client that read a stream to its last byte and hung up
while the handler was still finishing (releasing the upstream, storing a Response) cancelled the handler
too, and the access log said 499, "client closed request", for an answer the client had whole (seen in a
full CI run). The edges now log what the handler delivered.
"""

import asyncio
import json
import logging
import socket

import pytest
from aiohttp import web

from shim import pipeline
from shim.app import RUNNER_OPTIONS, create_app
from shim.exchange import EXCHANGE, begin
from shim.relay import ClientWriter
from shim.settings import load
from testkit.processes import free_port

KEY = "sk-client"
EVENTS = [b'data: {"n": 1}\n\n', b"data: [DONE]\n\n"]


async def finishing_slowly(request: web.Request) -> web.StreamResponse:
    """A stream written whole, then a pause before the handler returns (what a release of the upstream
    or a store's write can take), in which the client hangs up."""
    exchange = begin(request)
    writer = ClientWriter(request, web.StreamResponse(headers={"Content-Type": "text/event-stream"}))
    await writer.prepare()
    for event in EVENTS:
        await writer.write(event)
    await writer.end()
    await asyncio.sleep(1.0)
    writer.response[EXCHANGE] = exchange
    return writer.response


async def leaving_early(request: web.Request) -> web.StreamResponse:
    """A stream whose client hangs up before its end."""
    exchange = begin(request)
    writer = ClientWriter(request, web.StreamResponse(headers={"Content-Type": "text/event-stream"}))
    await writer.prepare()
    await writer.write(EVENTS[0])
    await asyncio.sleep(1.0)
    await writer.write(EVENTS[1])
    await writer.end()
    writer.response[EXCHANGE] = exchange
    return writer.response


def read_then_hang_up(port: int, path: str, until: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n\r\n".encode()
        )
        received = b""
        while until not in received:
            chunk = client.recv(65536)
            assert chunk, received
            received += chunk
    return received


@pytest.mark.parametrize(
    ("path", "until", "status"),
    [("/v1/finishing-slowly", b"0\r\n\r\n", 200), ("/v1/leaving-early", b'{"n": 1}', 499)],
)
async def test_the_log_says_what_the_client_received(
    path: str, until: bytes, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(load({"api_key": KEY, "upstream": "http://127.0.0.1:9"}, {}))
    app.router.add_get("/v1/finishing-slowly", pipeline.guarded(lambda request, _: finishing_slowly(request)))
    app.router.add_get("/v1/leaving-early", pipeline.guarded(lambda request, _: leaving_early(request)))
    runner = web.AppRunner(app, **RUNNER_OPTIONS)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        with caplog.at_level(logging.INFO, logger="shim.access"):
            received = await asyncio.to_thread(read_then_hang_up, port, path, until)
            for _ in range(100):
                lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "shim.access"]
                if lines:
                    break
                await asyncio.sleep(0.02)
    finally:
        await runner.cleanup()
    assert received.startswith(b"HTTP/1.1 200")
    assert [(line["path"], line["status"]) for line in lines] == [(path, status)]
