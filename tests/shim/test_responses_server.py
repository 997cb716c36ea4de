"""The Responses API's routes through a real shim, in front of the mock or a scripted upstream.

What only a server can show: the store behind ``previous_response_id`` (chains, branches, ``store: false``,
deleted ids), the store's scope (another credential finds nothing, and nothing of it reaches Mistral),
retrieval, deletion, input items and their pages, the replayed stream, cancel, input token counts,
truncation against the model's context, a stream's first event sent before Mistral answers, a stream
that fails half-way, and every route also served without ``/v1``.
"""

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import openai
import pytest
from openai import OpenAI

from testkit.auth import CLIENT_KEY, KEY, UPSTREAM_KEY
from testkit.processes import shim_process
from testkit.responses import MODEL, assert_branches, assert_isolated, user_texts
from testkit.upstream import Received, Upstream, leaves_early, wait_event
from testkit.wire import SSE_HEAD, chunk, json_answer, sse

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": True,
}
Via = Callable[..., tuple[OpenAI, Upstream]]


# --- plain calls and the chain ------------------------------------------------------------------------------


def test_a_plain_response_and_its_retrieval(spy: tuple[OpenAI, Upstream]) -> None:
    client, upstream = spy
    made = client.responses.create(model=MODEL, input="Say hello.", instructions="Be brief.")
    assert made.id.startswith("resp_") and made.status == "completed" and made.output_text
    assert upstream.last["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello."},
    ]
    got = client.responses.retrieve(made.id)
    assert got.model_dump() == made.model_dump()


def test_previous_response_id_carries_the_conversation_but_not_the_instructions(
    spy: tuple[OpenAI, Upstream],
) -> None:
    client, upstream = spy
    first = client.responses.create(model=MODEL, input="Name a French cheese.", instructions="Be brief.")
    second = client.responses.create(model=MODEL, input="Where is it from?", previous_response_id=first.id)
    sent = upstream.last["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]  # no system turn inherited
    assert sent[1]["content"] == first.output_text
    third = client.responses.create(
        model=MODEL, input="And its taste?", previous_response_id=second.id, instructions="Be poetic."
    )
    assert third.previous_response_id == second.id
    sent = upstream.last["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert sent[0]["content"] == "Be poetic."
    assert user_texts(upstream.last) == ["Name a French cheese.", "Where is it from?", "And its taste?"]


def test_two_requests_continuing_one_response_branch_apart(spy: tuple[OpenAI, Upstream]) -> None:
    assert_branches(*spy)


def test_a_function_call_round_trip_through_the_store(spy: tuple[OpenAI, Upstream]) -> None:
    client, upstream = spy
    asked = client.responses.create(model=MODEL, input="What is the weather in Paris?", tools=[WEATHER])
    (call,) = [item for item in asked.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments)
    answered = client.responses.create(
        model=MODEL,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 24 C."}],
        previous_response_id=asked.id,
        tools=[WEATHER],
    )
    assert answered.output_text
    roles = [m["role"] for m in upstream.last["messages"]]
    assert roles == ["user", "assistant", "tool"]
    assert upstream.last["messages"][1]["tool_calls"][0]["id"] == upstream.last["messages"][2]["tool_call_id"]


def test_store_false_is_never_written(spy: tuple[OpenAI, Upstream]) -> None:
    client, upstream = spy
    made = client.responses.create(model=MODEL, input="Say hello.", store=False)
    assert made.status == "completed"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)
    sent = len(upstream.received)
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input="Again.", previous_response_id=made.id)
    assert refused.value.body["code"] == "previous_response_not_found"  # type: ignore[index]
    assert refused.value.body["param"] == "previous_response_id"  # type: ignore[index]
    assert made.id in refused.value.message
    assert len(upstream.received) == sent  # nothing reached Mistral


def test_a_deleted_response_is_gone_everywhere(spy: tuple[OpenAI, Upstream]) -> None:
    client, _ = spy
    made = client.responses.create(model=MODEL, input="Say hello.")
    client.responses.delete(made.id)
    with pytest.raises(openai.NotFoundError) as missing:
        client.responses.retrieve(made.id)
    assert missing.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(made.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list(made.id)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="Again.", previous_response_id=made.id)


