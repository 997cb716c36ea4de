"""Matching requests to recordings: canonical keys, ignored fields, repeats in order, and clear misses."""

import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from aiohttp import web
from openai import NotFoundError, OpenAI

from mockserver.app import create_app
from mockserver.recording.format import Body, Recording
from mockserver.recording.matching import canonical, differences, request_key
from mockserver.recording.store import RecordingStore
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings

HEADERS = {"Authorization": "Bearer k", "Content-Type": "application/json"}
CHAT = "/v1/chat/completions"


def body(value: Any) -> Body:
    return Body.from_bytes(json.dumps(value).encode())


def recording(request: dict[str, Any], answer: str, status: int = 200) -> Recording:
    return Recording(
        method="POST",
        path=CHAT,
        query="",
        request_headers={"content-type": "application/json"},
        request_body=Body(value=request),
        status=status,
        response_headers={"content-type": "application/json"},
        response_body=Body(value={"answer": answer}),
    )


REQUEST = {
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "Hi"}],
    "temperature": 0.5,
}


def test_key_ignores_order_whitespace_equal_numbers_and_defaults() -> None:
    base = request_key("POST", CHAT, "", body(REQUEST))
    reordered = Body.from_bytes(
        b'{ "temperature": 0.50, "messages": [{"content": "Hi", "role": "user"}],\n'
        b' "model": "mistral-small-latest"}'
    )
    assert request_key("POST", CHAT, "", reordered) == base
    assert request_key("POST", CHAT, "", body({**REQUEST, "stream": False, "safe_prompt": False})) == base
    assert request_key("POST", CHAT, "", body({**REQUEST, "n": 1.0})) == request_key(
        "POST", CHAT, "", body({**REQUEST, "n": 1})
    )
    assert request_key("POST", CHAT, "", body({**REQUEST, "temperature": 0.6})) != base
    assert request_key("POST", CHAT, "", body({**REQUEST, "stream": True})) != base
    assert request_key("GET", CHAT, "", body(REQUEST)) != base
    assert request_key("GET", "/v1/models", "b=2&a=1", Body(text="")) == request_key(
        "GET", "/v1/models", "a=1&b=2", Body(text="")
    )


def test_ignored_fields_with_wildcards() -> None:
    with_meta = body(
        {**REQUEST, "metadata": {"run": "123"}, "messages": [{"role": "user", "content": "Hi", "x": 1}]}
    )
    without = body(
        {**REQUEST, "metadata": {"run": "999"}, "messages": [{"role": "user", "content": "Hi", "x": 2}]}
    )
    ignore = ["metadata.run", "messages.*.x"]
    assert request_key("POST", CHAT, "", with_meta, ignore) == request_key("POST", CHAT, "", without, ignore)
    assert request_key("POST", CHAT, "", with_meta) != request_key("POST", CHAT, "", without)


def test_differences_name_every_changed_path() -> None:
    wanted = canonical(CHAT, body({**REQUEST, "temperature": 0.9, "top_p": 0.5}))
    recorded = canonical(CHAT, body(REQUEST))
    assert differences(wanted, recorded) == ["temperature", "top_p"]


def test_repeats_replay_in_order_then_the_last_again(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    paths = [store.save(recording(REQUEST, answer)) for answer in ("first", "second", "third")]
    assert [p.name.split(".", 1)[1] for p in paths] == ["json", "2.json", "3.json"]
    fresh = RecordingStore(tmp_path)
    assert fresh.load() == 3
    answers = [fresh.lookup("POST", CHAT, "", body(REQUEST)).response_body.value["answer"] for _ in range(5)]
    assert answers == ["first", "second", "third", "third", "third"]
    assert fresh.unused() == []


def test_a_miss_is_a_4xx_that_sdks_do_not_retry_and_says_why(tmp_path: Path) -> None:
    RecordingStore(tmp_path).save(recording(REQUEST, "only"))
    config = MockSettings(mode="replay", recordings=tmp_path)
    served = []

    def make() -> Any:
        app = create_app(config)

        @web.middleware
        async def count(request: Any, handler: Any) -> Any:
            served.append(request.path)
            return await handler(request)

        app.middlewares.insert(0, count)
        return app

    with ServerThread(make) as url:
        client = OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=3)
        with pytest.raises(NotFoundError) as missed:
            client.chat.completions.create(
                model="mistral-small-latest", messages=[{"role": "user", "content": "Hello"}], temperature=0.5
            )
        assert served == [CHAT], "the SDK did not retry the miss"
        body_ = missed.value.body
        assert body_["type"] == "recording_not_found"
        assert "No recording matched POST /v1/chat/completions" in body_["message"]
        assert "chat/chat-hi-" in body_["message"]
        assert "messages.0.content" in body_["message"]
        other_route = httpx.get(f"{url}/v1/models", headers=HEADERS)
        assert other_route.status_code == 404
        assert "There is no recording of this route" in other_route.json()["message"]


def test_on_miss_synthetic_answers_instead(tmp_path: Path) -> None:
    config = MockSettings(mode="replay", recordings=tmp_path, on_miss="synthetic")
    with ServerThread(lambda: create_app(config)) as url:
        response = httpx.post(f"{url}{CHAT}", json=REQUEST, headers=HEADERS)
        models = httpx.get(f"{url}/v1/models/mistral-small-latest", headers=HEADERS)
    assert response.status_code == 200 and response.json()["object"] == "chat.completion"
    assert models.json()["id"] == "mistral-small-latest"


def test_auto_mode_replays_what_matches_and_records_the_rest(tmp_path: Path) -> None:
    with ServerThread(lambda: create_app(MockSettings())) as upstream:
        config = MockSettings(mode="auto", recordings=tmp_path, upstream=upstream)
        with ServerThread(lambda: create_app(config)) as url:
            first = httpx.post(f"{url}{CHAT}", json=REQUEST, headers=HEADERS).json()
            again = httpx.post(f"{url}{CHAT}", json=REQUEST, headers=HEADERS).json()
            other = httpx.post(f"{url}{CHAT}", json={**REQUEST, "temperature": 0.1}, headers=HEADERS).json()
    assert again == first, "the second request was replayed, created included"
    assert other["choices"][0]["message"]["content"] != first["choices"][0]["message"]["content"]
    assert len(list(tmp_path.rglob("*.json"))) == 2


def test_index_loads_from_disk_and_ignores_fields(tmp_path: Path) -> None:
    RecordingStore(tmp_path).save(recording({**REQUEST, "metadata": {"trace": "a"}}, "traced"))
    store = RecordingStore(tmp_path, ignore_fields=["metadata"])
    store.load()
    found = store.lookup("POST", CHAT, "", body({**REQUEST, "metadata": {"trace": "b"}}))
    assert found is not None and found.response_body.value == {"answer": "traced"}
