"""A streamed answer relayed by the shim ends cleanly upstream too: complete, and on a reused connection.


The shim used to drop its upstream connection as soon as it had read ``[DONE]``, a few bytes before the
stream's end: Mistral saw every stream's client hang up, and a recording mock in between lost about a third
of its streamed fixtures. Both ends are real servers here: shim → mock in record mode → synthetic mock.
"""

import time
from collections.abc import Callable
from pathlib import Path

from openai import OpenAI

from testkit.auth import KEY
from testkit.upstream import Upstream
from testkit.wire import sse_answer

USER = [{"role": "user", "content": "Hi"}]


def recordings(folder: Path, expected: int) -> list[Path]:
    """The recordings in ``folder`` once ``expected`` are there (or after 5 s): each is written just after
    its answer's last byte went out, so the last may land a moment after the client has read it."""
    deadline = time.monotonic() + 5
    while len(found := sorted(folder.rglob("*.json"))) < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def test_every_stream_through_the_shim_is_recorded_whole(
    tmp_path: Path, mock_url: str, start_mock: Callable[..., str], start_shim: Callable[..., str]
) -> None:
    recorder = start_mock(mode="record", upstream=mock_url, recordings=tmp_path)
    shim = start_shim(upstream=recorder)
    with OpenAI(base_url=f"{shim}/v1", api_key=KEY, max_retries=0) as client:
        for number in range(12):
            stream = client.chat.completions.create(
                model="mistral-small-latest",
                messages=[{"role": "user", "content": f"Count to {number}."}],
                max_tokens=8,
                stream=True,
            )
            assert [chunk for chunk in stream][-1].choices[0].finish_reason is not None
    written = recordings(tmp_path, 12)
    assert len(written) == 12, [path.name for path in written]
    assert all('"[DONE]"' in path.read_text(encoding="utf-8") for path in written)


def test_streams_reuse_one_upstream_connection(start_shim: Callable[..., str]) -> None:
    chunk = {
        "id": "a1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
    }
    # Chunked, as Mistral frames its streams: the stream's end is a few bytes after ``[DONE]``.
    with Upstream(answer=sse_answer([chunk], chunked=True)) as upstream:
        shim = start_shim(upstream=upstream.url)
        with OpenAI(base_url=f"{shim}/v1", api_key=KEY, max_retries=0) as client:
            for _ in range(5):
                chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True))
                assert chunks[-1].choices[0].finish_reason == "stop"
    ports = [received.peer_port for received in upstream.received]
    assert len(ports) == 5 and len(set(ports)) == 1, f"upstream connections by client port: {ports}"