# --- the store's scope --------------------------------------------------------------------------------------


def test_a_response_is_found_only_with_the_bearer_that_made_it(via: Via, mock_url: str) -> None:
    owner, upstream = via(forward_to=mock_url)
    other = owner.with_options(api_key="another-mistral-key")
    assert_isolated(owner, other, upstream)


def test_with_client_keys_a_response_belongs_to_the_client_key(
    upstream: Callable[..., tuple[Upstream, str]], start_shim: Callable[..., str], mock_url: str
) -> None:
    server, url = upstream(forward_to=mock_url)
    shim = start_shim(
        upstream=url, mistral_api_key=UPSTREAM_KEY, client_keys=frozenset({CLIENT_KEY, "second"})
    )
    owner = OpenAI(base_url=f"{shim}/v1", api_key=CLIENT_KEY, max_retries=0)
    assert_isolated(owner, owner.with_options(api_key="second"), server)


# --- the other routes ---------------------------------------------------------------------------------------


def test_input_items_come_in_openais_pages(spy: tuple[OpenAI, Upstream]) -> None:
    client, _ = spy
    sent = [{"role": "user", "content": f"Line {n}."} for n in range(5)]
    made = client.responses.create(model=MODEL, input=sent)
    newest_first = [item.content[0].text for item in client.responses.input_items.list(made.id)]  # type: ignore[union-attr]
    assert newest_first == [f"Line {n}." for n in reversed(range(5))]
    oldest_first = client.responses.input_items.list(made.id, order="asc", limit=2)
    assert len(oldest_first.data) == 2 and oldest_first.has_more
    assert [item.content[0].text for item in oldest_first] == [f"Line {n}." for n in range(5)]  # type: ignore[union-attr]
    page = client.responses.input_items.list(made.id, order="asc", limit=2, after=oldest_first.data[1].id)
    assert [item.content[0].text for item in page.data] == ["Line 2.", "Line 3."]  # type: ignore[union-attr]
    assert page.first_id == page.data[0].id and page.last_id == page.data[1].id
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.input_items.list(made.id, limit=101)
    assert refused.value.body["param"] == "limit"  # type: ignore[index]


def test_an_empty_page_has_no_first_or_last_id(spy: tuple[OpenAI, Upstream], wire: httpx.Client) -> None:
    client, _ = spy
    made = client.responses.create(model=MODEL, input="Hi")
    last = client.responses.input_items.list(made.id).data[-1].id
    body = client.responses.input_items.with_raw_response.list(made.id, after=last).http_response.json()
    assert body == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


def test_a_stored_response_replays_as_a_stream(spy: tuple[OpenAI, Upstream]) -> None:
    client, _ = spy
    made = client.responses.create(model=MODEL, input="Say hello.")
    with client.responses.stream(response_id=made.id) as replayed:
        kinds = [event.type for event in replayed]
        final = replayed.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert final.output_text == made.output_text
    with client.responses.stream(response_id=made.id, starting_after=3) as later:
        numbers = [event.sequence_number for event in later]
    assert numbers[0] == 4


def test_cancel_says_only_background_responses_can_be_cancelled(spy: tuple[OpenAI, Upstream]) -> None:
    client, _ = spy
    made = client.responses.create(model=MODEL, input="Say hello.")
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.cancel(made.id)
    assert "background" in refused.value.message
    with pytest.raises(openai.NotFoundError):
        client.responses.cancel("resp_nothing")


def test_background_conversation_and_prompt_are_refused_before_mistral(spy: tuple[OpenAI, Upstream]) -> None:
    client, upstream = spy
    for extra in ({"background": True}, {"conversation": "conv_1"}, {"prompt": {"id": "pmpt_1"}}):
        with pytest.raises(openai.BadRequestError) as refused:
            client.responses.create(model=MODEL, input="Hi", **extra)  # type: ignore[call-overload]
        assert refused.value.body["param"] == next(iter(extra))  # type: ignore[index]
    assert upstream.received == []


