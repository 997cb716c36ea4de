"""Tool calling as applications do it: tools offered, a choice forced or not, calls answered, streams read.

Mistral's tool calling is OpenAI's with sharper edges (catalogue section E): tool-call ids must be nine
letters and digits, so a history with OpenAI's ``call_…`` ids is a 400; a function needs ``parameters``; an
empty ``tools`` list is a 422; ``$schema`` in a schema fails its grammar compiler; ``allowed_tools`` and the
legacy ``functions`` do not exist. A round trip that only ever replays Mistral's own ids works without the
shim, and so do the tool_choice forms both APIs share. Each test below asserts which is which.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionMessage, ChatCompletionMessageFunctionToolCall

from contract_tests.conftest import Breaks
from contract_tests.payloads import (
    GREETING,
    MODEL,
    OPENAI_CALL_ID,
    TIME_TOOL,
    WEATHER_AND_TIME,
    WEATHER_QUESTION,
    WEATHER_REPORT,
    WEATHER_TOOL,
    refusals,
    synthetic,
    weather_history,
)
from contract_tests.targets import Target

BOTH_TOOLS = [WEATHER_TOOL, TIME_TOOL]
# Round trips open with questions no other test asks: replaying recordings of the live API, a question asked
# by several tests could be answered with another test's calls, and the next request would then differ.
LYON_WEATHER = [{"role": "user", "content": "What's the weather in Lyon right now?"}]
NICE_WEATHER_AND_TIME = [
    {"role": "user", "content": "What's the weather and the local time in Nice? Use both tools."}
]
STRICT_HISTORY_MODEL = "mistral-large-latest"
"""Refuses a user turn right after a tool result (catalogue 16); mistral-small-latest accepts it."""


def tool_calls(reply: ChatCompletion, breaks: Breaks) -> list[ChatCompletionMessageFunctionToolCall]:
    """The calls of a one-choice answer that finished to call tools, with OpenAI's shape checked."""
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    message = choice.message
    assert_no_text_beside_calls(message, breaks)
    calls = message.tool_calls or []
    assert calls
    for call in calls:
        assert isinstance(call, ChatCompletionMessageFunctionToolCall)
        assert call.type == "function"
        assert call.id
        assert isinstance(json.loads(call.function.arguments), dict)
    assert len({call.id for call in calls}) == len(calls)
    return calls  # type: ignore[return-value]


def assert_no_text_beside_calls(message: ChatCompletionMessage, breaks: Breaks) -> None:
    """OpenAI says null; Mistral says "" (catalogue 33). Documented once, in its own row, below."""
    assert message.content == ("" if breaks.expected else None)


def city(call: ChatCompletionMessageFunctionToolCall) -> str:
    return str(json.loads(call.function.arguments)["city"])


def text_answer(reply: ChatCompletion) -> str:
    choice = reply.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.tool_calls is None
    assert isinstance(choice.message.content, str) and choice.message.content
    return choice.message.content


# --- one call, and the tool_choice forms -----------------------------------------------------------------


@pytest.mark.feature("Tools", "a tool call (tool_choice auto)")
def test_the_model_calls_the_tool_the_question_needs(client: OpenAI, breaks: Breaks) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=WEATHER_QUESTION, tools=[WEATHER_TOOL])
    calls = tool_calls(reply, breaks)
    assert [call.function.name for call in calls] == ["get_weather"]
    assert "paris" in city(calls[0]).lower()


@pytest.mark.feature("Tools", "a tool call (tool_choice auto)")
async def test_the_model_calls_the_tool_the_question_needs_async(
    aclient: AsyncOpenAI, breaks: Breaks
) -> None:
    reply = await aclient.chat.completions.create(
        model=MODEL, messages=WEATHER_QUESTION, tools=[WEATHER_TOOL], tool_choice="auto"
    )
    calls = tool_calls(reply, breaks)
    assert [call.function.name for call in calls] == ["get_weather"]


