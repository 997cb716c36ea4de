"""The Responses API's answer and stream translation: Mistral's chat answers → ``Response`` and its events.

Pure functions, no server. Mistral's answers are the mock's own synthetic ones, for requests made by the
Responses request translation; every Response and every event is held to OpenAI's published schemas, and
the openai SDK's own stream accumulator must rebuild from the events exactly the Response the JSON answer
gives.
"""

import json
from collections.abc import Sequence
from typing import Any

import pytest
from openai import omit
from openai._models import construct_type_unchecked
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent

from mockserver import validation
from mockserver.sources.synthetic import answers as endpoints
from mockserver.sources.synthetic import chat as chat_synth
from shim.translate.context import Options
from shim.translate.problem import server_error
from shim.translate.responses.answer import translate_answer
from shim.translate.responses.request import ResponsesRequest, translate_request
from shim.translate.responses.stream import ResponsesStream, replay
from testkit.spec import openai_wire_validator

CREATED = 1700000000
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": True,
}
TIME = {**WEATHER, "name": "get_time"}

CASES: dict[str, dict[str, Any]] = {
    "text": {"model": "mistral-large-latest", "input": "Say hello.", "instructions": "Be brief."},
    "reasoning": {
        "model": "mistral-small-latest",
        "input": "Why is the sky blue?",
        "reasoning": {"effort": "high"},
    },
    "tools": {
        "model": "mistral-large-latest",
        "input": "Weather and time in Paris?",
        "tools": [WEATHER, TIME],
        "tool_choice": "required",
    },
    "capped tools": {
        "model": "mistral-large-latest",
        "input": "Weather and time in Paris?",
        "tools": [WEATHER, TIME],
        "tool_choice": "required",
        "max_tool_calls": 1,
    },
    "cut short": {"model": "mistral-large-latest", "input": "Tell me a long story.", "max_output_tokens": 16},
    "logprobs": {
        "model": "mistral-large-latest",
        "input": "Say hello.",
        "include": ["message.output_text.logprobs"],
        "top_logprobs": 2,
    },
    "json": {
        "model": "mistral-large-latest",
        "input": "A city and its country.",
        "text": {
            "format": {
                "type": "json_schema",
                "name": "Place",
                "strict": True,
                "schema": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                    "required": ["city", "country"],
                    "additionalProperties": False,
                },
            }
        },
    },
}


def translated(body: dict[str, Any]) -> ResponsesRequest:
    return translate_request(body, Options(), response_id="resp_case", created_at=CREATED)


def mock_answer(request: ResponsesRequest) -> chat_synth.Answer:
    """The mock's synthetic answer to the chat body the shim would send."""
    accepted = validation.accept(
        "/v1/chat/completions", json.dumps(request.body).encode(), "application/json"
    )
    outcome = endpoints.chat(accepted)
    assert outcome.answer is not None
    return outcome.answer


