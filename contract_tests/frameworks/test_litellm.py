"""LiteLLM as a client: ``litellm.completion(model="openai/<model>", api_base=<shim>)``.

LiteLLM is how many applications (and gateways) reach "any OpenAI-compatible server": its ``openai/`` provider
with ``api_base`` sends OpenAI's wire format unchanged to the shim, then rebuilds its own response objects,
maps HTTP errors to its exception classes and reassembles streams with ``stream_chunk_builder``. Its HTTP
clients are the documented ``litellm.client_session`` / ``litellm.aclient_session``, set per test to the
oracle's clients (with LiteLLM's client cache emptied, so no test reuses another test's client).
"""

from __future__ import annotations

import json
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
from contract_tests.targets import Target

litellm = import_offline("litellm", EXTRA)

pytestmark = [
    pytest.mark.targets("shim+mock", "shim+replay", "live"),
    # LiteLLM's client cache emptied around each test, then the loopback-only guard (frameworks/conftest.py).
    pytest.mark.usefixtures("litellm_sessions", "offline"),
    # LiteLLM's own use of pydantic, warned about on first use: not this suite's business.
    pytest.mark.filterwarnings("ignore:.* using the `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:Accessing the 'model_\w+' attribute:DeprecationWarning"),
]

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "The city's name"}},
                "required": ["city"],
            },
        },
    }
]


def settings(target: Target, model: str = MODEL) -> dict[str, Any]:
    """What LiteLLM's docs say to pass for an OpenAI-compatible server."""
    return {
        "model": f"openai/{model}",
        "api_base": target.base_url,
        "api_key": target.api_key,
        "max_retries": 0,
    }


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def check_reply(response: Any) -> str:
    choice = response.choices[0]
    assert choice.finish_reason == "stop"
    text = choice.message.content
    assert isinstance(text, str) and text.strip()
    assert not choice.message.tool_calls
    assert response.model
    assert_usage(response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens)
    return text


def check_weather_call(message: Any) -> Any:
    assert len(message.tool_calls) == 1, message.tool_calls
    call = message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert "paris" in json.loads(call.function.arguments)["city"].lower()
    assert isinstance(call.id, str) and call.id
    return call


def answer_call(history: list[Any], message: Any, call: Any) -> list[Any]:
    """The conversation after the tool ran, as LiteLLM's docs build it: the reply, then the tool's answer."""
    city = json.loads(call.function.arguments)["city"]
    result = {"role": "tool", "tool_call_id": call.id, "name": "get_weather", "content": weather_report(city)}
    return [*history, message, result]


def check_stream(chunks: list[Any], history: list[dict[str, Any]]) -> str:
    """Text in many chunks, a usage chunk, and ``stream_chunk_builder`` rebuilding the same answer."""
    assert len(chunks) > 2
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text.strip()
    finishes = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices]
    assert finishes[-1] == "stop"
    assert [reason for reason in finishes if reason] == ["stop"]
    usage = [chunk.usage for chunk in chunks if getattr(chunk, "usage", None)]
    assert usage, "include_usage asked for a usage chunk"
    assert_usage(usage[-1].prompt_tokens, usage[-1].completion_tokens, usage[-1].total_tokens)
    rebuilt = litellm.stream_chunk_builder(chunks, messages=history)
    assert rebuilt.choices[0].message.content == text
    assert rebuilt.usage.total_tokens == usage[-1].total_tokens
    return text


