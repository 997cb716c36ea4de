"""Embeddings with the openai client: the default encoding, floats, ``dimensions``, batches, token ids.

The openai Python SDK sends ``encoding_format: "base64"`` whenever its caller chose none, and decodes a
string answer as little-endian float32. Mistral accepts the value but answers a JSON list of floats anyway
(failure catalogue #40; openai-node decodes that list into 256 zeros). This SDK only decodes strings, so it
still gets the right vectors from the mock: the test asserts exactly that, and what the wire carried. The
shim always asks Mistral for floats and encodes base64 itself, byte for byte as OpenAI does.

``dimensions`` is Mistral's ``output_dimension`` and ``user`` has no Mistral equivalent (catalogue #42):
both are a 422 ``extra_forbidden`` without the shim. A batch over Mistral's 16,384-token limit is a 400
without the shim (catalogue #41) and is split into several requests behind it.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Sequence

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types import CreateEmbeddingResponse

from contract_tests.conftest import Breaks

MODEL = "mistral-embed"
WIDTH = 1024
CODE_MODEL = "codestral-embed"
TEXTS = ["The cat sat on the mat.", "Quarterly revenue grew by four percent."]
TOLERANCE = 1e-4
"""Vectors asked for twice are compared this closely: float32 rounding, and live answers that vary a hair."""


def _vectors(reply: CreateEmbeddingResponse) -> list[list[float]]:
    assert reply.object == "list"
    assert [item.index for item in reply.data] == list(range(len(reply.data)))
    assert all(item.object == "embedding" for item in reply.data)
    return [list(item.embedding) for item in reply.data]


def _assert_same(got: Sequence[Sequence[float]], expected: Sequence[Sequence[float]]) -> None:
    assert [len(vector) for vector in got] == [len(vector) for vector in expected]
    for one, other in zip(got, expected, strict=True):
        assert one == pytest.approx(other, abs=TOLERANCE)


def _assert_unit(vector: Sequence[float]) -> None:
    """Mistral's embeddings are normalised; an all-zero vector (catalogue #40's symptom) is not."""
    assert math.sqrt(sum(value * value for value in vector)) == pytest.approx(1.0, abs=1e-2)


def _wire_embeddings(body: bytes) -> list[object]:
    return [item["embedding"] for item in json.loads(body)["data"]]


@pytest.mark.feature("Embeddings", "SDK default encoding (base64)")
def test_default_encoding_gives_the_right_vectors(client: OpenAI, breaks: Breaks) -> None:
    raw = client.embeddings.with_raw_response.create(model=MODEL, input=TEXTS)
    default = _vectors(raw.parse())
    floats = _vectors(client.embeddings.create(model=MODEL, input=TEXTS, encoding_format="float"))
    assert [len(vector) for vector in default] == [WIDTH, WIDTH]
    _assert_same(default, floats)
    for vector in default:
        _assert_unit(vector)
    wire = _wire_embeddings(raw.http_response.content)
    if breaks.expected:
        # Mistral ignores base64 and answers floats; this SDK leaves a list alone, so nothing is lost.
        assert all(isinstance(item, list) and len(item) == WIDTH for item in wire)
    else:
        # OpenAI's base64: little-endian float32, 4 bytes per dimension.
        assert all(isinstance(item, str) for item in wire)
        decoded = [list(struct.unpack(f"<{WIDTH}f", base64.b64decode(item))) for item in wire]  # type: ignore[arg-type]
        _assert_same(decoded, floats)


@pytest.mark.feature("Embeddings", "SDK default encoding (base64)")
async def test_default_encoding_gives_the_right_vectors_async(aclient: AsyncOpenAI) -> None:
    default = _vectors(await aclient.embeddings.create(model=MODEL, input=TEXTS[0]))
    floats = _vectors(await aclient.embeddings.create(model=MODEL, input=TEXTS[0], encoding_format="float"))
    assert len(default) == 1 and len(default[0]) == WIDTH
    _assert_unit(default[0])
    _assert_same(default, floats)


@pytest.mark.feature("Embeddings", "encoding_format=float")
def test_float_encoding(client: OpenAI) -> None:
    reply = client.embeddings.create(model=MODEL, input=TEXTS, encoding_format="float")
    vectors = _vectors(reply)
    assert [len(vector) for vector in vectors] == [WIDTH, WIDTH]
    assert all(isinstance(value, float) for value in vectors[0])
    assert vectors[0] != vectors[1]
    assert reply.model == MODEL
    assert reply.usage.prompt_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens


@pytest.mark.feature("Embeddings", "batch input, in order")
def test_a_batch_keeps_its_order(client: OpenAI) -> None:
    texts = [f"Item number {index}: a short line of text." for index in range(5)]
    batch = _vectors(client.embeddings.create(model=MODEL, input=texts, encoding_format="float"))
    assert len(batch) == len(texts)
    alone = [
        _vectors(client.embeddings.create(model=MODEL, input=texts[index], encoding_format="float"))[0]
        for index in (0, 3)
    ]
    _assert_same([batch[0], batch[3]], alone)


@pytest.mark.feature("Embeddings", "batch over Mistral's 16,384 tokens")
def test_a_batch_over_mistrals_token_limit(client: OpenAI, breaks: Breaks) -> None:
    """Three texts of about 6,000 tokens each: under the limit one by one, over it together."""
    texts = [f"Part {index}. " + "hello world " * 2000 for index in range(3)]
    how = "a batch over 16,384 tokens → 400 Too many tokens in batch"
    with breaks(openai.BadRequestError, how) as raised:
        reply = client.embeddings.create(model=MODEL, input=texts, encoding_format="float")
        vectors = _vectors(reply)
        assert [len(vector) for vector in vectors] == [WIDTH] * 3
        assert reply.usage.prompt_tokens > 16384
        last = _vectors(client.embeddings.create(model=MODEL, input=texts[2], encoding_format="float"))
        _assert_same(vectors[2:], last)
    if breaks.expected:
        assert "Too many tokens in batch. Max is 16384" in raised.value.message


@pytest.mark.feature("Embeddings", "dimensions (Mistral's output_dimension)")
def test_dimensions(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.UnprocessableEntityError, "dimensions → 422 extra_forbidden (output_dimension)"):
        reply = client.embeddings.create(
            model=CODE_MODEL, input="def add(a, b): return a + b", dimensions=256, encoding_format="float"
        )
        (vector,) = _vectors(reply)
        assert len(vector) == 256
        _assert_unit(vector)


@pytest.mark.feature("Embeddings", "dimensions (Mistral's output_dimension)")
async def test_dimensions_with_the_default_encoding_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    with breaks(openai.UnprocessableEntityError, "dimensions → 422 extra_forbidden (output_dimension)"):
        reply = await aclient.embeddings.create(model=CODE_MODEL, input=TEXTS, dimensions=512)
        assert [len(vector) for vector in _vectors(reply)] == [512, 512]


@pytest.mark.feature("Embeddings", "dimensions (Mistral's output_dimension)")
def test_mistrals_own_output_dimension_through_extra_body(client: OpenAI) -> None:
    """The Mistral name, sent with ``extra_body``, works with and without the shim."""
    reply = client.embeddings.create(
        model=CODE_MODEL, input="SELECT 1;", encoding_format="float", extra_body={"output_dimension": 128}
    )
    assert [len(vector) for vector in _vectors(reply)] == [128]


@pytest.mark.feature("Embeddings", "dimensions (Mistral's output_dimension)")
def test_dimensions_on_a_model_without_them_is_a_readable_400(client: OpenAI, breaks: Breaks) -> None:
    with (
        breaks(openai.UnprocessableEntityError, "dimensions → 422 extra_forbidden (output_dimension)"),
        pytest.raises(openai.BadRequestError) as raised,
    ):
        client.embeddings.create(model=MODEL, input="hello", dimensions=256, encoding_format="float")
    if not breaks.expected:
        assert "dimension" in raised.value.message and MODEL in raised.value.message


@pytest.mark.feature("Embeddings", "token-id input")
@pytest.mark.parametrize("tokens", [[1, 2, 3], [[1, 2, 3], [4, 5]]], ids=["ids", "lists-of-ids"])
def test_token_ids_are_refused_clearly(client: OpenAI, breaks: Breaks, tokens: list[object]) -> None:
    """Mistral embeds text only: the shim says so in a 400 on ``input``; Mistral says 422."""
    with (
        breaks(openai.UnprocessableEntityError, "token ids → 422 (input must be text)"),
        pytest.raises(openai.BadRequestError) as raised,
    ):
        client.embeddings.create(model=MODEL, input=tokens, encoding_format="float")  # type: ignore[arg-type]
    if not breaks.expected:
        assert raised.value.param == "input"
        assert "token ids" in raised.value.message


@pytest.mark.feature("Embeddings", "user (OpenAI-only, dropped)")
def test_user_is_dropped_and_named(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.UnprocessableEntityError, "user → 422 extra_forbidden"):
        raw = client.embeddings.with_raw_response.create(
            model=MODEL, input="hello", user="user-1234", encoding_format="float"
        )
        assert len(_vectors(raw.parse())[0]) == WIDTH
        assert raw.headers["x-shim-dropped-params"] == "user"
