"""Structured output: ``parse()`` with a pydantic model, JSON mode, raw JSON schemas, strict function tools.

Mistral has OpenAI's ``response_format`` shapes and honours ``strict`` schemas, so the SDK's helpers work
straight at Mistral as long as the schema is one its grammar compiler takes: the pydantic schemas the SDK
generates are. Schemas exported by other tools often carry ``$schema``/``$id``, which Mistral refuses with a
400 "Grammar error" (catalogue 27) and the shim removes. Every parsed answer is also checked to be the very
JSON the model wrote, so a helper that parsed something else would fail here.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import jsonschema
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from pydantic import BaseModel

from contract_tests.conftest import Breaks
from contract_tests.payloads import MODEL, WEATHER_QUESTION

DESCRIBE_PARIS = [
    {"role": "user", "content": "Describe the city of Paris: its name, country and population."}
]
PLAN_TRIP = [{"role": "user", "content": "Plan a two-stop trip in France, with the transport between stops."}]


class City(BaseModel):
    name: str
    country: str
    population: int


class Transport(StrEnum):
    TRAIN = "train"
    CAR = "car"
    PLANE = "plane"


class Stop(BaseModel):
    city: str
    nights: int


class Trip(BaseModel):
    title: str
    stops: list[Stop]
    transport: Transport


class GetWeather(BaseModel):
    """Current weather for a city."""

    city: str
    unit: str


CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "country": {"type": "string"},
        "landmarks": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "country", "landmarks"],
    "additionalProperties": False,
}


def parsed_city(message: Any) -> City:
    """The parsed object, after checking it is exactly what the text of the answer says."""
    assert message.refusal is None
    assert isinstance(message.parsed, City)
    assert City.model_validate_json(message.content) == message.parsed
    return message.parsed


# --- parse() with a pydantic model -------------------------------------------------------------------------


@pytest.mark.feature("Structured output", "parse(response_format=Model)")
def test_parse_returns_the_model_instance(client: OpenAI) -> None:
    reply = client.chat.completions.parse(model=MODEL, messages=DESCRIBE_PARIS, response_format=City)
    assert reply.choices[0].finish_reason == "stop"
    city = parsed_city(reply.choices[0].message)
    assert city.name and city.country


@pytest.mark.feature("Structured output", "parse(response_format=Model)")
async def test_parse_returns_the_model_instance_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.parse(model=MODEL, messages=DESCRIBE_PARIS, response_format=City)
    assert reply.choices[0].finish_reason == "stop"
    parsed_city(reply.choices[0].message)


@pytest.mark.feature("Structured output", "parse() with nested models and enums")
def test_parse_handles_nested_models_and_enums(client: OpenAI) -> None:
    # The SDK sends nested models as $defs and $ref, with additionalProperties false at every level.
    reply = client.chat.completions.parse(model=MODEL, messages=PLAN_TRIP, response_format=Trip)
    message = reply.choices[0].message
    trip = message.parsed
    assert isinstance(trip, Trip)
    assert Trip.model_validate_json(message.content or "") == trip
    assert isinstance(trip.transport, Transport)
    assert all(isinstance(stop, Stop) for stop in trip.stops)


# --- JSON mode and raw schemas ---------------------------------------------------------------------------


@pytest.mark.feature("Structured output", "JSON mode (json_object)")
def test_json_mode_answers_a_json_object(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Describe Paris as a JSON object with a name and a country."}],
        response_format={"type": "json_object"},
    )
    assert reply.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(reply.choices[0].message.content or ""), dict)


@pytest.mark.feature("Structured output", "JSON mode (json_object)")
async def test_json_mode_answers_a_json_object_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Describe Lyon as a JSON object with a name and a country."}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(reply.choices[0].message.content or ""), dict)


@pytest.mark.feature("Structured output", "json_schema response_format")
def test_a_strict_json_schema_is_followed(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL,
        messages=DESCRIBE_PARIS,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": CITY_SCHEMA, "strict": True},
        },
    )
    assert reply.choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(reply.choices[0].message.content or ""), CITY_SCHEMA)


@pytest.mark.feature("Structured output", "json_schema response_format")
async def test_a_strict_json_schema_is_followed_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.create(
        model=MODEL,
        messages=DESCRIBE_PARIS,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "description": "A city", "schema": CITY_SCHEMA, "strict": True},
        },
    )
    jsonschema.validate(json.loads(reply.choices[0].message.content or ""), CITY_SCHEMA)


@pytest.mark.feature("Structured output", "json_schema with $schema and $id")
def test_a_json_schema_with_schema_keywords(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 27: zod-to-json-schema, pydantic's exporters and hand-written files carry these keys.
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:city", **CITY_SCHEMA}
    with breaks(openai.BadRequestError, "$schema → 400 Grammar error") as broken:
        reply = client.chat.completions.create(
            model=MODEL,
            messages=DESCRIBE_PARIS,
            response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}},
        )
        jsonschema.validate(json.loads(reply.choices[0].message.content or ""), CITY_SCHEMA)
    if broken is not None:
        assert "Grammar error: at " in broken.value.message
        assert "failed to compile JSON schema" in broken.value.message


# --- the stream helper and strict function tools -----------------------------------------------------------


@pytest.mark.feature("Structured output", "stream() with response_format=Model")
def test_the_stream_helper_parses_the_model(client: OpenAI) -> None:
    with client.chat.completions.stream(model=MODEL, messages=DESCRIBE_PARIS, response_format=City) as stream:
        done = [event for event in stream if event.type == "content.done"]
        final = stream.get_final_completion()
    message = final.choices[0].message
    city = parsed_city(message)
    assert [event.parsed for event in done] == [city]


@pytest.mark.feature("Structured output", "stream() with response_format=Model")
async def test_the_stream_helper_parses_the_model_async(aclient: AsyncOpenAI) -> None:
    async with aclient.chat.completions.stream(
        model=MODEL, messages=DESCRIBE_PARIS, response_format=City
    ) as stream:
        final = await stream.get_final_completion()
    parsed_city(final.choices[0].message)


@pytest.mark.feature("Structured output", "strict function tools (pydantic_function_tool)")
def test_parse_fills_parsed_arguments_of_strict_tools(client: OpenAI) -> None:
    reply = client.chat.completions.parse(
        model=MODEL, messages=WEATHER_QUESTION, tools=[openai.pydantic_function_tool(GetWeather)]
    )
    assert reply.choices[0].finish_reason == "tool_calls"
    calls = reply.choices[0].message.tool_calls or []
    assert [call.function.name for call in calls] == ["GetWeather"]
    arguments = calls[0].function.parsed_arguments
    assert isinstance(arguments, GetWeather)
    assert GetWeather.model_validate_json(calls[0].function.arguments) == arguments
    assert "paris" in arguments.city.lower()


@pytest.mark.feature("Structured output", "strict function tools (pydantic_function_tool)")
async def test_parse_fills_parsed_arguments_of_strict_tools_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.parse(
        model=MODEL,
        messages=WEATHER_QUESTION,
        tools=[openai.pydantic_function_tool(GetWeather, name="get_weather")],
        tool_choice="required",
    )
    calls = reply.choices[0].message.tool_calls or []
    assert [call.function.name for call in calls] == ["get_weather"]
    assert isinstance(calls[0].function.parsed_arguments, GetWeather)