@pytest.mark.feature("Tools", "content null beside tool calls")
def test_an_answer_that_calls_tools_has_null_content(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 33: code that checks `if not message.content` or `content is None` to spot tool calls.
    reply = client.chat.completions.create(model=MODEL, messages=WEATHER_QUESTION, tools=[WEATHER_TOOL])
    message = reply.choices[0].message
    assert message.tool_calls
    if breaks.expected:
        breaks.note("content '' beside tool calls (catalogue #33)")
        assert message.content == ""
    else:
        assert message.content is None


@pytest.mark.feature("Tools", "content null beside tool calls")
async def test_a_streamed_answer_that_calls_tools_has_null_content_async(
    aclient: AsyncOpenAI, breaks: Breaks
) -> None:
    async with aclient.chat.completions.stream(
        model=MODEL, messages=WEATHER_QUESTION, tools=[WEATHER_TOOL]
    ) as stream:
        message = (await stream.get_final_completion()).choices[0].message
    assert message.tool_calls
    if breaks.expected:
        breaks.note("content '' beside tool calls (catalogue #33)")
        assert message.content == ""
    else:
        assert message.content is None


@pytest.mark.feature("Tools", "tool_choice auto answering in text")
def test_auto_answers_in_text_when_no_tool_is_needed(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL, messages=GREETING, tools=BOTH_TOOLS, tool_choice="auto"
    )
    assert text_answer(reply)


@pytest.mark.feature("Tools", "tool_choice none")
def test_tool_choice_none_answers_in_text(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL, messages=WEATHER_QUESTION, tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert text_answer(reply)


@pytest.mark.feature("Tools", "tool_choice required")
def test_tool_choice_required_forces_a_call(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 30: "required" (OpenAI's word) and "any" (Mistral's) both force a call.
    reply = client.chat.completions.create(
        model=MODEL, messages=GREETING, tools=[WEATHER_TOOL], tool_choice="required"
    )
    assert [call.function.name for call in tool_calls(reply, breaks)] == ["get_weather"]


@pytest.mark.feature("Tools", "tool_choice required")
async def test_tool_choice_required_forces_a_call_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    reply = await aclient.chat.completions.create(
        model=MODEL, messages=GREETING, tools=[WEATHER_TOOL], tool_choice="required"
    )
    assert [call.function.name for call in tool_calls(reply, breaks)] == ["get_weather"]


NAMED: Any = {"type": "function", "function": {"name": "get_local_time"}}


@pytest.mark.feature("Tools", "tool_choice naming a function")
def test_a_named_tool_choice_calls_that_function(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 29: LiteLLM lost the named form; the weather question must still get get_local_time.
    reply = client.chat.completions.create(
        model=MODEL, messages=WEATHER_QUESTION, tools=BOTH_TOOLS, tool_choice=NAMED
    )
    calls = tool_calls(reply, breaks)
    assert [call.function.name for call in calls] == ["get_local_time"]


@pytest.mark.feature("Tools", "tool_choice naming a function")
async def test_a_named_tool_choice_calls_that_function_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    reply = await aclient.chat.completions.create(
        model=MODEL, messages=WEATHER_QUESTION, tools=BOTH_TOOLS, tool_choice=NAMED
    )
    assert [call.function.name for call in tool_calls(reply, breaks)] == ["get_local_time"]


@pytest.mark.feature("Tools", "tool_choice allowed_tools")
def test_allowed_tools_narrows_what_may_be_called(client: OpenAI, breaks: Breaks) -> None:
    allowed: Any = {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": "required",
            "tools": [{"type": "function", "function": {"name": "get_local_time"}}],
        },
    }
    with breaks(openai.UnprocessableEntityError, "allowed_tools → 422 (Mistral has no such form)") as broken:
        reply = client.chat.completions.create(
            model=MODEL, messages=WEATHER_QUESTION, tools=BOTH_TOOLS, tool_choice=allowed
        )
        assert [call.function.name for call in tool_calls(reply, breaks)] == ["get_local_time"]
    if broken is not None:
        refused = refusals(broken.value)
        assert all(loc[:2] == ("body", "tool_choice") for loc in refused)
        assert refused[("body", "tool_choice", "ToolChoice", "allowed_tools")] == "extra_forbidden"


# --- several calls ----------------------------------------------------------------------------------------


@pytest.mark.feature("Tools", "parallel tool calls")
def test_parallel_calls_come_in_one_answer(client: OpenAI, breaks: Breaks) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=WEATHER_AND_TIME, tools=BOTH_TOOLS)
    calls = tool_calls(reply, breaks)
    assert sorted(call.function.name for call in calls) == ["get_local_time", "get_weather"]
    assert all("paris" in city(call).lower() for call in calls)


@pytest.mark.feature("Tools", "parallel tool calls")
async def test_parallel_calls_come_in_one_answer_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    reply = await aclient.chat.completions.create(
        model=MODEL, messages=WEATHER_AND_TIME, tools=BOTH_TOOLS, parallel_tool_calls=True
    )
    assert sorted(call.function.name for call in tool_calls(reply, breaks)) == [
        "get_local_time",
        "get_weather",
    ]


@pytest.mark.feature("Tools", "parallel_tool_calls false")
def test_parallel_tool_calls_false_asks_for_one_call_at_a_time(client: OpenAI, breaks: Breaks) -> None:
    reply = client.chat.completions.create(
        model=MODEL, messages=WEATHER_AND_TIME, tools=BOTH_TOOLS, parallel_tool_calls=False
    )
    assert len(tool_calls(reply, breaks)) == 1


# --- the round trip ---------------------------------------------------------------------------------------


def answered(question: list[Any], reply: ChatCompletion) -> list[Any]:
    """The history after ``reply``'s calls: its message as the SDK gave it, then one result per call."""
    message = reply.choices[0].message
    results = [
        {"role": "tool", "tool_call_id": call.id, "content": WEATHER_REPORT}
        for call in message.tool_calls or []
    ]
    return [*question, message, *results]


@pytest.mark.feature("Tools", "round trip: calls, results, answer")
def test_a_full_tool_round_trip(client: OpenAI, breaks: Breaks) -> None:
    first = client.chat.completions.create(model=MODEL, messages=LYON_WEATHER, tools=[WEATHER_TOOL])
    assert tool_calls(first, breaks)
    final = client.chat.completions.create(
        model=MODEL, messages=answered(LYON_WEATHER, first), tools=[WEATHER_TOOL]
    )
    assert text_answer(final)


@pytest.mark.feature("Tools", "round trip: calls, results, answer")
async def test_a_full_tool_round_trip_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    first = await aclient.chat.completions.create(
        model=MODEL, messages=NICE_WEATHER_AND_TIME, tools=BOTH_TOOLS
    )
    assert len(tool_calls(first, breaks)) == 2
    final = await aclient.chat.completions.create(
        model=MODEL, messages=answered(NICE_WEATHER_AND_TIME, first), tools=BOTH_TOOLS
    )
    assert text_answer(final)


@pytest.mark.feature("Tools", "round trip with OpenAI-style call ids")
def test_a_history_with_openai_call_ids(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 25: a history recorded against OpenAI (or another provider) replays call_… ids.
    with breaks(openai.BadRequestError, "call_… ids → 400 invalid_function_call 3280") as broken:
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=weather_history(OPENAI_CALL_ID), tools=[WEATHER_TOOL]
        )
        assert text_answer(raw.parse())
        assert "tool-call-ids" in raw.headers["x-shim-repairs"].split(",")
    if broken is not None:
        error = broken.value
        assert error.code == "3280"
        assert error.type == "invalid_function_call"
        assert (
            f"Tool call id was {OPENAI_CALL_ID} but must be a-z, A-Z, 0-9, with a length of 9."
            in error.message
        )


@pytest.mark.feature("Tools", "round trip with OpenAI-style call ids")
async def test_a_history_with_openai_call_ids_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    with breaks(openai.BadRequestError, "call_… ids → 400 invalid_function_call 3280") as broken:
        reply = await aclient.chat.completions.create(
            model=MODEL, messages=weather_history("call_abc123"), tools=[WEATHER_TOOL]
        )
        assert text_answer(reply)
    if broken is not None:
        assert broken.value.code == "3280"


@pytest.mark.feature("Tools", "a user turn right after a tool result")
def test_a_user_turn_right_after_a_tool_result(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 16: agents append a user turn to the tool results; most Mistral models refuse that order.
    messages = [*weather_history("Wz1x2y3z4"), {"role": "user", "content": "Answer in Celsius, please."}]
    with breaks(openai.BadRequestError, "user after tool → 400 invalid_request_message_order 3230") as broken:
        raw = client.chat.completions.with_raw_response.create(
            model=STRICT_HISTORY_MODEL, messages=messages, tools=[WEATHER_TOOL]
        )
        reply = raw.parse()
        assert reply.choices[0].finish_reason == "stop"
        assert reply.choices[0].message.content
        assert "assistant-after-tool" in raw.headers["x-shim-repairs"].split(",")
    if broken is not None:
        assert broken.value.code == "3230"
        assert broken.value.type == "invalid_request_message_order"
        assert "Unexpected role 'user' after role 'tool'" in broken.value.message


# --- streamed calls ----------------------------------------------------------------------------------------


def reassemble_calls(chunks: list[Any]) -> dict[int, dict[str, str]]:
    """Tool-call deltas joined by ``index`` the way OpenAI documents it: id and name first, then arguments."""
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                assert isinstance(delta.index, int)
                if delta.index not in calls:
                    assert delta.id and delta.function and delta.function.name, (
                        "a call opens with id and name"
                    )
                    calls[delta.index] = {"id": delta.id, "name": delta.function.name, "arguments": ""}
                calls[delta.index]["arguments"] += (delta.function and delta.function.arguments) or ""
    return calls


def finishes(chunks: list[Any]) -> list[str]:
    return [choice.finish_reason for chunk in chunks for choice in chunk.choices if choice.finish_reason]


@pytest.mark.feature("Tools", "tool calls streamed and reassembled")
def test_streamed_tool_calls_reassemble(client: OpenAI, target: Target) -> None:
    chunks = list(
        client.chat.completions.create(model=MODEL, messages=WEATHER_AND_TIME, tools=BOTH_TOOLS, stream=True)
    )
    calls = reassemble_calls(chunks)
    assert finishes(chunks) == ["tool_calls"]
    assert sorted(calls) == [0, 1]
    assert sorted(call["name"] for call in calls.values()) == ["get_local_time", "get_weather"]
    assert all(isinstance(json.loads(call["arguments"]), dict) for call in calls.values())
    if synthetic(target):
        whole = client.chat.completions.create(model=MODEL, messages=WEATHER_AND_TIME, tools=BOTH_TOOLS)
        expected = [
            {"id": call.id, "name": call.function.name, "arguments": call.function.arguments}
            for call in whole.choices[0].message.tool_calls or []
        ]
        assert [calls[index] for index in sorted(calls)] == expected


@pytest.mark.feature("Tools", "tool calls streamed and reassembled")
async def test_streamed_tool_calls_reassemble_async(aclient: AsyncOpenAI) -> None:
    stream = await aclient.chat.completions.create(
        model=MODEL, messages=WEATHER_QUESTION, tools=[WEATHER_TOOL], tool_choice="required", stream=True
    )
    chunks = [chunk async for chunk in stream]
    calls = reassemble_calls(chunks)
    assert finishes(chunks) == ["tool_calls"]
    assert [call["name"] for call in calls.values()] == ["get_weather"]


# --- tool definitions Mistral reads differently -------------------------------------------------------------


@pytest.mark.feature("Tools", "a function without parameters")
def test_a_function_without_parameters(client: OpenAI, breaks: Breaks) -> None:
    # OpenAI's parameters are optional; Mistral requires them.
    bare: Any = {"type": "function", "function": {"name": "get_weather", "description": "Weather in Paris"}}
    with breaks(openai.UnprocessableEntityError, "no parameters → 422 missing") as broken:
        reply = client.chat.completions.create(
            model=MODEL, messages=WEATHER_QUESTION, tools=[bare], tool_choice="required"
        )
        calls = tool_calls(reply, breaks)
        assert [call.function.name for call in calls] == ["get_weather"]
    if broken is not None:
        assert refusals(broken.value) == {
            ("body", "tools", 0, "function", "function", "parameters"): "missing"
        }


@pytest.mark.feature("Tools", "an empty tools list")
def test_an_empty_tools_list(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 10: what code that builds tools conditionally sends when there are none.
    with breaks(openai.UnprocessableEntityError, "tools [] → 422 code 3001") as broken:
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=GREETING, tools=[], tool_choice="auto"
        )
        assert text_answer(raw.parse())
        assert "empty-tools-omitted" in raw.headers["x-shim-repairs"].split(",")
    if broken is not None:
        assert refusals(broken.value) == {("body", "tools"): "extra_forbidden"}
        assert broken.value.code == "3001"


@pytest.mark.feature("Tools", "$schema in function parameters")
def test_schema_keywords_in_function_parameters(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 27: schemas generated by zod-to-json-schema or pydantic exporters carry $schema.
    parameters = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        **WEATHER_TOOL["function"]["parameters"],
    }
    tool: Any = {"type": "function", "function": {**WEATHER_TOOL["function"], "parameters": parameters}}
    with breaks(openai.BadRequestError, "$schema → 400 Grammar error") as broken:
        reply = client.chat.completions.create(model=MODEL, messages=WEATHER_QUESTION, tools=[tool])
        assert [call.function.name for call in tool_calls(reply, breaks)] == ["get_weather"]
    if broken is not None:
        assert broken.value.message.startswith("Error code: 400 - Grammar error: at ")
        assert "failed to compile JSON schema" in broken.value.message


@pytest.mark.feature("Tools", "legacy functions and function_call")
def test_legacy_functions_are_answered_with_function_call(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 6: code written before tools existed, and assistants built on it.
    with breaks(openai.UnprocessableEntityError, "functions → 422 extra_forbidden") as broken:
        reply = client.chat.completions.create(
            model=MODEL,
            messages=WEATHER_QUESTION,
            functions=[WEATHER_TOOL["function"]],
            function_call={"name": "get_weather"},
        )
        choice = reply.choices[0]
        assert choice.finish_reason == "function_call"
        assert choice.message.tool_calls is None
        assert choice.message.function_call is not None
        assert choice.message.function_call.name == "get_weather"
        assert "paris" in json.loads(choice.message.function_call.arguments)["city"].lower()
    if broken is not None:
        assert refusals(broken.value) == {
            ("body", "function_call"): "extra_forbidden",
            ("body", "functions"): "extra_forbidden",
        }
