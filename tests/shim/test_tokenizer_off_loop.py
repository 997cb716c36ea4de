"""The first embeddings request for a tekken model loads Mistral's tokenizer without stalling the shim.

Loading tekken takes half a second of CPU or more. Done on the event loop, as the shim once did, every
stream in flight stalled and every other request waited that long. It is loaded in a thread now, the first
time a request needs it: meanwhile ``/health`` answers at once and a stream in flight keeps flowing. The
shim runs as its own process, so the tokenizer is truly not loaded yet.
"""

import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx

from testkit.processes import shim_process

AUTH = {"Authorization": "Bearer test-key"}
STREAM = {
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "Tell me a long story."}],
    "stream": True,
}


def test_health_and_a_stream_go_on_while_tekken_loads(start_mock: Callable[..., str], tmp_path: Path) -> None:
    mock = start_mock()
    with shim_process(["--upstream", mock], tmp_path) as shim:
        arrivals: list[float] = []
        streaming = threading.Event()

        def stream() -> None:
            headers = {**AUTH, "x-mock-fault": "chunk_ms=25"}
            with httpx.stream(
                "POST", f"{shim.url}/v1/chat/completions", json=STREAM, headers=headers, timeout=30
            ) as answer:
                for _ in answer.iter_lines():
                    arrivals.append(time.monotonic())
                    streaming.set()

        reader = threading.Thread(target=stream)
        reader.start()
        assert streaming.wait(10)
        embedded: list[float] = []

        def embed() -> None:
            started = time.monotonic()
            body = {"model": "codestral-embed", "input": ["def f(): pass"] * 3}
            answer = httpx.post(f"{shim.url}/v1/embeddings", json=body, headers=AUTH, timeout=60)
            assert answer.status_code == 200, answer.text
            embedded[:] = [started, time.monotonic()]

        loader = threading.Thread(target=embed)
        loader.start()
        health: list[float] = []
        while loader.is_alive():
            sent = time.monotonic()
            assert httpx.get(f"{shim.url}/health", timeout=30).status_code == 200
            health.append(time.monotonic() - sent)
            time.sleep(0.01)
        loader.join()
        reader.join(30)
    started, finished = embedded
    loading = finished - started  # the tokenizer's load, and one upstream request
    gaps = [b - a for a, b in itertools.pairwise(arrivals) if started <= a <= finished]
    print(
        f"first tekken request {loading * 1000:.0f} ms; /health at most {max(health) * 1000:.0f} ms; "
        f"stream gaps during it at most {max(gaps, default=0) * 1000:.0f} ms"
    )
    assert loading > 0.15, "the tokenizer was loaded already: nothing was observed"
    assert len(health) >= 3
    assert max(health) < loading / 3, "a /health request waited for the tokenizer"
    assert gaps and max(gaps) < loading / 2, "the stream in flight stalled while the tokenizer loaded"


def test_warm_tokenizers_loads_tekken_at_startup(start_mock: Callable[..., str], tmp_path: Path) -> None:
    """``--warm-tokenizers``: the load starts at startup with no request asking for it, and the shim logs
    when it has ended; the first tekken request is then answered from the loaded tokenizer."""
    mock = start_mock()
    with shim_process(["--upstream", mock, "--warm-tokenizers"], tmp_path) as shim:
        assert httpx.get(f"{shim.url}/health", timeout=5).status_code == 200
        deadline = time.monotonic() + 60
        while "tokenizer (tekken) loaded" not in shim.output():
            assert time.monotonic() < deadline, f"tekken never reported loaded:\n{shim.output()}"
            time.sleep(0.05)
        body = {"model": "codestral-embed", "input": ["def f(): pass"] * 3}
        answer = httpx.post(f"{shim.url}/v1/embeddings", json=body, headers=AUTH, timeout=30)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["data"]) == 3
    assert "could not load" not in shim.output()
