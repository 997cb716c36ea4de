"""Embeddings (table, base64, batch splitting and merging) and models (OpenAI's list shape, aliases).

The embeddings table is checked row by row like the chat table, against Mistral's own request model; the
base64 the shim produces is checked byte for byte against what OpenAI sends (little-endian float32).
"""

import array
import base64
import struct
from typing import Any

import pytest
from openai import OpenAI

from mistral_wire import tokens
from mistral_wire.contract.catalogue import lookup
from mistral_wire.contract.limits import EMBEDDING_BATCH_TOKENS as BATCH_TOKEN_LIMIT
from mistral_wire.contract.requests import EmbeddingRequest
from shim.translate import embeddings, models
from shim.translate.context import Options
from shim.translate.problem import OpenAIError

DROP = Options()
ERROR = Options(unsupported="error")
EMBED = "mistral-embed"


def plan(options: Options = DROP, **fields: Any) -> embeddings.EmbeddingPlan:
    return embeddings.translate_embedding_request({"model": EMBED, "input": "hello", **fields}, options)


def only_body(result: embeddings.EmbeddingPlan) -> dict[str, Any]:
    assert len(result.bodies) == 1
    EmbeddingRequest.model_validate(result.bodies[0])
    return result.bodies[0]


# --- the table, row by row ----------------------------------------------------------------------------------


def test_model_resolves_aliases() -> None:
    aliased = Options(aliases={"text-embedding-3-small": EMBED})
    assert only_body(plan(aliased, model="text-embedding-3-small"))["model"] == EMBED
    assert only_body(plan(aliased, model="codestral-embed"))["model"] == "codestral-embed"


@pytest.mark.parametrize("value", ["one text", ["two", "texts"]])
def test_input_text_is_sent_as_it_came(value: Any) -> None:
    assert only_body(plan(input=value))["input"] == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([1, 2, 3], "not token ids"),
        ([[1, 2], [3]], "not token ids"),
        ([], "must not be an empty array"),
        (42, "must be a string or an array of strings"),
        (["text", 3], "must be a string or an array of strings"),
    ],
)
def test_input_mistral_cannot_embed_is_refused(value: Any, fragment: str) -> None:
    with pytest.raises(OpenAIError) as caught:
        plan(input=value)
    assert (caught.value.status, caught.value.param) == (400, "input")
    assert fragment in caught.value.message


def test_missing_input_is_refused() -> None:
    with pytest.raises(OpenAIError) as caught:
        embeddings.translate_embedding_request({"model": EMBED}, DROP)
    assert caught.value.param == "input"


def test_dimensions_is_sent_as_output_dimension() -> None:
    body = only_body(plan(model="codestral-embed", dimensions=256))
    assert body["output_dimension"] == 256 and "dimensions" not in body


@pytest.mark.parametrize("value", [0, -3, "256", True, 1.5])
def test_dimensions_that_is_not_a_positive_integer_is_refused(value: Any) -> None:
    with pytest.raises(OpenAIError) as caught:
        plan(dimensions=value)
    assert (caught.value.status, caught.value.param) == (400, "dimensions")


# Without encoding_format a client gets floats, as OpenAI's API answers: the openai SDK sends "base64"
# itself when its caller gives nothing, so only plain HTTP clients send none.
@pytest.mark.parametrize(("given", "client"), [("float", "float"), ("base64", "base64"), (None, "float")])
def test_mistral_is_always_asked_for_floats(given: Any, client: str) -> None:
    fields = {} if given is None else {"encoding_format": given}
    result = plan(**fields)
    assert only_body(result)["encoding_format"] == "float"
    assert result.encoding == client


def test_an_unknown_encoding_format_is_refused() -> None:
    with pytest.raises(OpenAIError) as caught:
        plan(encoding_format="int8")
    assert (caught.value.status, caught.value.param) == (400, "encoding_format")


def test_user_is_dropped_and_named_or_refused() -> None:
    result = plan(user="u-1")
    assert "user" not in only_body(result) and result.dropped == ("user",)
    with pytest.raises(OpenAIError) as caught:
        plan(ERROR, user="u-1")
    assert (caught.value.status, caught.value.param, caught.value.code) == (
        400,
        "user",
        "unsupported_parameter",
    )


@pytest.mark.parametrize("key", ["dimensions", "user", "encoding_format"])
def test_an_explicit_null_is_the_default(key: str) -> None:
    result = plan(ERROR, **{key: None})
    assert only_body(result) == only_body(plan())  # the same as leaving the field out
    assert (result.encoding, result.dropped) == ("float", ())


def test_every_embeddings_row_has_a_test_above() -> None:
    assert set(embeddings.FIELDS) == {"model", "input", "dimensions", "encoding_format", "user"}
    assert {key: row.fate for key, row in embeddings.FIELDS.items()} == {
        "model": "convert",
        "input": "keep",
        "dimensions": "rename",
        "encoding_format": "convert",
        "user": "drop",
    }


