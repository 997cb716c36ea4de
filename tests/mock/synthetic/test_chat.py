"""Synthetic chat answers: tools, formats, limits, reasoning and usage, tested as pure functions."""

import json
import re
from typing import Any

import jsonschema
import pytest

from mistral_wire import tokens
from mistral_wire.contract.errors import MistralError
from mockserver import validation
from mockserver.sources.synthetic import answers
from mockserver.sources.synthetic import chat as synth


def chat_endpoint(raw: bytes, content_type: str | None) -> answers.Outcome:
    """The synthetic chat answer to a request body the contract accepts (its refusal raised otherwise)."""
    return answers.chat(validation.accept("/v1/chat/completions", raw, content_type))


def fim_endpoint(raw: bytes, content_type: str | None) -> answers.Outcome:
    return answers.fim(validation.accept("/v1/fim/completions", raw, content_type))


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_local_time",
        "parameters": {
            "type": "object",
            "properties": {"timezone": {"type": "string"}},
            "required": ["timezone"],
        },
    },
}
TOOL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")


def ask(text: str = "Say hello.", **fields: Any) -> dict[str, Any]:
    body = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": text}], **fields}
    outcome = chat_endpoint(json.dumps(body).encode(), "application/json")
    return outcome.json(created=1700000000)


def message(body: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return body["choices"][index]["message"]


def test_plain_answer_shape_and_key_order() -> None:
    body = ask()
    assert list(body) == ["id", "created", "model", "usage", "object", "choices"]
    assert list(body["choices"][0]) == ["index", "finish_reason", "message"]
    assert list(message(body)) == ["role", "tool_calls", "content"]
    assert message(body)["tool_calls"] is None
    assert isinstance(message(body)["content"], str) and len(message(body)["content"]) > 20
    assert list(body["usage"])[:3] == ["prompt_tokens", "total_tokens", "completion_tokens"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] == len(tokens.encode(message(body)["content"]))


def test_prompt_tokens_grow_with_the_prompt() -> None:
    short = ask("Hi")["usage"]["prompt_tokens"]
    long = ask("Hi " * 200)["usage"]["prompt_tokens"]
    assert long - short == pytest.approx(200, abs=5)


def test_auto_calls_a_tool_when_asked_plainly() -> None:
    body = ask("What's the weather in Paris today?", tools=[WEATHER, TIME])
    msg = message(body)
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert msg["content"] == ""
    (call,) = msg["tool_calls"]
    assert list(call) == ["id", "type", "function", "index"]
    assert TOOL_ID.match(call["id"])
    assert call["function"]["name"] == "get_weather"
    arguments = json.loads(call["function"]["arguments"])
    jsonschema.validate(arguments, WEATHER["function"]["parameters"])
    assert arguments["city"] == "Paris"
    assert ", " in call["function"]["arguments"] or ": " in call["function"]["arguments"]


def test_auto_answers_in_prose_when_nothing_asks_for_a_tool() -> None:
    body = ask("Tell me a story.", tools=[WEATHER])
    assert message(body)["tool_calls"] is None
    assert body["choices"][0]["finish_reason"] == "stop"


def test_none_never_calls() -> None:
    assert (
        message(ask("What's the weather in Paris?", tools=[WEATHER], tool_choice="none"))["tool_calls"]
        is None
    )


@pytest.mark.parametrize(
    "choice", ["any", "required", {"type": "function", "function": {"name": "get_local_time"}}]
)
def test_forced_choices_always_call(choice: Any) -> None:
    body = ask("Tell me a story.", tools=[WEATHER, TIME], tool_choice=choice)
    calls = message(body)["tool_calls"]
    assert len(calls) == 1
    if isinstance(choice, dict):
        assert calls[0]["function"]["name"] == "get_local_time"


def test_parallel_calls_and_their_switch() -> None:
    question = "What's the weather in Paris and the local time there?"
    calls = message(ask(question, tools=[WEATHER, TIME]))["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_local_time"]
    assert [c["index"] for c in calls] == [0, 1]
    assert len({c["id"] for c in calls}) == 2
    single = message(ask(question, tools=[WEATHER, TIME], parallel_tool_calls=False))["tool_calls"]
    assert len(single) == 1


def test_after_tool_results_the_model_answers() -> None:
    body = {
        "model": "mistral-small-latest",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "D681PevKs", "function": {"name": "get_weather", "arguments": "{}"}}],
            },
            {"role": "tool", "content": "18C", "tool_call_id": "D681PevKs"},
        ],
        "tools": [WEATHER],
    }
    result = chat_endpoint(json.dumps(body).encode(), "application/json").json(1)
    assert result["choices"][0]["finish_reason"] == "stop"
    assert message(result)["tool_calls"] is None


def test_max_tokens_stops_with_length() -> None:
    body = ask(max_tokens=5)
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5


