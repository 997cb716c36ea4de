"""Streams through the shim: never buffered, never a silent truncated success, cancelled with the client.

Ordering is proven with events, not timing: the scripted upstream holds its second event until the test,
having received the first through the openai client, lets it go. A shim that buffered would deadlock
there, and the test fails on the client's timeout.
"""

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from testkit.auth import AUTH, KEY
from testkit.errors import assert_stream_error
from testkit.processes import shim_process
from testkit.upstream import Received, Upstream, leaves_early, wait_event
from testkit.wire import CHAT, HELLO, SSE_HEAD, chunk, sse


def client(url: str, timeout: float = 30) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=timeout)


def test_each_event_reaches_the_client_before_the_next_is_sent(start_shim: Callable[..., str]) -> None:
    first_seen = threading.Event()
    released: list[bool] = []

    async def gated(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + sse(chunk("Hel")))
        await writer.drain()
        released.append(await wait_event(first_seen))  # held until the client has "Hel"
        writer.write(sse(chunk("lo", finish="stop")) + b"data: [DONE]\n\n")
        await writer.drain()

    with Upstream(gated) as upstream:
        shim = start_shim(upstream=upstream.url)
        stream = client(shim, timeout=10).chat.completions.create(**CHAT, stream=True)
        chunks = iter(stream)
        assert next(chunks).choices[0].delta.content == "Hel"
        assert not released  # the upstream has not sent the second event yet
        first_seen.set()
        rest = list(chunks)
        assert [(c.choices[0].delta.content, c.choices[0].finish_reason) for c in rest] == [
            ("lo", None),
            (None, "stop"),
        ]
        assert released == [True]


async def test_streams_through_the_async_client(async_shim_client: AsyncOpenAI) -> None:
    stream = await async_shim_client.chat.completions.create(**CHAT, stream=True, max_tokens=8)
    assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])


def test_stream_headers(shim_url: str) -> None:
    with httpx.stream(
        "POST", f"{shim_url}/v1/chat/completions", json={**CHAT, "stream": True}, headers=AUTH
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-request-id"] and float(response.headers["x-shim-overhead-ms"]) >= 0
        body = response.read()
    assert body.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize("after", [0, 1, 3])
def test_mock_disconnect_mid_stream_is_an_error(shim_client: OpenAI, after: int) -> None:
    stream = shim_client.chat.completions.create(
        **CHAT, stream=True, extra_headers={"x-mock-fault": f"disconnect_after={after}"}
    )
    got = assert_stream_error(stream, "upstream_stream_error")
    assert len(got) == after


def test_legacy_completion_stream_cut_is_an_error(shim_client: OpenAI) -> None:
    stream = shim_client.completions.create(
        model="mistral-small-latest",
        prompt="Once",
        stream=True,
        extra_headers={"x-mock-fault": "disconnect_after=2"},
    )
    assert_stream_error(stream, "upstream_stream_error")


def script_of(data: bytes) -> Callable:
    async def script(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return script


@pytest.mark.parametrize(
    ("data", "code", "count"),
    [
        # "Hel", "lo", then the finish in a chunk of its own, as OpenAI frames it; then the error.
        (SSE_HEAD + HELLO + sse(chunk("lo", "stop")), "upstream_stream_truncated", 3),
        (SSE_HEAD + HELLO + b'data: {"id":"0a1b2c3d4e5f","obj', "upstream_bad_stream", 1),
        (SSE_HEAD + HELLO + b"data: not json\n\n", "upstream_bad_stream", 1),
        (SSE_HEAD + HELLO + b"data: [1, 2]\n\n", "upstream_bad_stream", 1),
        (SSE_HEAD, "upstream_stream_truncated", 0),
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + f"{len(HELLO):x}\r\n".encode()
            + HELLO
            + b"\r\n40\r\ndata: {",
            "upstream_stream_error",
            1,
        ),
    ],
    ids=["no-done", "cut-in-event", "not-json", "not-object", "empty", "chunked-cut"],
)
def test_broken_upstream_streams_end_in_an_error_event(
    start_shim: Callable[..., str], data: bytes, code: str, count: int
) -> None:
    with Upstream(script_of(data)) as upstream:
        shim = start_shim(upstream=upstream.url)
        stream = client(shim).chat.completions.create(**CHAT, stream=True)
        assert len(assert_stream_error(stream, code)) == count


def test_upstream_silent_mid_stream_times_out_as_an_error(start_shim: Callable[..., str]) -> None:
    async def stalls(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + HELLO)
        await writer.drain()
        await reader.read()

    with Upstream(stalls) as upstream:
        shim = start_shim(upstream=upstream.url, timeout=0.3)
        got = assert_stream_error(
            client(shim).chat.completions.create(**CHAT, stream=True), "upstream_stream_error"
        )
        assert len(got) == 1


def test_upstream_error_before_the_stream_is_a_plain_error(shim_client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        shim_client.chat.completions.create(
            **CHAT, stream=True, extra_headers={"x-mock-fault": "status=429;retry_after=1"}
        )
    with pytest.raises(openai.NotFoundError):
        shim_client.chat.completions.create(**{**CHAT, "model": "nope"}, stream=True)


# --- a client that leaves


def test_client_disconnect_cancels_the_upstream_request(tmp_path: Path) -> None:
    """``mistral-shim serve`` cancels the handler when its client goes away (aiohttp's
    ``handler_cancellation``): the upstream connection is closed though Mistral is silent."""
    upstream = Upstream()
    upstream.script = leaves_early(upstream, keep_sending=False)
    with upstream, shim_process(["--upstream", upstream.url], tmp_path) as shim:
        stream = client(shim.url).chat.completions.create(**CHAT, stream=True)
        assert next(iter(stream)).choices[0].delta.content == "Hel"
        assert not upstream.closed.is_set()
        stream.close()
        assert upstream.closed.wait(5), "the shim kept the upstream request open after its client left"
        shim.stop()
    assert '"status":499' in shim.output()
    assert "Traceback" not in shim.output()


def test_client_disconnect_stops_the_relay_at_the_next_event(
    start_shim: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    """Where the host does not cancel handlers (gunicorn's aiohttp worker), the next write fails and the
    upstream connection is closed then; nothing is logged as an error."""
    upstream = Upstream()
    upstream.script = leaves_early(upstream, keep_sending=True)
    with upstream:
        shim = start_shim(upstream=upstream.url)
        stream = client(shim).chat.completions.create(**CHAT, stream=True)
        assert next(iter(stream)).choices[0].delta.content == "Hel"
        stream.close()
        assert upstream.closed.wait(10)
    assert not [r for r in caplog.records if r.levelno >= 40], [r.getMessage() for r in caplog.records]


def test_usage_chunk_only_when_asked(shim_client: OpenAI) -> None:
    plain = list(shim_client.chat.completions.create(**CHAT, stream=True, max_tokens=5))
    assert plain and plain[-1].choices[0].finish_reason in ("stop", "length")
    assert all(c.usage is None for c in plain)
    asked = list(
        shim_client.chat.completions.create(
            **CHAT, stream=True, max_tokens=5, stream_options={"include_usage": True}
        )
    )
    assert asked[-1].choices == [] and asked[-1].usage.total_tokens > 0
    assert json.loads(asked[-1].model_dump_json())["object"] == "chat.completion.chunk"
