"""The shim against an upstream that misbehaves on command, and against clients that leave or read slowly.

Real servers on loopback: a scripted upstream (``testkit.upstream.Upstream``) or the mock's ``x-mock-fault``
header, the shim in-process (with ``handler_cancellation``, as ``mistral-shim serve`` runs it) or as a real
``mistral-shim serve`` process, and the official openai client. Every fault must come back as an OpenAI
error (a status the SDK maps, or an error event that ends a stream), never a 500, a silent truncated
success, or a leaked connection, task or file descriptor.
"""

import asyncio
import json
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from testkit.auth import KEY
from testkit.errors import assert_openai_error, assert_stream_error
from testkit.leaks import fd_count, keen_shim, rss_bytes, settle, task_count
from testkit.processes import shim_process
from testkit.rawhttp import open_stream, read_until
from testkit.upstream import Received, Upstream, reply, reset
from testkit.wire import CHAT, HELLO, MISTRAL_ANSWER, SSE_HEAD, chunk, sse

# Mistral's streams are chunked: a reset inside one is a broken body, not an end the shim could mistake.
CHUNKED_SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


CANCEL_BOUND = 0.100  # the bound: upstream cancelled within 100 ms of the client leaving


def client(url: str, timeout: float = 30) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=timeout)


# --- an upstream that hangs, resets or answers garbage


