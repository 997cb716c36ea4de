"""The OpenAI Agents SDK with its default model, the Responses API, pointed at the shim.

The Agents SDK is what OpenAI's documentation leads with for agents, and its default model
(``OpenAIResponsesModel``) speaks only the Responses API. A team moving an agent onto Mistral changes one
line, ``set_default_openai_client(AsyncOpenAI(base_url=..., api_key=...))``, and keeps everything else: the
function tools, ``Runner.run`` and ``Runner.run_streamed``, sessions, and chaining turns by
``previous_response_id``. Tracing is switched off, as it would upload to OpenAI.

The SDK replays its own output items exactly as the shim sent them (ids, statuses, null keys), reads only
``response.completed`` at the end of a stream, and fails on ``response.failed`` or ``response.incomplete``:
every one of those paths runs here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from openai import AsyncOpenAI

from contract_tests.frameworks.offline import import_offline
from contract_tests.frameworks.support import EXTRA, MODEL, Wire, weather_report
from contract_tests.targets import Target

agents = import_offline("agents", EXTRA)
from agents import (  # noqa: E402
    Agent,
    Runner,
    SQLiteSession,
    function_tool,
    set_default_openai_client,
    set_tracing_disabled,
)
from agents.items import ToolCallItem, ToolCallOutputItem  # noqa: E402

pytestmark = [pytest.mark.targets("shim+mock", "shim+replay", "live"), pytest.mark.usefixtures("offline")]


@function_tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return weather_report(city)


@pytest.fixture
def shim_as_openai(target: Target, ahttp: httpx.AsyncClient) -> Iterator[AsyncOpenAI]:
    """The shim as the Agents SDK's default OpenAI client, as a team configures it (tracing off)."""
    previous = agents.models._openai_shared.get_default_openai_client()
    client = AsyncOpenAI(base_url=target.base_url, api_key=target.api_key, http_client=ahttp, max_retries=0)
    set_default_openai_client(client, use_for_tracing=False)
    set_tracing_disabled(True)
    yield client
    agents.models._openai_shared.set_default_openai_client(previous)


def weather_agent() -> Any:
    return Agent(
        name="Forecaster",
        instructions="You answer weather questions. Always call get_weather, then answer in one sentence.",
        model=MODEL,
        tools=[get_weather],
    )


def _tool_was_used(items: list[Any]) -> None:
    calls = [item for item in items if isinstance(item, ToolCallItem)]
    outputs = [item for item in items if isinstance(item, ToolCallOutputItem)]
    assert calls and outputs, [type(item).__name__ for item in items]
    assert "Sunny and 21 degrees" in str(outputs[0].output)


@pytest.mark.feature("Agents SDK", "Runner.run with a function tool")
async def test_runner_run_calls_the_tool_and_answers(shim_as_openai: AsyncOpenAI, wire: Wire) -> None:
    result = await Runner.run(weather_agent(), "What is the weather in Paris? Use the get_weather tool.")
    _tool_was_used(result.new_items)
    assert isinstance(result.final_output, str) and result.final_output
    assert len(result.raw_responses) >= 2  # the call, then the answer after the tool's result
    assert all(response.response_id.startswith("resp_") for response in result.raw_responses)  # type: ignore[union-attr]
    wire.assert_carried(2)


@pytest.mark.feature("Agents SDK", "Runner.run_streamed with a function tool")
async def test_runner_run_streamed_calls_the_tool_and_answers(
    shim_as_openai: AsyncOpenAI, wire: Wire
) -> None:
    streamed = Runner.run_streamed(
        weather_agent(), "What is the weather in Berlin? Use the get_weather tool."
    )
    kinds = set()
    text = []
    async for event in streamed.stream_events():
        kinds.add(event.type)
        data = getattr(event, "data", None)
        if getattr(data, "type", None) == "response.output_text.delta":
            text.append(data.delta)  # type: ignore[union-attr]
    assert {"raw_response_event", "run_item_stream_event"} <= kinds
    _tool_was_used(streamed.new_items)
    assert streamed.final_output and "".join(text)
    wire.assert_carried(2)


@pytest.mark.feature("Agents SDK", "multi-turn: a session, and previous_response_id")
async def test_a_session_carries_the_conversation(shim_as_openai: AsyncOpenAI) -> None:
    """The SDK's own session: the whole history re-sent every turn, output items as the shim made them."""
    agent = Agent(name="Memo", instructions="Answer in one short sentence.", model=MODEL)
    session = SQLiteSession("responses-contract")
    first = await Runner.run(
        agent, "Remember this: my cat is called Pixel. Acknowledge briefly.", session=session
    )
    assert first.final_output
    second = await Runner.run(agent, "What is my cat called?", session=session)
    assert second.final_output
    history = await session.get_items()
    assert len(history) >= 4  # two user turns, two answers


@pytest.mark.feature("Agents SDK", "multi-turn: a session, and previous_response_id")
async def test_turns_chained_by_previous_response_id(shim_as_openai: AsyncOpenAI) -> None:
    """``previous_response_id``: only the new items are sent; the shim's store holds the rest."""
    first = await Runner.run(
        weather_agent(),
        "What is the weather in Rome? Use the get_weather tool.",
        auto_previous_response_id=True,
    )
    _tool_was_used(first.new_items)
    second = await Runner.run(
        weather_agent(),
        "And in Madrid? Use the get_weather tool.",
        previous_response_id=first.last_response_id,
    )
    _tool_was_used(second.new_items)
    assert second.final_output
    opening = await shim_as_openai.responses.retrieve(second.raw_responses[0].response_id)  # type: ignore[arg-type]
    assert opening.previous_response_id == first.last_response_id
