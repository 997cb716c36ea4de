"""Synthetic answers of Mistral's native Responses API, held to mistralai's own models.

Every body is validated with the SDK's ``CreateResponseResponse`` and every stream event with its
``ResponsesStreamFrame`` (the event name and the data, discriminated over the 16 event types the SDK knows);
the answers are the chat generator's, so the same conversation says the same on both endpoints. Pure
functions first, then the wire: SSE framing, faults, and the SDK itself.
"""

import json
import re
import time
from typing import Any

import httpx2 as httpx
import jsonschema
import pytest
from mistralai.client import Mistral
from mistralai.client import models as sdk

from mockserver import validation
from mockserver.sources.synthetic import answers
from mockserver.sources.synthetic import responses as synth

MODEL = "mistral-small-latest"
REASONER = "magistral-small-latest"
CREATED = 1_700_000_000
ASK = [{"role": "user", "content": "What's the weather in Paris?"}]
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
    },
}
TIME = {
    "type": "function",
    "name": "get_local_time",
    "parameters": {
        "type": "object",
        "properties": {"timezone": {"type": "string"}},
        "required": ["timezone"],
    },
}
RESPONSE_ID = re.compile(r"^resp_[0-9a-f]{32}$")
CALL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")
EVENT_TYPES = {
    "response.created",
    "response.in_progress",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "error",
    "response.output_item.added",
    "response.output_item.done",
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.delta",
    "response.output_text.done",
    "response.reasoning_text.delta",
    "response.reasoning_text.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
}


def outcome(**fields: Any) -> answers.Outcome:
    body = {"model": MODEL, "input": ASK, **fields}
    return answers.responses(validation.accept("/v1/responses", json.dumps(body).encode(), None))


def respond(**fields: Any) -> dict[str, Any]:
    """The non-streaming body, checked by the SDK's model on the way."""
    body = outcome(**fields).json(CREATED)
    sdk.CreateResponseResponse.model_validate(body)
    return body


def stream(**fields: Any) -> list[tuple[str, dict[str, Any]]]:
    """The stream's events, each checked by the SDK's frame model on the way."""
    reply = outcome(stream=True, **fields).reply
    assert reply is not None
    found = synth.events(reply, CREATED)
    for name, data in found:
        frame = sdk.ResponsesStreamFrame.model_validate({"event": name, "data": data})
        assert frame.data.type == name
    return found


def text_of(body: dict[str, Any]) -> str:
    return "".join(
        part["text"] for item in body["output"] if item["type"] == "message" for part in item["content"]
    )


# --- the body -----------------------------------------------------------------------------------------------


