"""Synthetic embeddings: per-text determinism, unit norm, widths and every output dtype."""

import json
from typing import Any

import numpy as np
import pytest

from mistral_wire.contract.errors import MistralError
from mockserver import validation
from mockserver.sources.synthetic import answers


def embed(**body: Any) -> dict[str, Any]:
    """The synthetic answer to a request the contract accepts (its refusal raised otherwise)."""
    raw = json.dumps({"model": "mistral-embed", **body}).encode()
    return answers.embeddings(validation.accept("/v1/embeddings", raw, None)).json(0)


def vectors(body: dict[str, Any]) -> list[np.ndarray]:
    return [np.array(item["embedding"], dtype=float) for item in body["data"]]


def test_shape_and_usage() -> None:
    body = embed(input=["first text", "second text"])
    assert list(body) == ["id", "object", "data", "model", "usage"]
    assert [item["index"] for item in body["data"]] == [0, 1]
    assert list(body["data"][0]) == ["object", "embedding", "index"]
    usage = body["usage"]
    assert usage["completion_tokens"] == 0 and usage["prompt_tokens"] == usage["total_tokens"] > 0


def test_unit_norm_at_float16_precision() -> None:
    for vector in vectors(embed(input=["a", "b", "c"])):
        assert len(vector) == 1024
        assert abs(np.linalg.norm(vector) - 1) < 2e-3
        assert np.array_equal(vector, vector.astype(np.float16).astype(float))


def test_a_text_has_one_vector_wherever_it_sits() -> None:
    alone = vectors(embed(input="the same text"))[0]
    batch = vectors(embed(input=["other", "the same text", "more"]))
    assert np.array_equal(alone, batch[1])
    assert not np.array_equal(batch[0], batch[1])


def test_codestral_widths_are_consistent_prefixes() -> None:
    full = vectors(embed(model="codestral-embed", input="def f(): pass", output_dimension=3072))[0]
    default = vectors(embed(model="codestral-embed", input="def f(): pass"))[0]
    narrow = vectors(embed(model="codestral-embed", input="def f(): pass", output_dimension=256))[0]
    assert (len(full), len(default), len(narrow)) == (3072, 1536, 256)
    # A narrower vector points the same way as the wider one's prefix.
    prefix = full[:256] / np.linalg.norm(full[:256])
    assert float(prefix @ narrow) > 0.999


@pytest.mark.parametrize(
    ("dtype", "length", "low", "high"),
    [
        ("int8", 1024, -128, 127),
        ("uint8", 1024, 0, 255),
        ("binary", 128, -128, 127),
        ("ubinary", 128, 0, 255),
    ],
)
def test_output_dtypes(dtype: str, length: int, low: int, high: int) -> None:
    values = embed(input="text", output_dtype=dtype)["data"][0]["embedding"]
    assert len(values) == length
    assert all(isinstance(v, int) and low <= v <= high for v in values)


def test_binary_packs_the_signs_of_the_float_vector() -> None:
    floats = vectors(embed(input="text"))[0]
    packed = np.array(embed(input="text", output_dtype="ubinary")["data"][0]["embedding"], dtype=np.uint8)
    assert np.array_equal(np.unpackbits(packed), (floats > 0).astype(np.uint8))


def test_base64_is_answered_with_numbers_as_mistral_does() -> None:
    assert (
        embed(input="x", encoding_format="base64")["data"][0]["embedding"]
        == embed(input="x")["data"][0]["embedding"]
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"output_dimension": 256}, "output_dimension is not supported for model mistral-embed"),
        (
            {"model": "codestral-embed", "output_dimension": 4096},
            "output_dimension must be less than or equal to 3072, got 4096",
        ),
    ],
)
def test_widths_the_model_cannot_give(body: dict[str, Any], message: str) -> None:
    with pytest.raises(MistralError) as refused:
        embed(input="x", **body)
    assert (refused.value.status, refused.value.body["message"]) == (400, message)