@pytest.mark.feature("Frameworks", "LiteLLM openai/ provider: chat")
def test_completion(target: Target, wire: Wire, sync_session: httpx.Client) -> None:
    check_reply(litellm.completion(messages=ask(HELLO), **settings(target)))
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "LiteLLM openai/ provider: chat")
async def test_acompletion(target: Target, wire: Wire, async_session: httpx.AsyncClient) -> None:
    check_reply(await litellm.acompletion(messages=ask(HELLO), **settings(target)))
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "LiteLLM openai/ provider: stream with usage")
def test_stream(target: Target, wire: Wire, sync_session: httpx.Client) -> None:
    history = ask(HELLO)
    stream = litellm.completion(
        messages=history, stream=True, stream_options={"include_usage": True}, **settings(target)
    )
    text = check_stream(list(stream), history)
    if target.name == SYNTHETIC:
        # The synthetic model answers a streamed request as it answers the same request unstreamed (the
        # replayed recordings may hold real answers, which differ from one call to the next).
        assert text == check_reply(litellm.completion(messages=history, **settings(target)))
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "LiteLLM openai/ provider: stream with usage")
async def test_astream(target: Target, wire: Wire, async_session: httpx.AsyncClient) -> None:
    history = ask(HELLO)
    stream = await litellm.acompletion(
        messages=history, stream=True, stream_options={"include_usage": True}, **settings(target)
    )
    check_stream([chunk async for chunk in stream], history)
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "LiteLLM openai/ provider: tool round trip (tools=[...])")
def test_tool_round_trip(target: Target, wire: Wire, sync_session: httpx.Client) -> None:
    history = ask(WEATHER)
    asked = litellm.completion(messages=history, tools=TOOLS, **settings(target))
    assert asked.choices[0].finish_reason == "tool_calls"
    message = asked.choices[0].message
    call = check_weather_call(message)
    answer = litellm.completion(messages=answer_call(history, message, call), tools=TOOLS, **settings(target))
    check_reply(answer)
    wire.assert_carried(2)


@pytest.mark.feature("Frameworks", "LiteLLM openai/ provider: tool round trip (tools=[...])")
async def test_atool_round_trip(target: Target, wire: Wire, async_session: httpx.AsyncClient) -> None:
    history = ask(WEATHER)
    asked = await litellm.acompletion(messages=history, tools=TOOLS, **settings(target))
    message = asked.choices[0].message
    call = check_weather_call(message)
    history = answer_call(history, message, call)
    check_reply(await litellm.acompletion(messages=history, tools=TOOLS, **settings(target)))
    wire.assert_carried(2)


@pytest.mark.feature("Frameworks", "LiteLLM openai/ provider: streamed tool call (stream_chunk_builder)")
def test_streamed_tool_call(target: Target, wire: Wire, sync_session: httpx.Client) -> None:
    history = ask(WEATHER)
    chunks = list(litellm.completion(messages=history, tools=TOOLS, stream=True, **settings(target)))
    for chunk in chunks:
        for piece in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            assert piece.index is not None, f"tool-call delta without an index: {piece}"
    rebuilt = litellm.stream_chunk_builder(chunks, messages=history)
    assert rebuilt.choices[0].finish_reason == "tool_calls"
    check_weather_call(rebuilt.choices[0].message)
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "LiteLLM openai/ provider: structured output (response_format)")
def test_structured_output(target: Target, wire: Wire, sync_session: httpx.Client) -> None:
    """``response_format=<pydantic model>``: LiteLLM sends OpenAI's ``json_schema`` form of it."""
    response = litellm.completion(messages=ask(FORECAST), response_format=Forecast, **settings(target))
    forecast = Forecast.model_validate_json(response.choices[0].message.content)
    assert forecast.city.strip()
    wire.assert_carried(1)


@pytest.mark.feature("Frameworks", "LiteLLM openai/ provider: errors as LiteLLM exceptions")
def test_unknown_model(target: Target, sync_session: httpx.Client) -> None:
    with pytest.raises(litellm.NotFoundError) as raised:
        litellm.completion(messages=ask(HELLO), **settings(target, MISSING_MODEL))
    assert raised.value.status_code == 404
    assert MISSING_MODEL in raised.value.message


@pytest.mark.feature("Frameworks", "LiteLLM openai/ provider: errors as LiteLLM exceptions")
async def test_rate_limited(
    target: Target, wire: Wire, async_session: httpx.AsyncClient, fault: Callable[[str], dict[str, str]]
) -> None:
    with pytest.raises(litellm.RateLimitError) as raised:
        await litellm.acompletion(
            messages=ask(REFUSED), extra_headers=fault(RATE_LIMITED), **settings(target)
        )
    assert raised.value.status_code == 429
    assert "Rate limit" in raised.value.message
    assert wire.seen == ["POST /v1/chat/completions -> 429"], "max_retries=0 sends one request"