def streamed(request: ResponsesRequest, chunks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    translator = ResponsesStream(request.context, lambda: CREATED + 1)
    events = translator.start()
    for chunk in chunks:
        events.extend(translator.feed(chunk))
    events.extend(translator.finish())
    assert translator.final == events[-1]["response"]
    return events


def schema_problems(schema: str, bodies: Sequence[Any]) -> list[str]:
    validate = openai_wire_validator(schema)
    return [f"{index}: {problem}" for index, body in enumerate(bodies) for problem in validate(body)]


def without_none(value: Any) -> Any:
    """``value`` as the SDK's ``model_dump(exclude_none=True)`` shows it."""
    if isinstance(value, dict):
        return {key: without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_none(item) for item in value]
    return value


def rebuilt(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the openai SDK's stream helper (``client.responses.stream``) makes of the events."""
    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=[WEATHER, TIME], text_format=omit)  # type: ignore[list-item]
    for event in events:
        state.handle_event(construct_type_unchecked(type_=ResponseStreamEvent, value=event))  # type: ignore[arg-type]
    final = state._completed_response
    assert final is not None, "the helper saw no response.completed"
    dumped = final.model_dump(mode="json", exclude_none=True, exclude={"output_parsed"})
    for item in dumped["output"]:  # what the helper adds for a strict tool or a parsed format
        item.pop("parsed_arguments", None)
        for part in item.get("content") or []:
            part.pop("parsed", None)
    return dumped


@pytest.mark.parametrize("case", CASES)
def test_the_json_answer_and_every_stream_event_follow_openais_schemas(case: str) -> None:
    request = translated(CASES[case])
    answer = mock_answer(request)
    whole = translate_answer(chat_synth.render(answer, CREATED), request.context, CREATED + 1)
    assert schema_problems("Response", [whole]) == []
    events = streamed(request, chat_synth.chunks(answer, CREATED))
    assert schema_problems("ResponseStreamEvent", events) == []
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert {event["response"]["id"] for event in events if "response" in event} == {"resp_case"}
    assert events[0]["type"] == "response.created" and events[1]["type"] == "response.in_progress"
    assert events[-1]["response"]["output"] == whole["output"]  # the full output, as in the JSON answer
    assert events[-1]["response"]["usage"] == whole["usage"]


@pytest.mark.parametrize("case", [case for case in CASES if case != "cut short"])
def test_the_sdks_stream_helper_rebuilds_the_json_answer(case: str) -> None:
    request = translated(CASES[case])
    answer = mock_answer(request)
    whole = translate_answer(chat_synth.render(answer, CREATED), request.context, CREATED + 1)
    events = streamed(request, chat_synth.chunks(answer, CREATED))
    assert events[-1]["type"] == "response.completed"
    got = rebuilt(events)
    assert got["output"] == without_none(whole["output"])
    assert got["status"] == whole["status"] == "completed"


def test_a_text_answer() -> None:
    request = translated(CASES["text"])
    whole = translate_answer(chat_synth.render(mock_answer(request), CREATED), request.context, CREATED + 1)
    (message,) = whole["output"]
    assert (
        message["type"] == "message" and message["role"] == "assistant" and message["status"] == "completed"
    )
    (part,) = message["content"]
    assert (
        part["type"] == "output_text"
        and part["text"]
        and part["annotations"] == []
        and part["logprobs"] == []
    )
    assert whole["instructions"] == "Be brief."
    assert (whole["status"], whole["completed_at"], whole["incomplete_details"]) == (
        "completed",
        CREATED + 1,
        None,
    )
    usage = whole["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert usage["input_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0}


def test_reasoning_comes_first_and_never_mixes_into_the_text() -> None:
    request = translated(CASES["reasoning"])
    whole = translate_answer(chat_synth.render(mock_answer(request), CREATED), request.context, CREATED + 1)
    reasoning, message = whole["output"]
    assert reasoning["type"] == "reasoning" and reasoning["summary"] == []
    thought = reasoning["content"][0]["text"]
    assert thought and thought not in message["content"][0]["text"]
    assert whole["reasoning"] == {"effort": "high", "summary": None}


def test_function_calls_carry_mistrals_call_ids_and_the_cap_keeps_the_first() -> None:
    request = translated(CASES["tools"])
    mistral = chat_synth.render(mock_answer(request), CREATED)
    whole = translate_answer(mistral, request.context, CREATED + 1)
    calls = [item for item in whole["output"] if item["type"] == "function_call"]
    sent = mistral["choices"][0]["message"]["tool_calls"]
    assert [call["call_id"] for call in calls] == [call["id"] for call in sent]
    assert [call["name"] for call in calls] == ["get_weather", "get_time"]
    assert all(isinstance(call["arguments"], str) and json.loads(call["arguments"]) for call in calls)
    capped = translated(CASES["capped tools"])
    output = translate_answer(mistral, capped.context, CREATED + 1)["output"]
    assert [item["name"] for item in output if item["type"] == "function_call"] == ["get_weather"]


def test_an_answer_cut_by_its_token_limit_is_incomplete() -> None:
    request = translated(CASES["cut short"])
    answer = mock_answer(request)
    whole = translate_answer(chat_synth.render(answer, CREATED), request.context, CREATED + 1)
    assert whole["status"] == "incomplete"
    assert whole["incomplete_details"] == {"reason": "max_output_tokens"}
    assert whole["completed_at"] is None
    assert whole["output"][-1]["status"] == "incomplete"
    events = streamed(request, chat_synth.chunks(answer, CREATED))
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_log_probabilities_come_on_the_output_text() -> None:
    request = translated(CASES["logprobs"])
    answer = mock_answer(request)
    whole = translate_answer(chat_synth.render(answer, CREATED), request.context, CREATED + 1)
    entries = whole["output"][0]["content"][0]["logprobs"]
    assert entries and {"token", "logprob", "bytes", "top_logprobs"} <= set(entries[0])
    deltas = [
        e for e in streamed(request, chat_synth.chunks(answer, CREATED)) if e["type"].endswith("text.delta")
    ]
    assert any(delta["logprobs"] for delta in deltas)


def test_a_stream_that_fails_after_it_started_ends_failed() -> None:
    request = translated(CASES["text"])
    chunks = chat_synth.chunks(mock_answer(request), CREATED)
    translator = ResponsesStream(request.context)
    events = translator.start() + translator.feed(chunks[0]) + translator.feed(chunks[1])
    events += translator.fail(server_error(502, "The Mistral stream timed out.", "upstream_stream_error"))
    assert schema_problems("ResponseStreamEvent", events) == []
    error, failed = events[-2:]
    assert error["type"] == "error" and error["message"] == "The Mistral stream timed out."
    assert "error" not in error  # the openai SDK raises on a top-level error key before the helper sees it
    assert failed["type"] == "response.failed"
    assert failed["response"]["error"] == {"code": "server_error", "message": "The Mistral stream timed out."}
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def test_a_generation_mistral_reports_failed_ends_the_stream_failed_through_chats_rule() -> None:
    request = translated(CASES["text"])
    chunks = chat_synth.chunks(mock_answer(request), CREATED)
    broken = json.loads(json.dumps(chunks[-1]))
    broken["choices"][0]["finish_reason"] = "error"
    translator = ResponsesStream(request.context)
    with pytest.raises(Exception) as raised:
        translator.feed(broken)
    assert getattr(raised.value, "status", None) == 502


def test_a_stored_response_replays_as_a_valid_stream() -> None:
    for case in ("text", "reasoning", "tools"):
        request = translated(CASES[case])
        whole = translate_answer(
            chat_synth.render(mock_answer(request), CREATED), request.context, CREATED + 1
        )
        events = replay(whole)
        assert schema_problems("ResponseStreamEvent", events) == []
        assert rebuilt(events)["output"] == without_none(whole["output"])
        later = replay(whole, starting_after=3)
        assert [e["sequence_number"] for e in later] == list(range(4, len(events)))