def test_input_tokens_are_counted_offline_with_the_history(spy: tuple[OpenAI, Upstream]) -> None:
    client, upstream = spy
    short = client.responses.input_tokens.count(model=MODEL, input="Hello")
    longer = client.responses.input_tokens.count(model=MODEL, input="Hello " * 50, instructions="Be brief.")
    assert 0 < short.input_tokens < longer.input_tokens
    assert short.object == "response.input_tokens"
    made = client.responses.create(model=MODEL, input="Hello " * 50)
    sent = len(upstream.received)
    chained = client.responses.input_tokens.count(model=MODEL, input="Hello", previous_response_id=made.id)
    assert chained.input_tokens > short.input_tokens + 50
    assert len(upstream.received) == sent


def test_hosted_tools_are_dropped_and_named_in_the_header(spy: tuple[OpenAI, Upstream]) -> None:
    client, upstream = spy
    raw = client.responses.with_raw_response.create(
        model=MODEL, input="Hi", tools=[WEATHER, {"type": "web_search_preview"}]
    )
    assert raw.headers["x-shim-dropped-params"] == "tools.web_search_preview"
    assert [tool["function"]["name"] for tool in upstream.last["tools"]] == ["get_weather"]
    assert [tool.type for tool in raw.parse().tools] == ["function"]


# --- truncation against the model's context -----------------------------------------------------------------

SMALL = "mistral-small-2501"  # the catalogue's smallest context: 32768 tokens
PARAGRAPH = "The quick brown fox jumps over the lazy dog, and then it rests in the warm afternoon sun. " * 40


def test_an_input_over_the_context_is_openais_error_unless_truncation_is_auto(
    spy: tuple[OpenAI, Upstream],
) -> None:
    client, upstream = spy
    history = [{"role": "user", "content": f"Part {n}. {PARAGRAPH}"} for n in range(80)]
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=SMALL, input=history)
    assert refused.value.body["code"] == "context_length_exceeded"  # type: ignore[index]
    assert upstream.received == []
    made = client.responses.create(model=SMALL, input=history, truncation="auto", max_output_tokens=100)
    assert made.truncation == "auto" and made.status == "completed"
    kept = user_texts(upstream.last)
    assert 0 < len(kept) < 80
    assert kept[-1].startswith("Part 79.")  # the newest items stay, the oldest went
    assert kept[0].startswith(f"Part {80 - len(kept)}.")


# --- streams ------------------------------------------------------------------------------------------------


def test_a_stream_through_the_sdk_helper_can_be_continued_as_soon_as_it_ends(
    spy: tuple[OpenAI, Upstream],
) -> None:
    client, _ = spy
    with client.responses.stream(model=MODEL, input="Tell me a story.") as stream:
        events = list(stream)
        final = stream.get_final_response()
        # The last event was read: the response can be retrieved and continued at once.
        assert client.responses.retrieve(final.id).output_text == final.output_text
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[-1].type == "response.completed" and final.output_text


def test_the_stream_frames_named_events_and_no_done(wire: httpx.Client) -> None:
    with wire.stream("POST", "/v1/responses", json={"model": MODEL, "input": "Hi", "stream": True}) as answer:
        text = "".join(answer.iter_text())
    assert answer.headers["content-type"].startswith("text/event-stream")
    blocks = [block for block in text.split("\n\n") if block.strip()]
    assert "[DONE]" not in text
    for block in blocks:
        event_line, data_line = block.split("\n")
        assert event_line == f"event: {json.loads(data_line.removeprefix('data: '))['type']}"


