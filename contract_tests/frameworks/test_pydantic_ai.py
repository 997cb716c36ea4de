"""pydantic-ai agents on ``OpenAIChatModel`` with ``OpenAIProvider(base_url=...)`` pointed at the shim.

pydantic-ai drives the model the way agent frameworks do: it registers Python functions as tools, runs the
call/result loop itself, streams text while tools may still be called, and asks for structured output as a
forced ``final_result`` tool call (``tool_choice: required``). It also asks every stream for usage
(``stream_options.include_usage``), which Mistral refuses: through the shim all of it must just work.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
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
from contract_tests.oracle import Oracle
from contract_tests.targets import Target

import_offline("pydantic_ai", EXTRA)
openai_models = import_offline("pydantic_ai.models.openai", EXTRA)
from pydantic_ai import Agent, ModelHTTPError  # noqa: E402
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart, ToolReturnPart  # noqa: E402
from pydantic_ai.providers.openai import OpenAIProvider  # noqa: E402

pytestmark = [pytest.mark.targets("shim+mock", "shim+replay", "live"), pytest.mark.usefixtures("offline")]


def model(target: Target, http: httpx.AsyncClient, name: str = MODEL) -> Any:
    """``OpenAIChatModel`` as the docs point it at an OpenAI-compatible server, on the oracle's client."""
    provider = OpenAIProvider(base_url=target.base_url, api_key=target.api_key, http_client=http)
    return openai_models.OpenAIChatModel(name, provider=provider)


def weather_agent(target: Target, http: httpx.AsyncClient, calls: list[str]) -> Agent[None, str]:
    """An agent with one plain tool; ``calls`` records the cities it was called with."""
    agent = Agent(model(target, http))

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        calls.append(city)
        return weather_report(city)

    return agent


def check_round_trip(messages: list[Any], calls: list[str]) -> None:
    """Model asked for the tool, the agent answered it under the same id, and the model then wrote text."""
    assert len(calls) == 1 and "paris" in calls[0].lower(), calls
    responses = [message for message in messages if isinstance(message, ModelResponse)]
    assert len(responses) == 2
    asked = [part for part in responses[0].parts if isinstance(part, ToolCallPart)]
    assert [part.tool_name for part in asked] == ["get_weather"]
    assert asked[0].args_as_dict()["city"] == calls[0]
    returned = [part for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]
    assert [part.tool_call_id for part in returned] == [asked[0].tool_call_id]
    assert responses[0].finish_reason == "tool_call"
    final = [part for part in responses[1].parts if isinstance(part, TextPart)]
    assert final and final[0].content.strip()
    assert responses[1].finish_reason == "stop"


@pytest.mark.feature("Frameworks", "pydantic-ai Agent: chat")
async def test_run(target: Target, wire: Wire, ahttp: httpx.AsyncClient) -> None:
    result = await Agent(model(target, ahttp)).run(HELLO)
    assert isinstance(result.output, str) and result.output.strip()
    usage = result.usage
    assert usage.requests == 1
    assert_usage(usage.input_tokens, usage.output_tokens, usage.total_tokens)
    response = result.all_messages()[-1]
    assert isinstance(response, ModelResponse)
    assert response.finish_reason == "stop"
    assert response.provider_response_id
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "pydantic-ai Agent: chat")
def test_run_sync(target: Target, oracle: Oracle) -> None:
    """``run_sync`` drives the thread's event loop: the test sets one, then closes it and the client."""
    seen = Wire()
    http = httpx.AsyncClient(
        transport=oracle.async_transport(), timeout=60.0, event_hooks={"response": [seen.arecord]}
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        result = Agent(model(target, http)).run_sync(HELLO)
    finally:
        loop.run_until_complete(http.aclose())
        asyncio.set_event_loop(None)
        loop.close()
    assert isinstance(result.output, str) and result.output.strip()
    assert result.usage.requests == 1
    seen.assert_carried(1)


@pytest.mark.feature("Frameworks", "pydantic-ai Agent: stream with usage")
async def test_run_stream(target: Target, wire: Wire, ahttp: httpx.AsyncClient) -> None:
    agent = Agent(model(target, ahttp))
    async with agent.run_stream(HELLO) as streamed:
        deltas = [delta async for delta in streamed.stream_text(delta=True, debounce_by=None)]
    assert len(deltas) > 2
    text = "".join(deltas)
    assert text.strip()
    assert text == await streamed.get_output()
    usage = streamed.usage
    assert_usage(usage.input_tokens, usage.output_tokens, usage.total_tokens)
    if target.name == SYNTHETIC:
        # The synthetic model answers a streamed request as it answers the same request unstreamed (the
        # replayed recordings may hold real answers, which differ from one call to the next).
        assert text == (await agent.run(HELLO)).output
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "pydantic-ai Agent: tool round trip (@agent.tool_plain)")
async def test_tool_round_trip(target: Target, wire: Wire, ahttp: httpx.AsyncClient) -> None:
    calls: list[str] = []
    result = await weather_agent(target, ahttp, calls).run(WEATHER)
    check_round_trip(result.all_messages(), calls)
    assert result.usage.requests == 2
    assert result.usage.tool_calls == 1
    wire.assert_carried(2)