async def hang(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()


async def stall_mid_body(
    received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"id":')
    await writer.drain()
    await reader.read()


TIMEOUT = 0.3


@pytest.mark.parametrize("script", [hang, stall_mid_body], ids=["hang", "stall-mid-body"])
def test_a_silent_upstream_is_a_504_within_the_timeout(
    tmp_path: Path, script: Callable, no_tracebacks: None
) -> None:
    """``mistral-shim serve --timeout 0.3``: on every route, the 504 comes after 0.3 s, not much later."""
    with (
        Upstream(script) as upstream,
        shim_process(["--upstream", upstream.url, "--timeout", str(TIMEOUT)], tmp_path) as shim,
    ):
        calls: dict[str, Callable[[], object]] = {
            "chat": lambda: client(shim.url).chat.completions.create(**CHAT),
            "embeddings": lambda: client(shim.url).embeddings.create(model="mistral-embed", input="x"),
            "models": lambda: client(shim.url).models.list(),
            "completions": lambda: client(shim.url).completions.create(model="codestral-latest", prompt="x"),
        }
        if script is hang:  # a stream that never starts is a plain 504 too
            calls["chat-stream"] = lambda: client(shim.url).chat.completions.create(**CHAT, stream=True)
        for name, call in calls.items():
            started = time.monotonic()
            with pytest.raises(openai.InternalServerError) as raised:
                call()
            elapsed = time.monotonic() - started
            assert raised.value.status_code == 504, name
            assert raised.value.body["code"] == "upstream_timeout", name  # type: ignore[index]
            assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + 2.0, (name, elapsed)
        started = time.monotonic()
        url, auth = f"{shim.url}/mistral/v1/models", {"Authorization": f"Bearer {KEY}"}
        if script is hang:  # Mistral's own route: the gateway's 504
            answer = httpx.get(url, headers=auth)
            assert answer.status_code == 504 and "timing out" in answer.json()["message"]
        else:  # the pass-through had started its answer: the client sees it cut, never completed
            with pytest.raises(httpx.RemoteProtocolError):
                httpx.get(url, headers=auth)
        assert time.monotonic() - started < TIMEOUT + 2.0
        shim.stop()
    assert "Traceback" not in shim.output()


async def reset_at_once(
    received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    reset(writer)


async def reset_mid_body(
    received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"id":')
    await writer.drain()
    await asyncio.sleep(0.05)
    reset(writer)


async def reset_mid_stream(
    received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    writer.write(CHUNKED_SSE_HEAD + chunked(HELLO))
    await writer.drain()
    await asyncio.sleep(0.05)
    reset(writer)


async def reset_inside_an_event(
    received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    writer.write(CHUNKED_SSE_HEAD + chunked(HELLO) + chunked(b'data: {"id":"0a1b2c3d4e5f","choices":[{"ind'))
    await writer.drain()
    await asyncio.sleep(0.05)
    reset(writer)


@pytest.mark.parametrize(
    ("script", "code"),
    [(reset_at_once, "upstream_unreachable"), (reset_mid_body, "upstream_bad_response")],
    ids=["before-the-answer", "mid-body"],
)
def test_a_reset_is_a_502(
    start_shim: Callable[..., str], script: Callable, code: str, no_tracebacks: None
) -> None:
    with Upstream(script) as upstream:
        shim = start_shim(upstream=upstream.url)
        with pytest.raises(openai.InternalServerError) as raised:
            client(shim).chat.completions.create(**CHAT)
        assert (raised.value.status_code, raised.value.body["code"]) == (502, code)  # type: ignore[index]
        response = httpx.post(
            f"{shim}/v1/embeddings",
            json={"model": "mistral-embed", "input": "x"},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert_openai_error(response, 502, code)
        if script is reset_at_once:
            with pytest.raises(openai.InternalServerError):
                client(shim).chat.completions.create(**CHAT, stream=True)


@pytest.mark.parametrize(
    "script", [reset_mid_stream, reset_inside_an_event], ids=["between-events", "inside-an-event"]
)
def test_a_reset_mid_stream_ends_the_stream_with_an_error_event(
    start_shim: Callable[..., str], script: Callable, no_tracebacks: None
) -> None:
    with Upstream(script) as upstream:
        shim = start_shim(upstream=upstream.url)
        for _ in range(3):  # and again: the shim keeps serving
            got = assert_stream_error(
                client(shim).chat.completions.create(**CHAT, stream=True), "upstream_stream_error"
            )
            assert [c.choices[0].delta.content for c in got] == ["Hel"]


@pytest.mark.parametrize(
    "tail",
    [b"", b'data: {"id":"0a1b2c3d4e5f","choi', b"data: [DO"],
    ids=["no-done", "cut-inside-an-event", "cut-inside-done"],
)
def test_a_stream_that_ends_early_ends_with_an_error_event_and_a_closed_stream(
    start_shim: Callable[..., str], tail: bytes, no_tracebacks: None
) -> None:
    """On the wire: the events that arrived, then one error event, then a properly ended body (the last
    chunk of the chunked encoding) and never ``[DONE]``; the openai client raises on that event."""

    async def short(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_SSE_HEAD + chunked(HELLO) + (chunked(tail) if tail else b"") + b"0\r\n\r\n")
        await writer.drain()

    with Upstream(short) as upstream:
        shim = start_shim(upstream=upstream.url)
        auth = {"Authorization": f"Bearer {KEY}"}
        with httpx.stream(
            "POST", f"{shim}/v1/chat/completions", json={**CHAT, "stream": True}, headers=auth
        ) as raw:
            body = raw.read()  # raises if the body were cut rather than ended
        events = [line[6:] for line in body.decode().split("\n\n") if line.startswith("data: ")]
        assert b"[DONE]" not in body
        assert json.loads(events[0])["choices"][0]["delta"]["content"] == "Hel"
        assert json.loads(events[-1])["error"]["type"] == "server_error"
        with pytest.raises(openai.APIError) as raised:
            list(client(shim).chat.completions.create(**CHAT, stream=True))
        assert not isinstance(raised.value, openai.APIConnectionError)


def scripted(status: int, body: bytes, content_type: str) -> Callable:
    async def script(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reply(writer, status, body, content_type)

    return script


GATEWAY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (502, GATEWAY_PAGE, "text/html", 502),
        (503, b"<html><body>Service Unavailable</body></html>", "text/html", 502),
        (504, b"upstream request timeout", "text/plain", 502),
        (200, b"<html>maintenance</html>", "text/html", 502),
        (200, json.dumps(MISTRAL_ANSWER).encode(), "application/json", 502),
    ],
    ids=["502-html", "503-html", "504-text", "200-html", "200-json-for-a-stream"],
)
def test_a_stream_request_answered_with_a_page_is_an_error_not_a_stream(
    start_shim: Callable[..., str],
    status: int,
    body: bytes,
    content_type: str,
    expected: int,
    no_tracebacks: None,
) -> None:
    """Streams get what JSON requests get (``test_broken_upstream_answers_are_gateway_errors``): a
    gateway's page, or an answer that is not an event stream, is an error status before any event."""
    with Upstream(scripted(status, body, content_type)) as upstream:
        shim = start_shim(upstream=upstream.url)
        with pytest.raises(openai.APIStatusError) as raised:
            list(client(shim).chat.completions.create(**CHAT, stream=True))
        assert raised.value.status_code == expected
        assert "<html>" not in raised.value.message


async def test_a_burst_of_429s_reaches_every_client_as_a_rate_limit_error(shim_url: str) -> None:
    """60 concurrent requests, streamed and not, all refused by Mistral with a 429: each client gets a
    ``RateLimitError`` with the Retry-After, none a 5xx, and the shim answers normally afterwards."""
    fault = {"x-mock-fault": "status=429;retry_after=3"}
    async with AsyncOpenAI(base_url=f"{shim_url}/v1", api_key=KEY, max_retries=0, timeout=30) as sdk:

        async def one(i: int) -> openai.APIStatusError:
            with pytest.raises(openai.RateLimitError) as raised:
                if i % 2:
                    await sdk.chat.completions.create(**CHAT, stream=True, extra_headers=fault)
                else:
                    await sdk.chat.completions.create(**CHAT, extra_headers=fault)
            return raised.value

        refusals = await asyncio.gather(*(one(i) for i in range(60)))
        assert {(e.status_code, e.response.headers["retry-after"]) for e in refusals} == {(429, "3")}
        assert (await sdk.chat.completions.create(**CHAT)).choices[0].message.content


def test_a_burst_of_429s_is_ridden_out_with_retries(start_shim: Callable[..., str]) -> None:
    """With ``--retries 2``, a burst of 20 concurrent requests each refused once (twice for some) with a
    429: every client gets its answer, and the upstream saw each request as often as it refused it, plus one.
    """
    refusals: dict[bytes, int] = {}

    async def busy(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        times = json.loads(received.body)["messages"][0]["content"].count("!")
        if refusals.get(received.body, 0) < times:
            refusals[received.body] = refusals.get(received.body, 0) + 1
            body = b'{"message":"Requests rate limit exceeded"}'
            writer.write(
                b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 0\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        else:
            await reply(writer, 200, json.dumps(MISTRAL_ANSWER).encode())

    with Upstream(busy) as upstream:
        shim = start_shim(upstream=upstream.url, retries=2)
        # Request i carries 1 or 2 "!": the number of 429s it gets before its answer.
        prompts = [f"request {i} " + "!" * (1 + i % 2) for i in range(20)]

        async def burst() -> list[str | None]:
            async with AsyncOpenAI(base_url=f"{shim}/v1", api_key=KEY, max_retries=0, timeout=30) as sdk:
                replies = await asyncio.gather(
                    *(
                        sdk.chat.completions.create(
                            model="mistral-small-latest", messages=[{"role": "user", "content": prompt}]
                        )
                        for prompt in prompts
                    )
                )
            return [r.choices[0].message.content for r in replies]

        assert asyncio.run(burst()) == ["Hello!"] * 20
        assert sum(refusals.values()) == 30
        assert len(upstream.received) == 50


# --- a client that leaves


def first_event_then_wait(upstream: Upstream) -> Callable:
    """Send one event (or, for a non-streamed request, nothing), then wait for the shim to hang up."""

    async def script(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if json.loads(received.body).get("stream"):
            writer.write(SSE_HEAD + HELLO)
            await writer.drain()
        await upstream.wait_for_close(reader)

    return script


def leave(port: int, body: dict, marker: bytes | None) -> float:
    """Send ``body``, wait for ``marker`` in the answer (or for the upstream to be asked), close; the time."""
    sock = open_stream(port, json.dumps(body).encode())
    if marker is not None:
        assert marker in read_until(sock, marker)
    left = time.monotonic()
    sock.close()
    return left


def disconnect_delays(upstream: Upstream, port: int, rounds: int) -> list[float]:
    """Seconds from each client's close to the upstream seeing its connection closed by the shim."""
    delays = []
    for i in range(rounds):
        stream = i % 2 == 0
        seen = len(upstream.received)
        closed = len(upstream.closed_at)
        if stream:
            left = leave(port, {**CHAT, "stream": True}, b"Hel")
        else:
            sock = open_stream(port, json.dumps(CHAT).encode())
            deadline = time.monotonic() + 10
            while len(upstream.received) == seen and time.monotonic() < deadline:
                time.sleep(0.005)
            left = time.monotonic()
            sock.close()
        deadline = time.monotonic() + 10
        while len(upstream.closed_at) == closed and time.monotonic() < deadline:
            time.sleep(0.001)
        assert len(upstream.closed_at) > closed, "the shim never closed the upstream request"
        delays.append(upstream.closed_at[-1] - left)
    return delays


def test_a_client_leaving_cancels_the_upstream_within_100_ms_and_leaks_no_descriptor(tmp_path: Path) -> None:
    """``mistral-shim serve``: 20 clients leave mid-stream or while Mistral is still thinking; each time
    the upstream request is closed within 100 ms, and the process keeps the descriptors it started with."""
    upstream = Upstream()
    upstream.script = first_event_then_wait(upstream)
    with upstream, shim_process(["--upstream", upstream.url], tmp_path) as shim:
        port = int(shim.url.rsplit(":", 1)[1])
        disconnect_delays(upstream, port, 2)  # warm up: imports, the session, the first connections
        assert upstream.wait_idle()
        before = fd_count(shim.process.pid)
        delays = disconnect_delays(upstream, port, 20)
        assert upstream.wait_idle(), f"{upstream.open} upstream connections left open"
        after = settle(lambda: fd_count(shim.process.pid), before)
        shim.stop()
    print(f"cancel delays ms: median {statistics.median(delays) * 1000:.1f}, max {max(delays) * 1000:.1f}")
    assert max(delays) < CANCEL_BOUND, [round(d * 1000, 1) for d in delays]
    assert after == before, f"{after - before} file descriptors leaked over 20 disconnects"
    assert shim.output().count('"status":499') == 22
    assert "Traceback" not in shim.output()


def test_in_process_no_task_or_upstream_connection_outlives_its_client() -> None:
    """The same in-process, where the shim's own loop can be counted: after 20 clients leave (streams,
    waiting answers, a batched embeddings request split into several upstream calls) the loop holds the
    tasks it held before, and every upstream connection is closed."""
    upstream = Upstream()
    upstream.script = first_event_then_wait(upstream)
    with upstream, keen_shim(upstream.url) as shim:
        disconnect_delays(upstream, shim.port, 2)
        assert upstream.wait_idle()
        tasks = task_count(shim)
        delays = disconnect_delays(upstream, shim.port, 18)
        # Embeddings over Mistral's 16,384-token batch limit go up in several parts, side by side.
        texts = [" ".join(["word"] * 7000)] * 3
        calls = len(upstream.received)
        sock = open_stream(
            shim.port, json.dumps({"model": "mistral-embed", "input": texts}).encode(), "/v1/embeddings"
        )
        deadline = time.monotonic() + 10
        while len(upstream.received) < calls + 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        parts = len(upstream.received) - calls
        sock.close()
        assert parts >= 2
        assert upstream.wait_idle(), f"{upstream.open} upstream connections left open"
        assert settle(lambda: task_count(shim), tasks) == tasks
    assert max(delays) < CANCEL_BOUND, [round(d * 1000, 1) for d in delays]


# --- a client that reads slowly

STREAM_LIMIT = 512 * 1024 * 1024  # what the upstream would send if nothing held it back
IN_FLIGHT_BOUND = 64 * 1024 * 1024
RSS_BOUND = 32 * 1024 * 1024


def firehose(upstream: Upstream, sent: list[int]) -> Callable:
    """An endless stream of 16 KiB events, written as fast as the shim takes them; ``sent[0]`` counts."""
    event = sse(chunk("x" * 16_384))

    async def script(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        writer.write(SSE_HEAD)
        while sent[0] < STREAM_LIMIT:
            writer.write(event)
            await writer.drain()
            sent[0] += len(event)

    return script


def plateau(sent: list[int], quiet: float = 0.5, timeout: float = 15) -> int | None:
    """The upstream's byte count once it has not moved for ``quiet`` seconds; None if it never stops."""
    deadline = time.monotonic() + timeout
    last, since = sent[0], time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if sent[0] != last:
            last, since = sent[0], time.monotonic()
        elif time.monotonic() - since >= quiet:
            return last
    return None


def test_a_slow_reader_holds_the_upstream_back_with_bounded_memory(tmp_path: Path) -> None:
    """A client that stops reading a stream that would run to 512 MiB: the upstream is held back (TCP
    backpressure through the shim) with a bounded amount in flight, the shim's memory does not grow with
    the stream, and the stream resumes when the client reads again."""
    upstream = Upstream()
    sent = [0]
    upstream.script = firehose(upstream, sent)
    with upstream, shim_process(["--upstream", upstream.url], tmp_path) as shim:
        port = int(shim.url.rsplit(":", 1)[1])
        rss_before = rss_bytes(shim.process.pid)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.connect(("127.0.0.1", port))
        body = json.dumps({**CHAT, "stream": True}).encode()
        sock.sendall(
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        received = 0
        for _ in range(20):  # a slow reader: 16 KiB every 10 ms, then nothing at all
            received += len(sock.recv(16_384))
            time.sleep(0.01)
        held = plateau(sent)
        rss_held = rss_bytes(shim.process.pid)
        for _ in range(200):  # reading again lets the upstream go on
            received += len(sock.recv(65536))
        resumed = plateau(sent, quiet=0.3)
        sock.close()
        assert upstream.wait_idle()
    growth = (rss_held - rss_before) / 2**20
    print(f"in flight when held: {(held or 0) / 2**20:.1f} MiB; shim RSS growth {growth:.1f} MiB")
    assert held is not None, (
        "the upstream was never held back: the shim buffers what its client does not read"
    )
    assert held - received < IN_FLIGHT_BOUND
    assert rss_held - rss_before < RSS_BOUND
    assert resumed is not None and resumed > held
