"""Image parts in chat messages: ``data:`` URLs, ``https`` URLs, ``detail``, several images, streams.

OpenAI's ``image_url`` part is Mistral's chunk of the same name, ``detail`` included (low, auto, high), so
images work straight at Mistral: the ``mock`` column of every row here is expected to pass unchanged, and
the shim must not spoil that. A model without the vision capability refuses images with the same 400 on
every target. The images are built in ``payloads.py`` (a PNG made byte for byte the same on every run) or
are a public URL the live API has fetched before; the mock fetches nothing.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion

from contract_tests.payloads import HTTPS_IMAGE, TEXT_ONLY_MODEL, VISION_MODEL, image_question, png_data_url

RED = png_data_url((200, 40, 40))
BLUE = png_data_url((40, 40, 200))


def described(reply: ChatCompletion) -> str:
    """The text of a one-choice answer about the image."""
    assert reply.model == VISION_MODEL
    choice = reply.choices[0]
    assert choice.finish_reason == "stop"
    assert isinstance(choice.message.content, str) and choice.message.content
    assert reply.usage is not None and reply.usage.prompt_tokens > 0
    return choice.message.content


@pytest.mark.feature("Images", "data: URL image")
def test_a_data_url_image_is_seen(client: OpenAI) -> None:
    assert described(client.chat.completions.create(model=VISION_MODEL, messages=image_question(RED)))


@pytest.mark.feature("Images", "data: URL image")
async def test_a_data_url_image_is_seen_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.create(model=VISION_MODEL, messages=image_question(BLUE))
    assert described(reply)


@pytest.mark.feature("Images", "https URL image")
def test_an_https_image_is_seen(client: OpenAI) -> None:
    messages = image_question(HTTPS_IMAGE, text="What is in this picture?")
    assert described(client.chat.completions.create(model=VISION_MODEL, messages=messages))


@pytest.mark.feature("Images", "https URL image")
async def test_an_https_image_is_seen_async(aclient: AsyncOpenAI) -> None:
    messages = image_question(HTTPS_IMAGE, text="Describe this picture in one sentence.")
    assert described(await aclient.chat.completions.create(model=VISION_MODEL, messages=messages))


@pytest.mark.feature("Images", "detail (low, auto, high)")
@pytest.mark.parametrize("detail", ["low", "auto", "high"])
def test_the_detail_of_an_image_part_is_accepted(client: OpenAI, detail: str) -> None:
    reply = client.chat.completions.create(model=VISION_MODEL, messages=image_question(RED, detail=detail))
    assert described(reply)


@pytest.mark.feature("Images", "several images in one turn")
def test_several_images_in_one_turn(client: OpenAI) -> None:
    messages: list[Any] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Which of these two images is red?"},
                {"type": "image_url", "image_url": {"url": RED}},
                {"type": "image_url", "image_url": {"url": BLUE, "detail": "low"}},
            ],
        }
    ]
    assert described(client.chat.completions.create(model=VISION_MODEL, messages=messages))


@pytest.mark.feature("Images", "an image earlier in the history")
def test_an_image_earlier_in_the_history(client: OpenAI) -> None:
    messages: list[Any] = [
        *image_question(RED),
        {"role": "assistant", "content": "The image is a red square."},
        {"role": "user", "content": "And what shape was it?"},
    ]
    assert described(client.chat.completions.create(model=VISION_MODEL, messages=messages))


@pytest.mark.feature("Images", "an image in a streamed request")
def test_an_image_in_a_streamed_request(client: OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(model=VISION_MODEL, messages=image_question(RED), stream=True)
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    finishes = [
        chunk.choices[0].finish_reason for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason
    ]
    assert text
    assert finishes == ["stop"]


@pytest.mark.feature("Images", "an image in a streamed request")
async def test_an_image_in_a_streamed_request_async(aclient: AsyncOpenAI) -> None:
    async with aclient.chat.completions.stream(model=VISION_MODEL, messages=image_question(BLUE)) as stream:
        final = await stream.get_final_completion()
    assert final.model == VISION_MODEL
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content


@pytest.mark.feature("Images", "a model without vision")
def test_a_model_without_vision_refuses_images(client: OpenAI) -> None:
    # The same 400 with or without the shim: the shim passes Mistral's reason on, readable.
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=TEXT_ONLY_MODEL, messages=image_question(RED))
    assert "does not have the 'vision' capability" in refused.value.message


@pytest.mark.feature("Images", "a model without vision")
async def test_a_model_without_vision_refuses_images_async(aclient: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await aclient.chat.completions.create(model=TEXT_ONLY_MODEL, messages=image_question(BLUE))
    assert "does not have the 'vision' capability" in refused.value.message