@pytest.mark.parametrize(
    ("key", "value"), [("output_dtype", "int8"), ("metadata", {"job": "x"}), ("output_dimension", 512)]
)
def test_mistral_only_fields_pass(key: str, value: Any) -> None:
    result = plan(ERROR, model="codestral-embed", **{key: value})
    assert only_body(result)[key] == value and result.dropped == ()


def test_dimensions_wins_over_output_dimension_in_either_order() -> None:
    for fields in (
        {"dimensions": 256, "output_dimension": 512},
        {"output_dimension": 512, "dimensions": 256},
    ):
        assert only_body(plan(model="codestral-embed", **fields))["output_dimension"] == 256


def test_an_unknown_field_is_dropped_or_refused() -> None:
    result = plan(truncate="END")
    assert "truncate" not in only_body(result) and result.dropped == ("truncate",)
    with pytest.raises(OpenAIError) as caught:
        plan(ERROR, truncate="END")
    assert caught.value.param == "truncate"


# --- batches over Mistral's token limit ---------------------------------------------------------------------


def test_split_batches_is_greedy_and_keeps_order() -> None:
    texts = ["a b c", "d e f g h i", "j", "a b c", "k l m n o p q r s t u v w x y z"]
    costs = [tokens.count(text, "tekken") for text in texts]
    limit = costs[0] + costs[1]
    sizes = embeddings.split_batches(texts, "tekken", limit)
    assert sum(sizes) == len(texts)
    start = 0
    for size in sizes:
        batch = sum(costs[start : start + size])
        assert batch <= limit or size == 1
        end = start + size
        # Greedy: a batch ends only where the next text would not have fitted in it.
        assert end == len(texts) or batch + costs[end] > limit
        start = end
    assert sizes[0] == 2


def test_a_text_over_the_limit_alone_goes_alone() -> None:
    assert embeddings.split_batches(["short", "long " * 50, "short"], "tekken", 10) == [1, 1, 1]


def long_texts(count: int) -> list[str]:
    return [
        f"Part {n}. " + "the river ran past the mill and the old stone bridge " * 300 for n in range(count)
    ]


def test_a_large_batch_becomes_several_requests_in_order() -> None:
    texts = long_texts(6)
    tokenizer = lookup(EMBED).tokenizer  # type: ignore[union-attr]
    assert sum(tokens.count(text, tokenizer) for text in texts) > BATCH_TOKEN_LIMIT
    result = plan(input=texts, encoding_format="base64", dimensions=None)
    assert len(result.bodies) >= 2 and sum(result.sizes) == 6
    assert [text for body in result.bodies for text in body["input"]] == texts
    for body in result.bodies:
        EmbeddingRequest.model_validate(body)
        assert sum(tokens.count(text, tokenizer) for text in body["input"]) <= BATCH_TOKEN_LIMIT
        assert body["encoding_format"] == "float"


# --- merging Mistral's answers ------------------------------------------------------------------------------


def mistral_answer(vectors: list[list[float]], prompt_tokens: int, shuffled: bool = False) -> dict[str, Any]:
    data = [{"object": "embedding", "embedding": v, "index": i} for i, v in enumerate(vectors)]
    return {
        "id": "27f8324828d34f1d9a87575da7b5aecb",
        "object": "list",
        "data": list(reversed(data)) if shuffled else data,
        "model": EMBED,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens, "completion_tokens": 0},
    }


VECTORS = [[0.5, -0.25], [1.0, 2.0], [-0.0165863037109375, 3.0]]


def test_answers_merge_in_order_with_continuous_indexes_and_summed_usage() -> None:
    two_parts = embeddings.EmbeddingPlan(({}, {}), (2, 1), "float")
    merged = embeddings.merge_embedding_responses(
        two_parts, [mistral_answer(VECTORS[:2], 10, shuffled=True), mistral_answer(VECTORS[2:], 5)]
    )
    assert merged == {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(VECTORS)],
        "model": EMBED,
        "usage": {"prompt_tokens": 15, "total_tokens": 15},
    }


def test_base64_is_little_endian_float32_of_the_floats() -> None:
    merged = embeddings.merge_embedding_responses(
        embeddings.EmbeddingPlan(({},), (3,), "base64"), [mistral_answer(VECTORS, 3)]
    )
    encoded = [item["embedding"] for item in merged["data"]]
    assert encoded == [base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() for v in VECTORS]
    assert encoded[0] == "AAAAPwAAgL4="  # 0.5, -0.25 as OpenAI sends them
    # What the openai SDK does with it (lib/_parsing/_embeddings.py without numpy):
    assert [array.array("f", base64.b64decode(e)).tolist() for e in encoded] == VECTORS


