"""instructor in its Responses mode (``Mode.RESPONSES_TOOLS``) on the openai client pointed at the shim.

instructor turns a pydantic model into a forced function tool of the Responses API (``tools`` in the flat
form, ``tool_choice: {type: function, name}``, and a ``text.format`` beside them), reads the call's
arguments back into the model, and asks again with the validation error when they do not fit. Through the
shim all of that reaches Mistral as a forced chat tool call.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2 as httpx
import pytest
from openai import AsyncOpenAI, OpenAI

from contract_tests.frameworks.offline import import_offline
from contract_tests.frameworks.support import FORECAST, MODEL, Forecast, Wire
from contract_tests.oracle import Oracle
from contract_tests.targets import Target

instructor = import_offline(
    "instructor", "instructor is not installed: make test installs it (pip install --no-deps instructor)"
)

pytestmark = [pytest.mark.targets("shim+mock", "shim+replay", "live"), pytest.mark.usefixtures("offline")]


@pytest.fixture
def patched(target: Target, http: httpx.Client) -> Iterator[object]:
    client = OpenAI(base_url=target.base_url, api_key=target.api_key, http_client=http, max_retries=0)
    yield instructor.from_openai(client, mode=instructor.Mode.RESPONSES_TOOLS)
    client.close()


@pytest.mark.feature("instructor", "Responses mode (RESPONSES_TOOLS)")
def test_responses_tools_fill_the_model(patched: object, wire: Wire) -> None:
    forecast = patched.create(  # type: ignore[attr-defined]
        model=MODEL,
        response_model=Forecast,
        messages=[{"role": "user", "content": FORECAST}],
        max_retries=1,
    )
    assert isinstance(forecast, Forecast) and forecast.city and forecast.summary
    assert wire.seen and all(seen.startswith("POST /v1/responses") for seen in wire.seen)


@pytest.mark.feature("instructor", "Responses mode (RESPONSES_TOOLS)")
async def test_responses_tools_fill_the_model_async(
    target: Target, ahttp: httpx.AsyncClient, oracle: Oracle
) -> None:
    client = AsyncOpenAI(base_url=target.base_url, api_key=target.api_key, http_client=ahttp, max_retries=0)
    patched = instructor.from_openai(client, mode=instructor.Mode.RESPONSES_TOOLS)
    forecast = await patched.create(
        model=MODEL,
        response_model=Forecast,
        messages=[{"role": "user", "content": f"{FORECAST} (Asked asynchronously.)"}],
        max_retries=1,
    )
    assert isinstance(forecast, Forecast) and forecast.city
    await client.close()