def test_the_first_event_leaves_before_mistral_sends_anything(start_shim: Callable[..., str]) -> None:
    release = threading.Event()

    async def slow(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD)
        await writer.drain()
        await wait_event(release)
        writer.write(sse(chunk("Hello", "stop")) + b"data: [DONE]\n\n")
        await writer.drain()

    with Upstream(slow) as server:
        client = OpenAI(base_url=f"{start_shim(upstream=server.url)}/v1", api_key=KEY, max_retries=0)
        try:
            with client.responses.create(model=MODEL, input="Hi", stream=True) as events:
                first = next(iter(events))  # Mistral has sent nothing yet
                release.set()
                rest = list(events)
        finally:
            release.set()
    assert first.type == "response.created"
    assert rest[0].type == "response.in_progress" and rest[-1].type == "response.completed"


def test_a_stream_mistral_cuts_ends_failed_and_one_it_refuses_is_a_plain_error(
    start_shim: Callable[..., str], via: Via
) -> None:
    async def cut(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + sse(chunk("Hel")))
        await writer.drain()

    with Upstream(cut) as server:
        client = OpenAI(base_url=f"{start_shim(upstream=server.url)}/v1", api_key=KEY, max_retries=0)
        with client.responses.create(model=MODEL, input="Hi", stream=True) as events:
            seen = list(events)
    assert [event.type for event in seen][-2:] == ["error", "response.failed"]
    assert seen[-1].response.status == "failed"  # type: ignore[union-attr]
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(seen[0].response.id)  # type: ignore[union-attr]  # a failed stream is not stored
    refusal = {"object": "error", "message": "Invalid model: nope", "type": "invalid_model", "code": "1500"}
    refusing, _ = via(answer=json_answer(400, refusal))
    with pytest.raises(openai.NotFoundError):  # Mistral's refusal, before any event: a plain HTTP error
        refusing.responses.create(model="nope", input="Hi", stream=True)


def test_a_client_that_leaves_a_stream_cancels_mistrals_at_once(tmp_path: Path) -> None:
    """``mistral-shim serve`` cancels the handler when its client goes away: the upstream connection closes
    though Mistral is silent, and nothing is stored."""
    upstream = Upstream()
    upstream.script = leaves_early(upstream, keep_sending=False)
    with (
        upstream,
        shim_process(["--upstream", upstream.url, "--responses-store", "memory://"], tmp_path) as shim,
    ):
        client = OpenAI(base_url=f"{shim.url}/v1", api_key=KEY, max_retries=0)
        stream = client.responses.create(model=MODEL, input="Hi", stream=True)
        events = iter(stream)
        made = next(events)
        assert made.type == "response.created"
        assert next(events).type == "response.in_progress"
        stream.close()
        assert upstream.closed.wait(5), "the shim kept the upstream request open after its client left"
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(made.response.id)  # type: ignore[union-attr]
        shim.stop()
    assert "Traceback" not in shim.output()


# --- every route without /v1 --------------------------------------------------------------------------------


def test_every_route_is_also_served_without_v1(shim_url: str, mock_url: str) -> None:
    bare = OpenAI(base_url=shim_url, api_key=KEY, max_retries=0)
    assert bare.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}]).choices
    assert bare.completions.create(model=MODEL, prompt="Once upon").choices
    assert bare.embeddings.create(model="mistral-embed", input="Hi").data
    assert bare.models.list().data
    assert bare.models.retrieve(MODEL).id == MODEL
    made = bare.responses.create(model=MODEL, input="Hi")
    with bare.responses.stream(model=MODEL, input="Hi") as stream:
        assert stream.get_final_response().status == "completed"
    assert bare.responses.retrieve(made.id).id == made.id
    assert bare.responses.input_items.list(made.id).data
    assert bare.responses.input_tokens.count(model=MODEL, input="Hi").input_tokens > 0
    with pytest.raises(openai.BadRequestError):
        bare.responses.cancel(made.id)
    bare.responses.delete(made.id)
    with httpx.Client(base_url=shim_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as http:
        document = {"type": "document_url", "document_url": "https://example.com/a.pdf"}
        ocr = http.post("/ocr", json={"model": "mistral-ocr-latest", "document": document})
        assert ocr.status_code == 200 and ocr.json()["pages"]
        assert http.get("/nothing/here").status_code == 404
