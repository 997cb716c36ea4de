"""OpenAI's Responses API with the official openai client, as a team's code calls it, on Mistral.

Mistral's chat API is what answers (the shim translates onto it); the shim keeps the store that
``previous_response_id``, retrieval, deletion and input items need. Every body and every stream event the
client reads is held to OpenAI's published schemas by the oracle. Only the targets behind the shim apply:
Mistral's own ``/v1/responses`` is another API (stateless, its own shapes), tested with Mistral's SDK.

Every request opens with a question no other test asks, so that replaying recordings hands each test its
own answers, which the next turn then contains.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.responses import Response
from pydantic import BaseModel

from contract_tests.payloads import MODEL, dropped, png_data_url, text_pdf
from contract_tests.targets import Target

pytestmark = pytest.mark.targets("shim+mock", "shim+replay", "live")

WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The city, e.g. Paris"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
REPORT = '{"temperature_c": 18, "sky": "sunny"}'


class City(BaseModel):
    name: str
    country: str


def completed(response: Response) -> str:
    """The text of a completed answer, after checking what every Response carries."""
    assert response.object == "response"
    assert response.id.startswith("resp_")
    assert response.status == "completed", response.incomplete_details
    assert response.error is None and response.incomplete_details is None
    assert response.usage is not None and response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert response.output_text
    return response.output_text


# --- create -------------------------------------------------------------------------------------------------


@pytest.mark.feature("Responses", "create")
def test_create(client: OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, input="Greet a new member of the chess club.", instructions="Answer in one sentence."
    )
    completed(response)
    assert response.instructions == "Answer in one sentence."
    assert [item.type for item in response.output] == ["message"]


@pytest.mark.feature("Responses", "create")
async def test_create_async(aclient: AsyncOpenAI) -> None:
    response = await aclient.responses.create(model=MODEL, input="Greet a new member of the rowing club.")
    completed(response)


# --- streams ------------------------------------------------------------------------------------------------


def _events_check(kinds: list[str], numbers: list[int]) -> None:
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert numbers == list(range(len(numbers)))


@pytest.mark.feature("Responses", "stream (events)")
def test_stream_events(client: OpenAI) -> None:
    with client.responses.create(
        model=MODEL, input="Describe a quiet harbour at dawn.", stream=True
    ) as events:
        seen = list(events)
    _events_check([e.type for e in seen], [e.sequence_number for e in seen])
    text = "".join(e.delta for e in seen if e.type == "response.output_text.delta")
    final = seen[-1].response  # type: ignore[union-attr]
    assert final.output_text == text and final.output


@pytest.mark.feature("Responses", "stream (events)")
async def test_stream_events_async(aclient: AsyncOpenAI) -> None:
    stream = await aclient.responses.create(model=MODEL, input="Describe a busy market at noon.", stream=True)
    seen = [event async for event in stream]
    _events_check([e.type for e in seen], [e.sequence_number for e in seen])


@pytest.mark.feature("Responses", "stream helper and get_final_response")
def test_stream_helper(client: OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="Describe a mountain lake in autumn.") as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert completed(final) == text


@pytest.mark.feature("Responses", "stream helper and get_final_response")
async def test_stream_helper_async(aclient: AsyncOpenAI) -> None:
    async with aclient.responses.stream(model=MODEL, input="Describe a desert road at night.") as stream:
        async for _ in stream:
            pass
        final = await stream.get_final_response()
    completed(final)


# --- structured output ------------------------------------------------------------------------------------


@pytest.mark.feature("Responses", "parse with a pydantic model (text_format)")
def test_parse(client: OpenAI) -> None:
    parsed = client.responses.parse(
        model=MODEL, input="Name the capital of Italy and its country.", text_format=City
    )
    assert isinstance(parsed.output_parsed, City) and parsed.output_parsed.name


@pytest.mark.feature("Responses", "parse with a pydantic model (text_format)")
async def test_parse_async(aclient: AsyncOpenAI) -> None:
    parsed = await aclient.responses.parse(
        model=MODEL, input="Name the capital of Spain and its country.", text_format=City
    )
    assert isinstance(parsed.output_parsed, City) and parsed.output_parsed.country


@pytest.mark.feature("Responses", "parse with a pydantic model (text_format)")
def test_the_stream_helper_parses_too(client: OpenAI) -> None:
    with client.responses.stream(
        model=MODEL, input="Name the capital of Portugal and its country.", text_format=City
    ) as stream:
        final = stream.get_final_response()
    assert isinstance(final.output_parsed, City)


# --- the store ----------------------------------------------------------------------------------------------


@pytest.mark.feature("Responses", "retrieve and delete")
def test_retrieve_and_delete(client: OpenAI) -> None:
    made = client.responses.create(
        model=MODEL, input="Suggest a name for a grey kitten.", metadata={"app": "pets"}
    )
    got = client.responses.retrieve(made.id)
    assert got.id == made.id and got.output_text == made.output_text and got.metadata == {"app": "pets"}
    client.responses.delete(made.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)


@pytest.mark.feature("Responses", "retrieve and delete")
async def test_retrieve_and_delete_async(aclient: AsyncOpenAI) -> None:
    made = await aclient.responses.create(model=MODEL, input="Suggest a name for a black puppy.")
    assert (await aclient.responses.retrieve(made.id)).id == made.id
    await aclient.responses.delete(made.id)
    with pytest.raises(openai.NotFoundError):
        await aclient.responses.delete(made.id)


@pytest.mark.feature("Responses", "input items, paginated")
def test_input_items_pagination(client: OpenAI) -> None:
    lines = [
        {"role": "user", "content": f"Shopping list, item {n}: {fruit}."}
        for n, fruit in enumerate(["apples", "pears", "plums", "figs", "kiwis"])
    ]
    made = client.responses.create(model=MODEL, input=[*lines, {"role": "user", "content": "Sum it up."}])
    pages = client.responses.input_items.list(made.id, limit=2, order="asc")
    every = list(pages)  # the SDK follows has_more and after
    assert len(every) == 6
    assert [item.content[0].text for item in every][:5] == [line["content"] for line in lines]  # type: ignore[union-attr]
    assert len({item.id for item in every}) == 6
    newest = client.responses.input_items.list(made.id, limit=1)
    assert newest.data[0].id == every[-1].id and newest.has_more


@pytest.mark.feature("Responses", "multi-turn with previous_response_id")
def test_multi_turn(client: OpenAI) -> None:
    first = client.responses.create(
        model=MODEL, input="My favourite colour is teal. Acknowledge briefly.", instructions="Be brief."
    )
    second = client.responses.create(
        model=MODEL, input="What is my favourite colour?", previous_response_id=first.id
    )
    completed(second)
    assert second.previous_response_id == first.id
    third = client.responses.create(model=MODEL, input="Spell it backwards.", previous_response_id=second.id)
    completed(third)


@pytest.mark.feature("Responses", "multi-turn with previous_response_id")
async def test_multi_turn_async(aclient: AsyncOpenAI) -> None:
    first = await aclient.responses.create(
        model=MODEL, input="My favourite number is 7. Acknowledge briefly."
    )
    second = await aclient.responses.create(
        model=MODEL, input="What is my favourite number?", previous_response_id=first.id
    )
    completed(second)


# --- tools --------------------------------------------------------------------------------------------------


def _call(response: Response) -> Any:
    calls = [item for item in response.output if item.type == "function_call"]
    assert calls, [item.type for item in response.output]
    assert calls[0].name == "get_weather" and json.loads(calls[0].arguments)["city"]
    return calls[0]


@pytest.mark.feature("Responses", "function-call round trip")
def test_function_call_round_trip_with_previous_response_id(client: OpenAI) -> None:
    asked = client.responses.create(
        model=MODEL, input="What's the weather in Paris? Use the get_weather tool.", tools=[WEATHER]
    )
    call = _call(asked)
    answered = client.responses.create(
        model=MODEL,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": REPORT}],
        previous_response_id=asked.id,
        tools=[WEATHER],
    )
    completed(answered)


@pytest.mark.feature("Responses", "function-call round trip")
def test_function_call_round_trip_sending_the_items_back(client: OpenAI) -> None:
    """As the Agents SDK does by default: nothing stored, every item sent back as it came."""
    question = {"role": "user", "content": "What's the weather in Lyon? Use the get_weather tool."}
    asked = client.responses.create(model=MODEL, input=[question], tools=[WEATHER], store=False)
    call = _call(asked)
    history = [question, *(item.model_dump(exclude_unset=True) for item in asked.output)]
    answered = client.responses.create(
        model=MODEL,
        input=[*history, {"type": "function_call_output", "call_id": call.call_id, "output": REPORT}],
        tools=[WEATHER],
        store=False,
    )
    completed(answered)


@pytest.mark.feature("Responses", "function-call round trip")
async def test_function_call_round_trip_streamed_async(aclient: AsyncOpenAI) -> None:
    async with aclient.responses.stream(
        model=MODEL, input="What's the weather in Nice? Use the get_weather tool.", tools=[WEATHER]
    ) as stream:
        asked = await stream.get_final_response()
    call = _call(asked)
    assert call.parsed_arguments == json.loads(call.arguments)  # a strict tool: the helper parses it
    answered = await aclient.responses.create(
        model=MODEL,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": REPORT}],
        previous_response_id=asked.id,
        tools=[WEATHER],
    )
    completed(answered)


@pytest.mark.feature("Responses", "hosted tools dropped and named")
def test_hosted_tools_are_named_as_dropped(client: OpenAI) -> None:
    raw = client.responses.with_raw_response.create(
        model=MODEL, input="Say hi to the night shift.", tools=[WEATHER, {"type": "web_search_preview"}]
    )
    assert dropped(raw.headers) == {"tools.web_search_preview"}
    completed(raw.parse())


# --- images, PDFs, reasoning ----------------------------------------------------------------------------


@pytest.mark.feature("Responses", "image input (data URI)")
def test_image_by_data_uri(client: OpenAI) -> None:
    content = [
        {"type": "input_text", "text": "What colour is this square? One word."},
        {"type": "input_image", "image_url": png_data_url((30, 60, 220)), "detail": "auto"},
    ]
    completed(client.responses.create(model=MODEL, input=[{"role": "user", "content": content}]))


@pytest.mark.feature("Responses", "PDF input (file_data)")
def test_pdf_by_file_data(client: OpenAI) -> None:
    pdf = base64.b64encode(text_pdf("Invoice 42: total due 1300 euros")).decode()
    content = [
        {"type": "input_file", "filename": "invoice.pdf", "file_data": f"data:application/pdf;base64,{pdf}"},
        {"type": "input_text", "text": "What is the total due on this invoice?"},
    ]
    completed(client.responses.create(model=MODEL, input=[{"role": "user", "content": content}]))


@pytest.mark.feature("Responses", "reasoning model (reasoning.effort)")
def test_reasoning_model(client: OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, input="Is 221 a prime number? Answer yes or no.", reasoning={"effort": "high"}
    )
    completed(response)
    kinds = [item.type for item in response.output]
    assert kinds[0] == "reasoning" and "message" in kinds
    thought = response.output[0].content[0].text  # type: ignore[union-attr]
    assert thought and thought not in response.output_text
    assert response.reasoning is not None and response.reasoning.effort == "high"


@pytest.mark.feature("Responses", "reasoning model (reasoning.effort)")
def test_reasoning_streamed_and_sent_back(client: OpenAI) -> None:
    with client.responses.stream(
        model=MODEL, input="Is 187 a prime number? Answer yes or no.", reasoning={"effort": "high"}
    ) as stream:
        kinds = {event.type for event in stream}
        first = stream.get_final_response()
    assert "response.reasoning_text.delta" in kinds
    history = [{"role": "user", "content": "Is 187 a prime number? Answer yes or no."}]
    history += [item.model_dump(exclude_unset=True) for item in first.output]
    follow = client.responses.create(
        model=MODEL, input=[*history, {"role": "user", "content": "Why?"}], reasoning={"effort": "high"}
    )
    completed(follow)


@pytest.mark.feature("Responses", "truncation")
@pytest.mark.targets("shim+mock", "shim+replay")  # a 30,000-token request is not worth spending live
def test_truncation_auto_keeps_the_newest_items(client: OpenAI) -> None:
    paragraph = "The lighthouse keeper logged the weather, the ships and the tides every hour. " * 40
    history = [{"role": "user", "content": f"Log page {n}. {paragraph}"} for n in range(90)]
    small = "mistral-small-2501"  # 32k tokens of context in Mistral's catalogue
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=small, input=history)
    assert refused.value.code == "context_length_exceeded"
    response = client.responses.create(model=small, input=history, truncation="auto", max_output_tokens=64)
    assert response.truncation == "auto" and response.output


@pytest.mark.feature("Responses", "input token count")
def test_input_token_count(client: OpenAI) -> None:
    short = client.responses.input_tokens.count(model=MODEL, input="Count me.")
    longer = client.responses.input_tokens.count(
        model=MODEL, input="Count me. " * 20, instructions="Be brief."
    )
    assert 0 < short.input_tokens < longer.input_tokens


@pytest.mark.feature("Responses", "served without /v1")
def test_the_base_url_without_v1(target: Target, client: OpenAI) -> None:
    bare = client.with_options(base_url=target.root_url)
    made = bare.responses.create(model=MODEL, input="Greet the morning crew without a version prefix.")
    assert bare.responses.retrieve(made.id).id == made.id