def test_a_wrong_count_or_shape_from_mistral_is_a_bad_gateway() -> None:
    with pytest.raises(OpenAIError) as caught:
        embeddings.merge_embedding_responses(
            embeddings.EmbeddingPlan(({},), (3,), "float"), [mistral_answer(VECTORS[:2], 1)]
        )
    assert (caught.value.status, caught.value.code) == (502, "upstream_bad_body")
    broken = mistral_answer(VECTORS[:1], 1)
    broken["data"][0]["embedding"] = "AAAAPw=="
    with pytest.raises(OpenAIError):
        embeddings.merge_embedding_responses(embeddings.EmbeddingPlan(({},), (1,), "float"), [broken])


def test_the_sdk_gets_the_mocks_vectors_from_a_split_batch(shim_client: OpenAI, http: Any) -> None:
    texts = long_texts(5)
    answer = shim_client.embeddings.create(model=EMBED, input=texts)  # the SDK asks for base64
    singles = [
        http.post("/v1/embeddings", json={"model": EMBED, "input": t}).json()["data"][0]["embedding"]
        for t in texts
    ]
    float32 = [array.array("f", struct.pack(f"<{len(v)}f", *v)).tolist() for v in singles]
    assert [item.embedding for item in answer.data] == float32


# --- models -------------------------------------------------------------------------------------------------

CARD = {
    "id": "mistral-small-latest",
    "object": "model",
    "created": 1767094366,
    "owned_by": "mistralai",
    "capabilities": {"completion_chat": True, "function_calling": True},
    "name": "mistral-small-2603",
    "max_context_length": 131072,
    "aliases": ["mistral-small-2603"],
    "deprecation": None,
    "type": "base",
}
OLD = {**CARD, "id": "open-mistral-7b", "deprecation": "2026-01-31T12:00:00Z"}


def test_a_model_card_has_openais_keys_first_and_keeps_mistrals() -> None:
    card = models.translate_model(CARD, "mistral-small-latest")
    assert list(card)[:4] == ["id", "object", "created", "owned_by"]
    assert card["shutdown_date"] is None
    assert {key: card[key] for key in CARD} == CARD


def test_a_deprecation_becomes_openais_shutdown_date() -> None:
    assert models.translate_model(OLD, "open-mistral-7b")["shutdown_date"] == "2026-01-31"


def test_a_card_missing_openais_keys_gets_safe_values() -> None:
    card = models.translate_model({"id": "ft:x", "created": None, "capabilities": {}}, "ft:x")
    assert (card["object"], card["created"], card["owned_by"]) == ("model", 0, "mistralai")


def test_a_retrieved_model_is_named_as_asked() -> None:
    assert models.translate_model(CARD, "gpt-4o-mini")["id"] == "gpt-4o-mini"


def test_aliases_are_listed_as_copies_of_their_target() -> None:
    aliases = {
        "gpt-4o-mini": "mistral-small-latest",
        "gpt-4o": "no-such-model",
        "open-mistral-7b": "mistral-small-latest",
    }
    listed = models.translate_model_list({"object": "list", "data": [CARD, OLD]}, aliases)
    assert [card["id"] for card in listed["data"]] == [
        "mistral-small-latest",
        "open-mistral-7b",
        "gpt-4o-mini",
    ]
    assert listed["data"][2] == {**listed["data"][0], "id": "gpt-4o-mini"}
    assert listed["data"][1]["name"] == "mistral-small-2603", "an alias shadowing a Mistral id replaces it"
    assert listed["object"] == "list"


def test_an_alias_resolves_one_level_only() -> None:
    aliases = {"a": "b", "b": "mistral-small-latest"}
    assert models.resolve_model("a", aliases) == "b"
    assert models.resolve_model("mistral-large-latest", aliases) == "mistral-large-latest"


def test_the_sdk_lists_and_retrieves_aliases(start_shim: Any) -> None:
    url = start_shim(aliases={"gpt-4o-mini": "mistral-small-latest"})
    client = OpenAI(base_url=f"{url}/v1", api_key="test-key", max_retries=0)
    ids = [model.id for model in client.models.list()]
    assert "gpt-4o-mini" in ids and "mistral-small-latest" in ids and "mistral-embed" in ids
    retrieved = client.models.retrieve("gpt-4o-mini")
    assert (retrieved.id, retrieved.owned_by, retrieved.object) == ("gpt-4o-mini", "mistralai", "model")
    assert retrieved.model_extra and retrieved.model_extra["name"] == "mistral-small-2603"
    answer = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
    )
    # The alias is echoed (clients compare it with what they sent); the Mistral model is in a header.
    assert answer.parse().model == "gpt-4o-mini"
    assert answer.headers["x-mistral-model"] == "mistral-small-latest"
