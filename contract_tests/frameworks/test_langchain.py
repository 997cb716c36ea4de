"""LangChain's ``ChatOpenAI`` pointed at the shim with ``base_url``: chat, streams, tools, structured output.

LangChain is one of the most common ways an application reaches a chat model, and
``ChatOpenAI(base_url=...)`` is how its documentation points it at any OpenAI-compatible server. It reads
more of the answer than a plain client does (``finish_reason`` and token usage into its metadata, tool-call
chunks merged by ``index``, JSON-schema output parsed into a model): a sharp test of the shim's answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import openai
import pytest

from contract_tests.frameworks.offline import import_offline
from contract_tests.frameworks.support import (
    EXTRA,
    FORECAST,
    HELLO,
    MISSING_MODEL,
    MODEL,
    RATE_LIMITED,
    REFUSED,
    SYNTHETIC,
    WEATHER,
    Forecast,
    Wire,
    assert_usage,
    weather_report,
)
from contract_tests.targets import Target

langchain_openai = import_offline("langchain_openai", EXTRA)
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

pytestmark = [pytest.mark.targets("shim+mock", "shim+replay", "live"), pytest.mark.usefixtures("offline")]


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return weather_report(city)


def chat_model(target: Target, **settings: Any) -> Any:
    """``ChatOpenAI`` as a team points it at the shim; ``settings`` add the test's clients and options."""
    return langchain_openai.ChatOpenAI(
        model=MODEL, base_url=target.base_url, api_key=target.api_key, max_retries=0, **settings
    )


def check_reply(reply: BaseMessage) -> None:
    assert isinstance(reply, AIMessage)
    assert isinstance(reply.content, str) and reply.content.strip()
    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.response_metadata["model_name"]
    usage = reply.usage_metadata
    assert usage is not None
    assert_usage(usage["input_tokens"], usage["output_tokens"], usage["total_tokens"])


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def check_weather_call(message: AIMessage) -> dict[str, Any]:
    """Exactly one well-formed ``get_weather`` call, its arguments parsed by LangChain."""
    assert message.invalid_tool_calls == []
    assert len(message.tool_calls) == 1, message.tool_calls
    call = message.tool_calls[0]
    assert call["name"] == "get_weather"
    assert "paris" in str(call["args"]["city"]).lower()
    assert isinstance(call["id"], str) and call["id"]
    assert message.response_metadata["finish_reason"] == "tool_calls"
    return dict(call)


@pytest.mark.feature("Frameworks", "LangChain ChatOpenAI: chat")
def test_invoke(target: Target, wire: Wire, http: httpx.Client) -> None:
    reply = chat_model(target, http_client=http).invoke(HELLO)
    check_reply(reply)
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "LangChain ChatOpenAI: chat")
async def test_ainvoke(target: Target, wire: Wire, ahttp: httpx.AsyncClient) -> None:
    reply = await chat_model(target, http_async_client=ahttp).ainvoke(HELLO)
    check_reply(reply)
    wire.assert_carried(1)


def check_stream(chunks: list[AIMessageChunk]) -> str:
    """Text in many chunks, ``finish_reason`` once, and the usage ``stream_usage=True`` asked for."""
    assert len(chunks) > 2
    total = merged(chunks)
    text = total.content
    assert isinstance(text, str) and text.strip()
    assert total.response_metadata["finish_reason"] == "stop"
    usage = total.usage_metadata
    assert usage is not None, "stream_usage=True but no chunk carried usage"
    assert_usage(usage["input_tokens"], usage["output_tokens"], usage["total_tokens"])
    return text


@pytest.mark.feature("Frameworks", "LangChain ChatOpenAI: stream with usage")
def test_stream(target: Target, wire: Wire, http: httpx.Client) -> None:
    model = chat_model(target, http_client=http, stream_usage=True)
    text = check_stream(list(model.stream(HELLO)))
    if target.name == SYNTHETIC:
        # The synthetic model answers a streamed request as it answers the same request unstreamed (the
        # replayed recordings may hold real answers, which differ from one call to the next).
        assert text == model.invoke(HELLO).content
    wire.assert_carried(2 if target.name == SYNTHETIC else 1)


