"""Legacy ``client.completions.create``: what code-completion clients (editor plugins, Continue, Tabby) call.

Mistral has no ``/v1/completions``. A prompt with a ``suffix`` is exactly its fill-in-the-middle endpoint
(codestral); any other prompt is one user turn on chat. Behind the shim both come back as OpenAI's
``text_completion``, streamed or not. Without the shim the route does not exist at all: Mistral's gateway
answers 404 ``no Route matched with those values`` (MISTRAL-CONTRACT §8), which the openai SDK raises as
``NotFoundError`` before any parameter is looked at.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types import Completion

from contract_tests.conftest import Breaks

FIM_MODEL = "codestral-latest"
CHAT_MODEL = "mistral-small-latest"
PREFIX = "def fibonacci(n: int) -> int:\n    "
SUFFIX = "\n\nprint(fibonacci(10))\n"
NO_ROUTE = "no /v1/completions route → 404 NotFoundError (no Route matched)"


def _assert_text_completion(reply: Completion, model: str) -> str:
    """The reply is one finished ``text_completion`` with text and consistent usage; returns the text."""
    assert reply.object == "text_completion"
    assert reply.model == model
    assert len(reply.choices) == 1
    choice = reply.choices[0]
    assert choice.index == 0
    assert isinstance(choice.text, str) and choice.text.strip()
    assert choice.finish_reason in ("stop", "length")
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    return choice.text


def _assert_streamed(chunks: list[Completion], model: str) -> None:
    """Text chunks, one finish reason on the last text chunk, then the usage chunk asked for."""
    *texts, usage = chunks
    assert texts, "no text chunk before the usage chunk"
    assert all(chunk.object == "text_completion" and chunk.model == model for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1, "every chunk of one completion shares its id"
    assert "".join(chunk.choices[0].text for chunk in texts).strip()
    assert [chunk.choices[0].finish_reason for chunk in texts[:-1]] == [None] * (len(texts) - 1)
    assert texts[-1].choices[0].finish_reason in ("stop", "length")
    assert all(chunk.usage is None for chunk in texts)
    # stream_options.include_usage: OpenAI's closing chunk with no choices and the usage.
    assert usage.choices == []
    assert usage.usage is not None
    assert usage.usage.total_tokens == usage.usage.prompt_tokens + usage.usage.completion_tokens


FIM: dict[str, Any] = {"model": FIM_MODEL, "prompt": PREFIX, "suffix": SUFFIX, "max_tokens": 48}
PLAIN: dict[str, Any] = {"model": CHAT_MODEL, "prompt": "Write one sentence about the sea.", "max_tokens": 40}
STREAM: dict[str, Any] = {**FIM, "stream": True, "stream_options": {"include_usage": True}}


@pytest.mark.feature("Legacy completions", "fill-in-the-middle (prompt + suffix, codestral)")
def test_fim_with_suffix(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.NotFoundError, NO_ROUTE):
        reply = client.completions.create(**FIM)
        _assert_text_completion(reply, FIM_MODEL)


@pytest.mark.feature("Legacy completions", "fill-in-the-middle (prompt + suffix, codestral)")
async def test_fim_with_suffix_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    with breaks(openai.NotFoundError, NO_ROUTE):
        reply = await aclient.completions.create(**FIM)
        _assert_text_completion(reply, FIM_MODEL)


@pytest.mark.feature("Legacy completions", "plain prompt (no suffix: one chat turn)")
def test_prompt_without_suffix(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.NotFoundError, NO_ROUTE):
        reply = client.completions.create(**PLAIN)
        _assert_text_completion(reply, CHAT_MODEL)


@pytest.mark.feature("Legacy completions", "plain prompt (no suffix: one chat turn)")
def test_codestral_without_suffix_still_completes_code(client: OpenAI, breaks: Breaks) -> None:
    """A codestral model with only a prompt (an editor at the end of a file) is a FIM with no suffix."""
    with breaks(openai.NotFoundError, NO_ROUTE):
        reply = client.completions.create(model=FIM_MODEL, prompt=PREFIX, max_tokens=32)
        _assert_text_completion(reply, FIM_MODEL)


@pytest.mark.feature("Legacy completions", "streaming, with include_usage")
def test_fim_stream(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.NotFoundError, NO_ROUTE):
        _assert_streamed(list(client.completions.create(**STREAM)), FIM_MODEL)


@pytest.mark.feature("Legacy completions", "streaming, with include_usage")
async def test_fim_stream_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    with breaks(openai.NotFoundError, NO_ROUTE):
        stream = await aclient.completions.create(**STREAM)
        _assert_streamed([chunk async for chunk in stream], FIM_MODEL)


@pytest.mark.feature("Legacy completions", "streaming, with include_usage")
def test_chat_routed_stream_sends_no_usage_unless_asked(client: OpenAI, breaks: Breaks) -> None:
    """Without include_usage no chunk carries usage, as OpenAI streams it (Mistral puts it on the last)."""
    with breaks(openai.NotFoundError, NO_ROUTE):
        chunks = list(client.completions.create(**PLAIN, stream=True))
        assert chunks and all(chunk.choices for chunk in chunks)
        assert all(chunk.usage is None for chunk in chunks)
        assert chunks[-1].choices[0].finish_reason in ("stop", "length")
        assert "".join(chunk.choices[0].text for chunk in chunks).strip()


@pytest.mark.feature("Legacy completions", "refusals name the parameter")
def test_suffix_for_a_model_without_fim_is_refused_clearly(client: OpenAI, breaks: Breaks) -> None:
    """Sent to Mistral's FIM endpoint it would read "Invalid model"; the shim says what is wrong."""
    with breaks(openai.NotFoundError, NO_ROUTE), pytest.raises(openai.BadRequestError) as raised:
        client.completions.create(model=CHAT_MODEL, prompt=PREFIX, suffix=SUFFIX)
    if not breaks.expected:
        assert raised.value.param == "suffix"
        assert "codestral" in raised.value.message and "suffix" in raised.value.message


@pytest.mark.feature("Legacy completions", "refusals name the parameter")
async def test_several_prompts_are_refused_clearly_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    """Mistral completes one text per request: a list of prompts is a 400 naming ``prompt``."""
    with breaks(openai.NotFoundError, NO_ROUTE), pytest.raises(openai.BadRequestError) as raised:
        await aclient.completions.create(model=FIM_MODEL, prompt=["def a():", "def b():"])
    if not breaks.expected:
        assert raised.value.param == "prompt"
        assert "one prompt" in raised.value.message
