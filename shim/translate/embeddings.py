"""``POST /v1/embeddings``: OpenAI's request → one or more Mistral requests, and their answers → one reply.

Three things make this more than renaming (failure catalogue, section H):

- **The base64 trap.** The openai SDKs send ``encoding_format: "base64"`` unless their caller chose, and
  decode the answer as little-endian float32. Mistral accepts the value but answers with something those
  decoders turn into all-zero vectors, without an error. So Mistral is always asked for ``float`` and the
  shim encodes base64 itself, byte for byte as OpenAI does.
- **The batch limit.** Mistral refuses a request over 16,384 tokens in total; OpenAI allows 300,000. A
  large batch is split into several upstream requests, in order, and the answers are merged back into one
  list with continuous indexes and summed usage.
- **OpenAI-only parameters.** ``dimensions`` is Mistral's ``output_dimension``; ``user`` has no equivalent.
"""

import base64
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Literal, TypeGuard

from mistral_wire import tokens
from mistral_wire.contract.catalogue import Tokenizer, lookup
from mistral_wire.contract.limits import EMBEDDING_BATCH_TOKENS
from mistral_wire.contract.requests import EmbeddingRequest
from shim.translate import table
from shim.translate.context import Options
from shim.translate.plan import Plan
from shim.translate.problem import OpenAIError, server_error
from shim.translate.table import INTEGER, OMIT, STRING, TEXTS, Draft, Field, Table, refuse

Encoding = Literal["float", "base64"]
ENDPOINT = "embeddings"
PATH = "/v1/embeddings"

# What a client that sends no ``encoding_format`` gets. OpenAI's spec defaults it to float, and every openai
# SDK that wants base64 says so on the wire (the Python SDK sends "base64" whenever its caller gave none),
# so an absent field comes from a plain HTTP client that expects floats, as OpenAI would send them.
DEFAULT_CLIENT_ENCODING: Encoding = "float"

# Tokenizer used to size batches for a model the catalogue does not know (the current vocabulary).
FALLBACK_TOKENIZER: Tokenizer = "tekken"


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_token_ids(value: Any) -> bool:
    """OpenAI's other two input forms: an array of token ids, or an array of such arrays."""
    if not isinstance(value, list) or not value:
        return False
    if all(_is_int(item) for item in value):
        return True
    return all(isinstance(item, list) and item and all(_is_int(t) for t in item) for item in value)


def _texts(value: Any) -> list[str] | None:
    """The inputs as a list of texts (None for a single string), or a 400 that says what is wrong."""
    if isinstance(value, str):
        return None
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return value
    if _is_token_ids(value):
        raise refuse(
            "Mistral embeds text only: input must be a string or an array of strings, not token ids. "
            "Send the text itself.",
            "input",
            "unsupported_value",
        )
    if value == []:
        raise refuse("input must not be an empty array.", "input")
    raise refuse("input must be a string or an array of strings.", "input")


def _input(value: Any, draft: Draft, options: Options) -> Any:
    draft.notes["texts"] = _texts(value)
    return value


def _dimensions(value: Any, draft: Draft, options: Options) -> Any:
    if not _is_int(value) or value < 1:
        raise refuse("dimensions must be an integer of at least 1.", "dimensions")
    return value


def _encoding_format(value: Any, draft: Draft, options: Options) -> Any:
    if value not in ("float", "base64"):
        raise refuse(f"encoding_format must be 'float' or 'base64', not {value!r}.", "encoding_format")
    draft.notes["encoding"] = value
    return OMIT


# One row per field of OpenAI's CreateEmbeddingRequest (a test holds this against OpenAI's spec).
FIELDS: dict[str, Field] = {
    "model": Field("convert", "configured aliases resolve to the Mistral model", STRING, convert=table.model),
    "input": Field(
        "keep",
        "text or a list of texts; token-id arrays are refused: Mistral embeds text only",
        TEXTS,
        convert=_input,
        required=True,
    ),
    "dimensions": Field(
        "rename",
        "Mistral's output_dimension: the width of the vectors",
        INTEGER,
        target="output_dimension",
        convert=_dimensions,
    ),
    "encoding_format": Field(
        "convert",
        "Mistral is always asked for float; base64 is encoded by the shim",
        STRING,
        convert=_encoding_format,
    ),
    "user": Field("drop", "no Mistral equivalent; it only labels the request for abuse monitoring", STRING),
}

# Mistral's own fields (output_dtype, metadata, output_dimension) that an OpenAI field does not produce:
# a client that knows Mistral may send them, and Mistral accepts them.
MISTRAL_ONLY = frozenset(EmbeddingRequest.model_fields) - frozenset(FIELDS)


def always_float(draft: Draft, options: Options) -> None:
    """Mistral is always asked for floats: its own base64 decodes to zero vectors in OpenAI's SDKs."""
    draft.body["encoding_format"] = "float"


TABLE = Table(
    endpoint=ENDPOINT,
    fields=FIELDS,
    mistral_only={None: MISTRAL_ONLY},
    rules=(("always-float", always_float),),
    unknown_reason="it is neither an OpenAI nor a Mistral embeddings parameter",
)