@pytest.mark.feature("Frameworks", "LangChain ChatOpenAI: stream with usage")
async def test_astream(target: Target, wire: Wire, ahttp: httpx.AsyncClient) -> None:
    model = chat_model(target, http_async_client=ahttp, stream_usage=True)
    check_stream([chunk async for chunk in model.astream(HELLO)])
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "LangChain ChatOpenAI: tool round trip (bind_tools)")
def test_tool_round_trip(target: Target, wire: Wire, http: httpx.Client) -> None:
    model = chat_model(target, http_client=http).bind_tools([get_weather])
    history: list[BaseMessage] = [HumanMessage(WEATHER)]
    asked = model.invoke(history)
    call = check_weather_call(asked)
    result = get_weather.invoke(call)  # a ToolMessage answering the call's id
    assert result.tool_call_id == call["id"]
    answer = model.invoke([*history, asked, result])
    assert answer.tool_calls == []
    check_reply(answer)
    wire.assert_carried(2)


@pytest.mark.feature("Frameworks", "LangChain ChatOpenAI: tool round trip (bind_tools)")
async def test_atool_round_trip(target: Target, wire: Wire, ahttp: httpx.AsyncClient) -> None:
    model = chat_model(target, http_async_client=ahttp).bind_tools([get_weather])
    history: list[BaseMessage] = [HumanMessage(WEATHER)]
    asked = await model.ainvoke(history)
    call = check_weather_call(asked)
    result = await get_weather.ainvoke(call)
    answer = await model.ainvoke([*history, asked, result])
    assert answer.tool_calls == []
    check_reply(answer)
    wire.assert_carried(2)


@pytest.mark.feature("Frameworks", "LangChain ChatOpenAI: streamed tool call")
def test_streamed_tool_call(target: Target, wire: Wire, http: httpx.Client) -> None:
    """Tool-call chunks merge by ``index`` into one call: a chunk without an index would split or break it."""
    model = chat_model(target, http_client=http, stream_usage=True).bind_tools([get_weather])
    chunks = list(model.stream([HumanMessage(WEATHER)]))
    total = merged(chunks)
    for chunk in chunks:
        for piece in chunk.tool_call_chunks:
            assert piece["index"] is not None, f"tool-call chunk without an index: {piece}"
    check_weather_call(total)
    assert total.usage_metadata is not None
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "LangChain ChatOpenAI: structured output")
@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_structured_output(target: Target, wire: Wire, http: httpx.Client, method: str) -> None:
    """``with_structured_output``: OpenAI's ``response_format`` JSON schema, or a forced tool call."""
    model = chat_model(target, http_client=http).with_structured_output(Forecast, method=method)
    forecast = model.invoke(FORECAST)
    assert isinstance(forecast, Forecast)
    assert forecast.city.strip()
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "LangChain ChatOpenAI: errors as openai exceptions")
def test_unknown_model(target: Target, http: httpx.Client) -> None:
    model = langchain_openai.ChatOpenAI(
        model=MISSING_MODEL, base_url=target.base_url, api_key=target.api_key, max_retries=0, http_client=http
    )
    with pytest.raises(openai.NotFoundError) as raised:
        model.invoke(HELLO)
    assert MISSING_MODEL in raised.value.message


@pytest.mark.feature("Frameworks", "LangChain ChatOpenAI: errors as openai exceptions")
async def test_rate_limited(
    target: Target, wire: Wire, ahttp: httpx.AsyncClient, fault: Callable[[str], dict[str, str]]
) -> None:
    model = chat_model(target, http_async_client=ahttp, default_headers=fault(RATE_LIMITED))
    with pytest.raises(openai.RateLimitError) as raised:
        await model.ainvoke(REFUSED)
    assert raised.value.response.headers["retry-after"] == "1"
    assert raised.value.code == "rate_limit_exceeded"
    assert wire.seen == ["POST /v1/chat/completions -> 429"], "max_retries=0 sends one request"
