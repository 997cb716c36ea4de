"""Streamed chat completions: iterating the chunks, and the SDK's ``chat.completions.stream()`` helper.

Mistral's SSE framing is OpenAI's, so a plain stream works without the shim; the differences are in what
the chunks carry. Usage rides on the last content chunk whether or not it was asked for, and asking for it
the OpenAI way (``stream_options``) is a 422 (catalogue 1, 35). Reasoning models stream ``delta.content`` as a
list of chunks (catalogue 32), which the SDK's accumulator silently loses text from. The shim turns each of
those into what OpenAI sends. Streamed tool calls, with and without the helper, are in ``test_tools.py``
and here; the helper's structured output is in ``test_structured.py``.

Catalogue 31 (the helper's ``TypeError`` on tool-call deltas without ``index``) does not reproduce on the
``mock`` column: the mock streams tool calls in the 2026 shape, which carries ``index`` (real-traffic
OBSERVATIONS, ruby_llm 2026-08), so the helper accumulates them. What does break is subtler: Mistral sends
the calls in the same chunk as ``finish_reason``, and the helper then never emits
``tool_calls.function.arguments.done`` for the last call. OpenAI closes a stream with a chunk of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletionChunk

from contract_tests.conftest import Breaks
from contract_tests.payloads import (
    HELLO,
    MODEL,
    TIME_TOOL,
    WEATHER_AND_TIME,
    WEATHER_QUESTION,
    WEATHER_TOOL,
    refusals,
    synthetic,
)
from contract_tests.targets import Target

STORY = [{"role": "user", "content": "Tell me a short story about a lighthouse keeper."}]
MIXED_CONTENT_WARNING = "ignore:Pydantic serializer warnings:UserWarning"
"""What the SDK's accumulator warns when Mistral's list ``content`` meets its string field (the breakage)."""


@dataclass
class Reassembled:
    """What a stream said, choice by choice, and what else its chunks carried."""

    texts: dict[int, str] = field(default_factory=dict)
    finishes: dict[int, list[str]] = field(default_factory=dict)
    roles: dict[int, list[str]] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    usage_chunks: list[ChatCompletionChunk] = field(default_factory=list)
    list_deltas: int = 0
    """Deltas whose ``content`` was a list of chunks rather than a string (Mistral's reasoning shape)."""
    reasoning: str = ""
    chunks: list[ChatCompletionChunk] = field(default_factory=list)

    def add(self, chunk: ChatCompletionChunk) -> None:
        assert chunk.object == "chat.completion.chunk"
        self.chunks.append(chunk)
        self.ids.add(chunk.id)
        if chunk.usage is not None:
            self.usage_chunks.append(chunk)
        for choice in chunk.choices:
            delta = choice.delta
            text = self.texts.setdefault(choice.index, "")
            content: Any = delta.content
            if isinstance(content, list):
                self.list_deltas += 1
                content = "".join(part.get("text", "") for part in content if part.get("type") == "text")
            self.texts[choice.index] = text + (content or "")
            self.reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
            if delta.role is not None:
                self.roles.setdefault(choice.index, []).append(delta.role)
            if choice.finish_reason is not None:
                self.finishes.setdefault(choice.index, []).append(choice.finish_reason)


def reassemble(chunks: Iterable[ChatCompletionChunk]) -> Reassembled:
    seen = Reassembled()
    for chunk in chunks:
        seen.add(chunk)
    return seen


def assert_one_answer(seen: Reassembled, finish: str = "stop") -> str:
    """One choice, named assistant once, finished once with ``finish``, under one completion id."""
    assert len(seen.ids) == 1
    assert list(seen.texts) == [0]
    assert seen.roles[0] == ["assistant"]
    assert seen.finishes[0] == [finish]
    return seen.texts[0]


# --- iterating the chunks ---------------------------------------------------------------------------------


@pytest.mark.feature("Streaming", "iterating chunks reassembles the answer")
def test_streamed_chunks_reassemble_the_answer(client: OpenAI, target: Target) -> None:
    seen = reassemble(client.chat.completions.create(model=MODEL, messages=STORY, stream=True))
    text = assert_one_answer(seen)
    assert text
    if synthetic(target):  # the same request, streamed or not, gets the same answer
        whole = client.chat.completions.create(model=MODEL, messages=STORY)
        assert text == whole.choices[0].message.content


@pytest.mark.feature("Streaming", "iterating chunks reassembles the answer")
async def test_streamed_chunks_reassemble_the_answer_async(aclient: AsyncOpenAI, target: Target) -> None:
    seen = Reassembled()
    async for chunk in await aclient.chat.completions.create(model=MODEL, messages=STORY, stream=True):
        seen.add(chunk)
    text = assert_one_answer(seen)
    assert text
    if synthetic(target):
        whole = await aclient.chat.completions.create(model=MODEL, messages=STORY)
        assert text == whole.choices[0].message.content


@pytest.mark.feature("Streaming", "finish_reason length")
def test_a_stream_cut_by_max_tokens_finishes_with_length(client: OpenAI) -> None:
    seen = reassemble(client.chat.completions.create(model=MODEL, messages=STORY, stream=True, max_tokens=6))
    assert assert_one_answer(seen, finish="length")


@pytest.mark.feature("Streaming", "n choices streamed")
def test_several_streamed_choices_are_each_reassembled(client: OpenAI, target: Target) -> None:
    seen = reassemble(client.chat.completions.create(model=MODEL, messages=HELLO, stream=True, n=2))
    assert sorted(seen.texts) == [0, 1]
    for index in (0, 1):
        assert seen.roles[index] == ["assistant"]
        assert seen.finishes[index] == ["stop"]
        assert seen.texts[index]
    if synthetic(target):
        whole = client.chat.completions.create(model=MODEL, messages=HELLO, n=2)
        assert [seen.texts[c.index] for c in whole.choices] == [c.message.content for c in whole.choices]


@pytest.mark.feature("Streaming", "n choices streamed")
async def test_several_streamed_choices_are_each_reassembled_async(aclient: AsyncOpenAI) -> None:
    seen = Reassembled()
    async for chunk in await aclient.chat.completions.create(model=MODEL, messages=HELLO, stream=True, n=2):
        seen.add(chunk)
    assert sorted(seen.finishes) == [0, 1]
    assert all(seen.texts[index] for index in (0, 1))


# --- usage ------------------------------------------------------------------------------------------------


@pytest.mark.feature("Streaming", "no usage unless asked")
def test_a_stream_carries_no_usage_unless_asked(client: OpenAI, breaks: Breaks) -> None:
    seen = reassemble(client.chat.completions.create(model=MODEL, messages=HELLO, stream=True))
    assert_one_answer(seen)
    if breaks.expected:
        # Catalogue 35: Mistral always attaches usage to its last content chunk.
        breaks.note("usage arrives unasked, on the last content chunk (catalogue #35)")
        assert seen.usage_chunks == [seen.chunks[-1]]
        assert seen.chunks[-1].choices[0].finish_reason == "stop"
    else:
        assert seen.usage_chunks == []


@pytest.mark.feature("Streaming", "stream_options.include_usage")
def test_include_usage_adds_a_trailing_usage_chunk(client: OpenAI, breaks: Breaks) -> None:
    with breaks(
        openai.UnprocessableEntityError, "stream_options → 422 extra_forbidden (catalogue #1)"
    ) as broken:
        stream = client.chat.completions.create(
            model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
        seen = reassemble(stream)
        assert_one_answer(seen)
        # OpenAI's shape: one last chunk with no choices and the usage; none on the chunks before it.
        last = seen.chunks[-1]
        assert seen.usage_chunks == [last]
        assert last.choices == []
        assert last.usage is not None
        assert last.usage.prompt_tokens > 0 and last.usage.completion_tokens > 0
        assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    if broken is not None:
        assert refusals(broken.value) == {("body", "stream_options", "include_usage"): "extra_forbidden"}


@pytest.mark.feature("Streaming", "stream_options.include_usage")
async def test_include_usage_adds_a_trailing_usage_chunk_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    with breaks(
        openai.UnprocessableEntityError, "stream_options → 422 extra_forbidden (catalogue #1)"
    ) as broken:
        stream = await aclient.chat.completions.create(
            model=MODEL, messages=STORY, stream=True, stream_options={"include_usage": True}
        )
        seen = Reassembled()
        async for chunk in stream:
            seen.add(chunk)
        assert_one_answer(seen)
        assert seen.usage_chunks == [seen.chunks[-1]]
        assert seen.chunks[-1].choices == []
    if broken is not None:
        assert refusals(broken.value) == {("body", "stream_options", "include_usage"): "extra_forbidden"}


# --- reasoning ----------------------------------------------------------------------------------------------


@pytest.mark.feature("Streaming", "reasoning streamed")
def test_a_reasoning_stream_sends_text_as_strings(client: OpenAI, breaks: Breaks) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True, reasoning_effort="high")
    seen = reassemble(stream)
    assert assert_one_answer(seen)
    if breaks.expected:
        breaks.note("delta.content is a list of chunks while thinking (catalogue #32)")
        assert seen.list_deltas > 0
    else:
        assert seen.list_deltas == 0
        assert seen.reasoning, "the thinking is streamed in delta.reasoning_content"


# --- the SDK's stream helper --------------------------------------------------------------------------------


@pytest.mark.feature("Streaming", "stream() helper: text and final completion")
def test_the_stream_helper_accumulates_the_text(client: OpenAI, target: Target) -> None:
    with client.chat.completions.stream(model=MODEL, messages=STORY) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    deltas = "".join(event.delta for event in events if event.type == "content.delta")
    done = [event.content for event in events if event.type == "content.done"]
    message = final.choices[0].message
    assert final.choices[0].finish_reason == "stop"
    assert deltas and done == [deltas]
    assert message.content == deltas
    assert message.tool_calls in (None, [])
    if synthetic(target):
        whole = client.chat.completions.create(model=MODEL, messages=STORY)
        assert message.content == whole.choices[0].message.content


@pytest.mark.feature("Streaming", "stream() helper: text and final completion")
async def test_the_stream_helper_accumulates_the_text_async(aclient: AsyncOpenAI) -> None:
    async with aclient.chat.completions.stream(model=MODEL, messages=STORY) as stream:
        deltas = "".join([event.delta async for event in stream if event.type == "content.delta"])
        final = await stream.get_final_completion()
    assert final.choices[0].finish_reason == "stop"
    assert deltas and final.choices[0].message.content == deltas


@pytest.mark.feature("Streaming", "stream() helper: tool calls")
def test_the_stream_helper_accumulates_tool_calls(client: OpenAI, breaks: Breaks) -> None:
    with client.chat.completions.stream(
        model=MODEL, messages=WEATHER_QUESTION, tools=[WEATHER_TOOL]
    ) as stream:
        deltas = [event for event in stream if event.type == "tool_calls.function.arguments.delta"]
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [call.function.name for call in calls] == ["get_weather"]
    assert calls[0].id
    assert "paris" in json.loads(calls[0].function.arguments)["city"].lower()
    assert "".join(event.arguments_delta for event in deltas) == calls[0].function.arguments
    # Mistral's "" beside the calls (catalogue 33) has its own row in test_tools.py.
    assert choice.message.content == ("" if breaks.expected else None)


@pytest.mark.feature("Streaming", "stream() helper: tool calls")
async def test_the_stream_helper_accumulates_tool_calls_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    async with aclient.chat.completions.stream(
        model=MODEL, messages=WEATHER_QUESTION, tools=[WEATHER_TOOL], tool_choice="required"
    ) as stream:
        async for _event in stream:
            pass
        final = await stream.get_final_completion()
    message = final.choices[0].message
    assert [call.function.name for call in message.tool_calls or []] == ["get_weather"]
    assert message.content == ("" if breaks.expected else None)


@pytest.mark.feature("Streaming", "stream() helper: arguments.done per tool call")
def test_the_stream_helper_announces_each_finished_tool_call(client: OpenAI, breaks: Breaks) -> None:
    tools = [WEATHER_TOOL, TIME_TOOL]
    with client.chat.completions.stream(model=MODEL, messages=WEATHER_AND_TIME, tools=tools) as stream:
        done = [event for event in stream if event.type == "tool_calls.function.arguments.done"]
        calls = stream.get_final_completion().choices[0].message.tool_calls or []
    assert sorted(call.function.name for call in calls) == ["get_local_time", "get_weather"]
    announced = [(event.index, event.name, event.arguments) for event in done]
    everything = [(index, call.function.name, call.function.arguments) for index, call in enumerate(calls)]
    if breaks.expected:
        breaks.note("no arguments.done event for the last tool call (finish_reason shares its chunk)")
        assert announced == everything[:-1]
    else:
        assert announced == everything


@pytest.mark.feature("Streaming", "stream() helper: reasoning")
@pytest.mark.filterwarnings(MIXED_CONTENT_WARNING)
def test_the_stream_helper_keeps_all_the_text_of_a_reasoning_answer(client: OpenAI, breaks: Breaks) -> None:
    with client.chat.completions.stream(model=MODEL, messages=HELLO, reasoning_effort="high") as stream:
        # The helper also hands out each raw chunk: what the stream said, to hold the accumulation against.
        every_chunk = reassemble(event.chunk for event in stream if event.type == "chunk")
        message = stream.get_final_completion().choices[0].message
    full = assert_one_answer(every_chunk)
    assert isinstance(message.content, str) and message.content
    if breaks.expected:
        # The accumulator skips list deltas: the text that shares a delta with the thinking is lost.
        breaks.note("the helper loses the text sent beside the thinking (catalogue #32)")
        assert every_chunk.list_deltas > 0
        assert message.content != full and full.endswith(message.content)
    else:
        assert message.content == full
        assert every_chunk.reasoning
        assert (message.model_extra or {}).get("reasoning_content") == every_chunk.reasoning


@pytest.mark.feature("Streaming", "stream() helper: reasoning")
@pytest.mark.filterwarnings(MIXED_CONTENT_WARNING)
async def test_the_stream_helper_keeps_all_the_text_of_a_reasoning_answer_async(
    aclient: AsyncOpenAI, breaks: Breaks
) -> None:
    every_chunk = Reassembled()
    async with aclient.chat.completions.stream(
        model=MODEL, messages=STORY, reasoning_effort="high"
    ) as stream:
        async for event in stream:
            if event.type == "chunk":
                every_chunk.add(event.chunk)
        message = (await stream.get_final_completion()).choices[0].message
    full = assert_one_answer(every_chunk)
    if breaks.expected:
        breaks.note("the helper loses the text sent beside the thinking (catalogue #32)")
        assert message.content != full and full.endswith(message.content or "")
    else:
        assert message.content == full