@pytest.mark.feature("Frameworks", "pydantic-ai Agent: tool call while streaming")
async def test_tool_call_while_streaming(target: Target, wire: Wire, ahttp: httpx.AsyncClient) -> None:
    """The first streamed answer is a tool call; the agent runs it and streams the final text."""
    calls: list[str] = []
    async with weather_agent(target, ahttp, calls).run_stream(WEATHER) as streamed:
        text = "".join([delta async for delta in streamed.stream_text(delta=True, debounce_by=None)])
    assert text.strip()
    check_round_trip(streamed.all_messages(), calls)
    assert streamed.usage.requests == 2
    wire.assert_carried(2)


@pytest.mark.feature("Frameworks", "pydantic-ai Agent: structured output (output_type)")
async def test_structured_output(target: Target, wire: Wire, ahttp: httpx.AsyncClient) -> None:
    """``output_type`` is a forced ``final_result`` tool call whose arguments validate into the model."""
    result = await Agent(model(target, ahttp), output_type=Forecast).run(FORECAST)
    assert isinstance(result.output, Forecast)
    assert result.output.city.strip()
    calls = [
        part
        for message in result.all_messages()
        if isinstance(message, ModelResponse)
        for part in message.parts
        if isinstance(part, ToolCallPart)
    ]
    assert [call.tool_name for call in calls] == ["final_result"]
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "pydantic-ai Agent: HTTP errors (ModelHTTPError)")
async def test_unknown_model(target: Target, ahttp: httpx.AsyncClient) -> None:
    with pytest.raises(ModelHTTPError) as raised:
        await Agent(model(target, ahttp, MISSING_MODEL)).run(HELLO)
    assert raised.value.status_code == 404
    assert raised.value.model_name == MISSING_MODEL
    assert isinstance(raised.value.body, dict)
    assert MISSING_MODEL in raised.value.body["message"]


@pytest.mark.feature("Frameworks", "pydantic-ai Agent: HTTP errors (ModelHTTPError)")
async def test_rate_limited(
    target: Target, wire: Wire, ahttp: httpx.AsyncClient, fault: Callable[[str], dict[str, str]]
) -> None:
    """The SDK under the agent retries a 429 after ``Retry-After``, then the agent gets OpenAI's error."""
    agent = Agent(model(target, ahttp), model_settings={"extra_headers": fault(RATE_LIMITED)})
    started = time.monotonic()
    with pytest.raises(ModelHTTPError) as raised:
        await agent.run(REFUSED)
    waited = time.monotonic() - started
    assert raised.value.status_code == 429
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["type"] == "rate_limit_error"
    # The provider's default client retries twice, each time after the answer's Retry-After of 1 second.
    assert wire.seen == ["POST /v1/chat/completions -> 429"] * 3
    assert waited >= 1.9, f"two retries after Retry-After: 1 took {waited:.2f}s"