def test_stop_sequences_cut_the_answer() -> None:
    full = message(ask())["content"]
    word = full.split()[4]
    cut = ask(stop=[word])
    assert message(cut)["content"] == full[: full.index(word)]
    assert cut["choices"][0]["finish_reason"] == "stop"


def test_n_choices() -> None:
    body = ask(n=3)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len({message(body, i)["content"] for i in range(3)}) == 3
    assert body["usage"]["completion_tokens"] == sum(
        len(tokens.encode(message(body, i)["content"])) for i in range(3)
    )


def test_json_object_mode() -> None:
    content = message(ask("Give me JSON.", response_format={"type": "json_object"}))["content"]
    assert isinstance(json.loads(content), dict)


def test_json_schema_mode_validates() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0, "maximum": 120},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "address": {"$ref": "#/$defs/Address"},
        },
        "required": ["name", "age", "tags", "address"],
        "additionalProperties": False,
        "$defs": {
            "Address": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        },
    }
    rf = {"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}}
    jsonschema.validate(json.loads(message(ask("Who?", response_format=rf))["content"]), schema)


def test_prefix_continues_the_given_text() -> None:
    body = {
        "model": "mistral-small-latest",
        "messages": [
            {"role": "user", "content": "Write a haiku."},
            {"role": "assistant", "content": "Autumn wind", "prefix": True},
        ],
    }
    content = message(chat_endpoint(json.dumps(body).encode(), None).json(1))["content"]
    assert content.startswith("Autumn wind ")


def test_reasoning_models_send_thinking_chunks() -> None:
    content = message(ask("What is 17 * 19?", reasoning_effort="high"))["content"]
    assert [c["type"] for c in content] == ["thinking", "text"]
    assert content[0]["closed"] is True and content[0]["thinking"][0]["type"] == "text"
    assert isinstance(message(ask("What is 17 * 19?", reasoning_effort="none"))["content"], str)


def test_reasoning_effort_on_a_model_without_reasoning() -> None:
    body = {
        "model": "mistral-large-2411",
        "messages": [{"role": "user", "content": "Hi"}],
        "reasoning_effort": "high",
    }
    with pytest.raises(MistralError) as refused:
        chat_endpoint(json.dumps(body).encode(), None)
    assert refused.value.status == 400
    assert refused.value.body["message"] == "reasoning_effort='high' is not supported for this model"


def test_reasoning_stream_sends_thinking_then_text() -> None:
    body = {
        "model": "mistral-small-latest",
        "messages": [{"role": "user", "content": "Hi"}],
        "reasoning_effort": "high",
        "stream": True,
    }
    outcome = chat_endpoint(json.dumps(body).encode(), None)
    events = synth.chunks(outcome.answer, 1)
    deltas = [e["choices"][0]["delta"] for e in events]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1]["content"][0]["type"] == "thinking" and "closed" not in deltas[1]["content"][0]
    mixed = next(d for d in deltas if isinstance(d.get("content"), list) and len(d["content"]) == 2)
    assert [c["type"] for c in mixed["content"]] == ["thinking", "text"]
    assert isinstance(deltas[-1]["content"], str)
    whole = synth.render(outcome.answer, 1)["choices"][0]["message"]["content"]
    streamed_thinking = "".join(
        part["thinking"][0]["text"]
        for d in deltas
        if isinstance(d.get("content"), list)
        for part in d["content"]
        if part["type"] == "thinking"
    )
    assert streamed_thinking == whole[0]["thinking"][0]["text"]


def test_tool_call_streams_whole_in_the_last_chunk() -> None:
    body = {
        **json.loads(json.dumps({"model": "mistral-small-latest"})),
        "messages": [{"role": "user", "content": "Weather in Rome?"}],
        "tools": [WEATHER],
        "stream": True,
    }
    events = synth.chunks(chat_endpoint(json.dumps(body).encode(), None).answer, 1)
    assert len(events) == 2
    last = events[-1]
    assert last["choices"][0]["finish_reason"] == "tool_calls"
    assert last["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert "usage" in last


def test_retired_models_are_answered_by_their_replacement() -> None:
    body = {"model": "pixtral-12b", "messages": [{"role": "user", "content": "Hi"}]}
    assert chat_endpoint(json.dumps(body).encode(), None).json(1)["model"] == "ministral-14b-latest"


def test_fim_answer_shape() -> None:
    body = {"model": "codestral-latest", "prompt": "def add(a, b):", "suffix": "\nprint(add(1, 2))"}
    result = fim_endpoint(json.dumps(body).encode(), None).json(1)
    assert result["object"] == "chat.completion"
    msg = message(result)
    assert msg == {"role": "assistant", "tool_calls": None, "content": msg["content"], "prefix": False}
    assert msg["content"].startswith("\n    ")
    assert "return" in msg["content"]