@dataclass(frozen=True)
class EmbeddingPlan:
    """The Mistral requests to send, in order, and what the merged answer must look like."""

    bodies: tuple[dict[str, Any], ...]
    # How many inputs each body holds, so merged indexes are continuous whatever Mistral numbers them.
    sizes: tuple[int, ...]
    # What the client gets back: floats, or base64 of little-endian float32.
    encoding: Encoding
    # OpenAI parameters removed (for the x-shim-dropped-params header).
    dropped: tuple[str, ...] = ()


def tokenizer_for(body: Mapping[str, Any], options: Options) -> Tokenizer:
    """The tokenizer that sizes this request's batches: the pipeline has it loaded (off the event loop)
    before ``translate_embedding_request`` counts with it."""
    model = table.model(body.get("model"), Draft(), options)
    family = lookup(model) if isinstance(model, str) else None
    return family.tokenizer if family is not None else FALLBACK_TOKENIZER


def split_batches(
    texts: Sequence[str], tokenizer: Tokenizer, limit: int = EMBEDDING_BATCH_TOKENS
) -> list[int]:
    """Sizes of consecutive groups of ``texts`` whose token counts each sum to at most ``limit``.

    Greedy and order-preserving. A text that alone exceeds the limit goes alone, so Mistral's own refusal
    of it reaches the client instead of a guess by the shim.
    """
    sizes: list[int] = []
    size = used = 0
    for text in texts:
        cost = tokens.count(text, tokenizer)
        if size and used + cost > limit:
            sizes.append(size)
            size = used = 0
        size += 1
        used += cost
    if size:
        sizes.append(size)
    return sizes


def translate_embedding_request(body: Mapping[str, Any], options: Options) -> EmbeddingPlan:
    """The plan for an OpenAI ``CreateEmbeddingRequest``: Mistral bodies, client encoding, dropped fields.

    Raises ``OpenAIError`` (400) for what Mistral cannot do (token-id input) and, under
    ``unsupported="error"``, for OpenAI-only parameters. Counts tokens: ``tokenizer_for``'s tokenizer must
    be loaded already, or this loads it on the spot.
    """
    draft = table.apply(TABLE, body, options)
    out = draft.body
    texts: list[str] | None = draft.notes.get("texts")
    sizes = [1] if texts is None else split_batches(texts, tokenizer_for(body, options))
    if len(sizes) == 1:
        bodies = [out]  # the client's input as it came: a string stays a string
    else:
        assert texts is not None  # several parts come only from a list
        ends = list(accumulate(sizes))
        bodies = [{**out, "input": texts[end - size : end]} for size, end in zip(sizes, ends, strict=True)]
    encoding: Encoding = draft.notes.get("encoding", DEFAULT_CLIENT_ENCODING)
    return EmbeddingPlan(tuple(bodies), tuple(sizes), encoding, tuple(draft.dropped))


def plan(body: Mapping[str, Any], options: Options) -> Plan:
    """Several Mistral requests when the batch is too large for one, merged into one OpenAI answer."""
    table.check_types(TABLE, body)
    embedding_plan = translate_embedding_request(body, options)

    def answer(answers: Sequence[Any]) -> Any:
        return merge_embedding_responses(embedding_plan, answers)

    return Plan(PATH, embedding_plan.bodies, answer, dropped=embedding_plan.dropped)


def encode_base64(vector: Sequence[float]) -> str:
    """What OpenAI sends for ``encoding_format: "base64"``: the vector as little-endian float32 bytes."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def _index(item: Mapping[str, Any]) -> int:
    """The sort key of an answer item: its ``index`` where that is an integer, else 0."""
    index = item.get("index")
    return index if _is_int(index) else 0


def _bad_answer(message: str) -> OpenAIError:
    return server_error(502, message, "upstream_bad_body")


def merge_embedding_responses(plan: EmbeddingPlan, responses: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """OpenAI's ``CreateEmbeddingResponse`` from Mistral's answers to ``plan.bodies``, in the same order.

    Indexes run on across the parts, usage is summed, and Mistral's extra keys (``id``,
    ``usage.completion_tokens`` and friends) are left out: OpenAI's embedding reply has none.
    """
    if len(responses) != len(plan.sizes):
        raise ValueError(f"expected {len(plan.sizes)} Mistral answers, got {len(responses)}")
    data: list[dict[str, Any]] = []
    prompt_tokens = total_tokens = 0
    for size, response in zip(plan.sizes, responses, strict=True):
        items = [item for item in response.get("data") or [] if isinstance(item, dict)]
        if len(items) != size:
            raise _bad_answer(f"Mistral answered {len(items)} embeddings for {size} inputs.")
        items.sort(key=_index)
        for item in items:
            vector = item.get("embedding")
            if not isinstance(vector, list):
                raise _bad_answer("Mistral answered an embedding that is not a list of numbers.")
            embedding = encode_base64(vector) if plan.encoding == "base64" else vector
            data.append({"object": "embedding", "index": len(data), "embedding": embedding})
        usage = response.get("usage") or {}
        prompt = usage.get("prompt_tokens") or 0
        prompt_tokens += prompt
        total_tokens += usage.get("total_tokens") or prompt
    return {
        "object": "list",
        "data": data,
        "model": responses[0].get("model") if responses else None,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": total_tokens},
    }
