"""A refused request repeated thousands of times leaves the mock's memory where it was.

The mock caches its verdicts; a cache that kept the refusal as an exception object raised it again on
every repeat, and each raise added its frames (and the request they held) to the exception's traceback:
2,000 repeats of one bad body kept about 6,000 frames and 2,000 requests alive. Verdicts are values now.
"""

import gc
import tracemalloc

import httpx2 as httpx
from aiohttp import web

REFUSED = {"model": "mistral-small-latest", "messages": [{"role": "developer", "content": "Be brief."}]}
REPEATS = 5000
BOUND = 1024 * 1024  # bytes of growth allowed over 5,000 requests: allocator noise, not 200 bytes each


def live_requests() -> int:
    return sum(isinstance(thing, web.BaseRequest) for thing in gc.get_objects())


def test_five_thousand_refusals_leave_memory_flat(mock_url: str) -> None:
    with httpx.Client(base_url=mock_url, headers={"Authorization": "Bearer k"}, timeout=30) as http:
        first = http.post("/v1/chat/completions", json=REFUSED)
        assert first.status_code == 422
        for _ in range(200):  # warm-up: caches, connection, allocator
            http.post("/v1/chat/completions", json=REFUSED)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(REPEATS):
                answer = http.post("/v1/chat/completions", json=REFUSED)
                assert answer.status_code == 422
            assert answer.content == first.content  # the same refusal every time
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    print(f"{REPEATS} refusals: traced memory grew {grown / 1024:.1f} KiB")
    assert grown < BOUND, f"grew {grown} bytes over {REPEATS} refusals"
    assert live_requests() < 10, "requests are kept alive after their answer"
