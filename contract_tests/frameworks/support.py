"""What the framework tests share: the model, the prompts, the tool, and proof the oracle saw the traffic.

Each framework is configured as its documentation tells a team to point it at another OpenAI-compatible
server (a base URL and a key), plus one thing a team would not do: where the framework takes an HTTP client,
it gets one built on the spec oracle's transport, so the shim's answers to the framework are validated
against OpenAI's spec like every other answer in the suite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx2 as httpx
from pydantic import BaseModel

MODEL = "mistral-small-latest"
SYNTHETIC = "shim+mock"
"""The target whose answers always come from the synthetic model (replayed ones may be real)."""
MISSING_MODEL = "no-such-model"
EXTRA = "the frameworks extra is not installed: pip install -e '.[test,frameworks]' (make test does)"

HELLO = "Say hello to a new colleague in one sentence."
WEATHER = "What is the weather in Paris? Use the get_weather tool."
FORECAST = "Give the weather forecast for Paris: the city, the temperature in Celsius and a one-line summary."
RATE_LIMITED = "status=429;retry_after=1"
REFUSED = "This question is answered with a 429."
"""The prompt of the rate-limit tests: a request of its own, so its recorded 429s answer nothing else."""


def weather_report(city: str) -> str:
    """The tool's answer: the same for the same city, so a replayed round trip sends the same request."""
    return f"Sunny and 21 degrees Celsius in {city}."


class Forecast(BaseModel):
    """A structured answer every framework is asked to fill."""

    city: str
    temperature_c: float
    summary: str


@dataclass
class Wire:
    """The answers a framework received through the client the test injected into it.

    Proves the injection took: a framework that quietly built its own client would leave this empty, and
    its answers would escape the spec oracle.
    """

    seen: list[str] = field(default_factory=list)

    def record(self, response: httpx.Response) -> None:
        self.seen.append(f"{response.request.method} {response.request.url.path} -> {response.status_code}")

    async def arecord(self, response: httpx.Response) -> None:
        self.record(response)

    def assert_carried(self, answers: int) -> None:
        assert len(self.seen) >= answers, (
            f"{len(self.seen)} answers went through the injected client, expected {answers}: {self.seen}"
        )


def assert_usage(prompt: int | None, completion: int | None, total: int | None) -> None:
    """Token counts the shim passed on: positive, and adding up."""
    assert prompt and prompt > 0, f"prompt tokens: {prompt}"
    assert completion and completion > 0, f"completion tokens: {completion}"
    assert total == prompt + completion