def test_a_plain_answer() -> None:
    body = respond()
    assert RESPONSE_ID.match(body["id"])
    assert (body["object"], body["status"], body["created_at"], body["completed_at"]) == (
        "response",
        "completed",
        CREATED,
        CREATED,
    )
    (item,) = body["output"]
    assert re.match(r"^msg_[0-9a-f]{32}$", item["id"])
    assert (item["type"], item["role"], item["status"]) == ("message", "assistant", "completed")
    (part,) = item["content"]
    assert part["type"] == "output_text" and part["text"]
    assert part["annotations"] == [] and part["logprobs"] == []
    assert (body["error"], body["incomplete_details"]) == (None, None)
    assert (body["tools"], body["tool_choice"], body["parallel_tool_calls"]) == ([], "auto", True)
    assert (body["truncation"], body["top_logprobs"], body["background"]) == ("disabled", 0, False)
    usage = body["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0}
    assert usage["output_tokens_details"] == {"reasoning_tokens": 0}


def test_the_request_is_echoed() -> None:
    body = respond(
        instructions="Be brief.",
        metadata={"team": "a"},
        temperature=0.2,
        text={"format": {"type": "json_object"}},
        prompt_cache_key="k",
        max_tool_calls=3,
    )
    assert body["instructions"] == "Be brief." and body["metadata"] == {"team": "a"}
    assert (body["temperature"], body["top_p"]) == (0.2, 1.0)
    assert body["text"] == {"format": {"type": "json_object"}}
    assert (body["prompt_cache_key"], body["max_tool_calls"]) == ("k", 3)
    assert respond()["temperature"] == 0.3, "the model's default temperature when none is asked"


def test_answers_are_deterministic_and_say_what_chat_says() -> None:
    assert respond() == respond()
    assert respond()["id"] != respond(metadata={"a": "b"})["id"]
    chat = answers.chat(
        validation.accept(
            "/v1/chat/completions", json.dumps({"model": MODEL, "messages": ASK}).encode(), None
        )
    ).json(CREATED)
    assert text_of(respond()) == chat["choices"][0]["message"]["content"]


def test_max_output_tokens_cuts_the_answer_as_incomplete() -> None:
    full, cut = respond(), respond(max_output_tokens=5)
    assert cut["status"] == "incomplete" and cut["completed_at"] is None
    assert cut["incomplete_details"] == {"reason": "max_output_tokens"}
    assert cut["output"][0]["status"] == "incomplete"
    assert cut["usage"]["output_tokens"] == 5
    assert text_of(full).startswith(text_of(cut)) and text_of(cut) != text_of(full)
    assert cut["id"] == full["id"], "how much is sent does not change which answer it is"


def test_a_function_tool_is_called_with_mistral_call_ids() -> None:
    body = respond(tools=[WEATHER], tool_choice="required")
    (call,) = body["output"]
    assert re.match(r"^fc_[0-9a-f]{32}$", call["id"]) and CALL_ID.match(call["call_id"])
    assert (call["type"], call["name"], call["status"]) == ("function_call", "get_weather", "completed")
    jsonschema.validate(json.loads(call["arguments"]), WEATHER["parameters"])
    assert "namespace" not in call
    assert body["tools"] == [WEATHER] and body["tool_choice"] == "required"


def test_auto_calls_the_tool_the_question_names_and_none_calls_nothing() -> None:
    assert [item["type"] for item in respond(tools=[WEATHER, TIME])["output"]] == ["function_call"]
    assert [item["type"] for item in respond(tools=[WEATHER], tool_choice="none")["output"]] == ["message"]
    named = respond(tools=[WEATHER, TIME], tool_choice={"type": "function", "name": "get_local_time"})
    assert [item["name"] for item in named["output"]] == ["get_local_time"]


def test_max_tool_calls_caps_the_calls() -> None:
    both = [{"role": "user", "content": "Weather and local time in Paris?"}]
    assert len(respond(input=both, tools=[WEATHER, TIME], tool_choice="required")["output"]) == 2
    capped = respond(input=both, tools=[WEATHER, TIME], tool_choice="required", max_tool_calls=1)
    assert [item["type"] for item in capped["output"]] == ["function_call"]
    assert (
        capped["usage"]["output_tokens"]
        < respond(input=both, tools=[WEATHER, TIME], tool_choice="required")["usage"]["output_tokens"]
    )
    none = respond(input=both, tools=[WEATHER, TIME], max_tool_calls=0)
    assert [item["type"] for item in none["output"]] == ["message"]


def test_a_namespaced_function_call_names_its_namespace() -> None:
    namespace = {"type": "namespace", "name": "weather", "description": "Weather tools", "tools": [WEATHER]}
    (call,) = respond(tools=[namespace], tool_choice="required")["output"]
    assert (call["name"], call["namespace"]) == ("get_weather", "weather")


def test_a_tool_round_trip_ends_in_text() -> None:
    (call,) = respond(tools=[WEATHER], tool_choice="required")["output"]
    result = {"type": "function_call_output", "call_id": call["call_id"], "output": '{"temperature_c": 18}'}
    body = respond(input=[*ASK, call, result], tools=[WEATHER])
    assert [item["type"] for item in body["output"]] == ["message"] and text_of(body)
    # OpenAI-style call ids are accepted too: they are Mistral ids inside.
    openai_style = {**call, "call_id": "call_abc123"}
    body = respond(input=[*ASK, openai_style, {**result, "call_id": "call_abc123"}], tools=[WEATHER])
    assert text_of(body)


def test_a_reasoning_model_thinks_first() -> None:
    body = respond(model=REASONER, reasoning={"effort": "high"})
    reasoning, message = body["output"]
    assert re.match(r"^rs_[0-9a-f]{32}$", reasoning["id"])
    assert (reasoning["type"], reasoning["summary"]) == ("reasoning", [])
    (thought,) = reasoning["content"]
    assert thought["type"] == "reasoning_text" and thought["text"]
    assert thought["text"] not in text_of(body), "thinking is never in the message"
    assert message["type"] == "message"
    assert body["usage"]["output_tokens_details"]["reasoning_tokens"] > 0
    assert body["reasoning"] == {"effort": "high"}
    assert [item["type"] for item in respond(model=REASONER, reasoning={"effort": "none"})["output"]] == [
        "message"
    ]


def test_a_json_schema_format_gives_matching_json() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    body = respond(
        text={"format": {"type": "json_schema", "name": "place", "schema": schema, "strict": True}}
    )
    jsonschema.validate(json.loads(text_of(body)), schema)


# --- the stream ---------------------------------------------------------------------------------------------


def test_a_stream_is_the_sdks_events_numbered_from_zero() -> None:
    events = stream()
    names = [name for name, _ in events]
    assert set(names) <= EVENT_TYPES
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    assert names[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert names[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    started = events[0][1]["response"]
    assert (started["status"], started["output"], started["usage"]) == ("in_progress", [], None)
    ids = {data["response"]["id"] for name, data in events if "response" in data}
    assert len(ids) == 1
    deltas = "".join(data["delta"] for name, data in events if name == "response.output_text.delta")
    final = events[-1][1]["response"]
    assert deltas == text_of(final)
    assert final == outcome().json(CREATED), "the stream ends with the body the plain request gets"


def test_a_streamed_call_and_a_streamed_cut() -> None:
    events = stream(tools=[WEATHER], tool_choice="required")
    names = [name for name, _ in events]
    assert names[2:6] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ]
    added, done = events[2][1]["item"], events[5][1]["item"]
    assert (added["arguments"], added["status"]) == ("", "in_progress")
    assert events[4][1]["name"] == "get_weather" and events[4][1]["arguments"] == done["arguments"]
    cut = stream(max_output_tokens=3)
    assert cut[-1][0] == "response.incomplete"
    assert cut[-1][1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_a_streamed_reasoning_item() -> None:
    events = stream(model=REASONER, reasoning={"effort": "low"})
    names = [name for name, _ in events]
    assert names[2:5] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
    ]
    assert events[3][1]["part"] == {"type": "reasoning_text", "text": ""}
    thinking = "".join(data["delta"] for name, data in events if name == "response.reasoning_text.delta")
    (done,) = [data for name, data in events if name == "response.reasoning_text.done"]
    assert done["text"] == thinking
    assert [data["output_index"] for name, data in events if name == "response.output_item.added"] == [0, 1]


# --- input tokens -------------------------------------------------------------------------------------------


def count(**fields: Any) -> int:
    body = {"model": MODEL, "input": ASK, **fields}
    counted = answers.input_tokens(
        validation.accept("/v1/responses/input_tokens", json.dumps(body).encode(), None)
    ).json(CREATED)
    sdk.CountResponseInputTokensResponse.model_validate(counted)
    assert counted["object"] == "response.input_tokens"
    return int(counted["input_tokens"])


def test_input_tokens_count_what_create_counts() -> None:
    for fields in ({}, {"instructions": "Be brief."}, {"tools": [WEATHER]}, {"input": "Hi"}):
        assert count(**fields) == respond(**fields)["usage"]["input_tokens"], fields
    assert count(instructions="Be brief.") > count()
    assert count(tools=[WEATHER]) > count()
    assert count(model="open-mistral-7b") != count(), "counted with the model family's own tokenizer"


# --- the wire -----------------------------------------------------------------------------------------------


def test_the_sse_framing(http: httpx.Client) -> None:
    """``event:`` then ``data:`` in every block, compact JSON, and no ``[DONE]`` at the end."""
    answer = http.post("/v1/responses", json={"model": MODEL, "input": ASK, "stream": True})
    assert answer.headers["content-type"].startswith("text/event-stream")
    blocks = answer.content.decode().split("\n\n")
    assert blocks[-1] == ""
    for block in blocks[:-1]:
        event, data = block.split("\n")
        assert event.startswith("event: ") and data.startswith("data: ")
        assert json.loads(data[6:])["type"] == event[7:]
    assert "[DONE]" not in answer.text


def _event_times(http: httpx.Client, setting: str) -> list[float]:
    times = []
    started = time.monotonic()
    body = {"model": MODEL, "input": "Hi", "stream": True, "max_output_tokens": 6}
    with http.stream("POST", "/v1/responses", json=body, headers={"x-mock-fault": setting}) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                times.append(time.monotonic() - started)
    return times


def test_faults_pace_and_cut_responses_streams(http: httpx.Client) -> None:
    times = _event_times(http, "ttft_ms=150;chunk_ms=20")
    assert all(arrived >= 0.15 + index * 0.02 - 0.001 for index, arrived in enumerate(times)), "never early"
    received = []
    with (
        pytest.raises(httpx.TransportError),
        http.stream(
            "POST",
            "/v1/responses",
            json={"model": MODEL, "input": ASK, "stream": True},
            headers={"x-mock-fault": "disconnect_after=3"},
        ) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("event: "):
                received.append(line[7:])
    assert received == ["response.created", "response.in_progress", "response.output_item.added"]


def test_mistrals_sdk_reads_plain_streamed_and_counted_answers(mock_url: str) -> None:
    client = Mistral(api_key="test-key", server_url=mock_url)
    plain = client.responses.create(model=MODEL, input=ASK)  # type: ignore[arg-type]
    assert plain.output and plain.usage
    events = list(client.responses.create(model=MODEL, input=ASK, stream=True))  # type: ignore[arg-type]
    assert events[-1].event == "response.completed"
    assert isinstance(events[-1].data, sdk.ResponsesCompletedEvent)
    counted = client.responses.count_input_tokens(model=MODEL, input=ASK)  # type: ignore[arg-type]
    assert counted.input_tokens == plain.usage.input_tokens  # type: ignore[union-attr]
