"""Synthetic embeddings: unit vectors that depend only on the model and the text.

Every text gets the same vector wherever it sits in a batch, so clients can test caching and batching.
Values are rounded to float16 precision, as Mistral's are (real vectors hold values like
-0.0165863037109375). codestral-embed vectors are Matryoshka-like: a narrower ``output_dimension`` is the
renormalised prefix of the widest vector, so vectors of different widths stay consistent.

``encoding_format: "base64"`` is accepted and still answered with a JSON array of numbers. That is the
only reading consistent with what clients saw on the live API: openai-node, which base64-decodes whatever
arrives, turned the array of a 1024-dimension vector into 256 zeros (anything-llm#5794, docs-mcp-server#469),
which is exactly what decoding a list of small floats as bytes gives.
"""

import hashlib
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from mistral_wire import tokens
from mistral_wire.contract import semantics
from mistral_wire.contract.catalogue import Family
from mistral_wire.contract.requests import EmbeddingRequest
from mockserver.sources.synthetic import seeds


def _unit_vector(model: str, text: str, width: int) -> npt.NDArray[np.float64]:
    digest = hashlib.sha256(f"{model}\0{text}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    vector = rng.standard_normal(width)
    return vector / np.linalg.norm(vector)


def vector(family: Family, text: str, width: int) -> npt.NDArray[np.float64]:
    full = _unit_vector(family.name, text, family.max_dimensions or family.dimensions)
    prefix = full[:width]
    return (prefix / np.linalg.norm(prefix)).astype(np.float16).astype(np.float64)


def _listed(values: npt.NDArray[Any]) -> list[Any]:
    """``values.tolist()``: numpy types it Any, as a 0-d array gives a scalar; these vectors are 1-d."""
    return cast("list[Any]", values.tolist())


def encode(values: npt.NDArray[np.float64], dtype: str) -> list[Any]:
    if dtype == "float":
        return _listed(values)
    scaled = np.clip(np.round(values / max(float(np.abs(values).max()), 1e-12) * 127), -128, 127).astype(int)
    if dtype == "int8":
        return _listed(scaled)
    if dtype == "uint8":
        return _listed(scaled + 128)
    bits = np.packbits(values > 0)
    if dtype == "ubinary":
        return _listed(bits.astype(int))
    return _listed(bits.astype(np.int8).astype(int))  # "binary": the same bytes, signed


def answer(request: EmbeddingRequest, family: Family, payload: object) -> dict[str, Any]:
    """The answer to a request ``semantics.check_embeddings`` accepted."""
    texts = semantics.embedding_texts(request)
    width = semantics.embedding_width(request, family)
    total = sum(tokens.count(text, family.tokenizer) for text in texts)
    data = [
        {
            "object": "embedding",
            "embedding": encode(vector(family, text, width), request.output_dtype),
            "index": i,
        }
        for i, text in enumerate(texts)
    ]
    return {
        "id": seeds.hex_id(seeds.request_seed("embeddings", payload)),
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": {
            "prompt_audio_seconds": None,
            "prompt_tokens": total,
            "total_tokens": total,
            "completion_tokens": 0,
            "request_count": None,
            "prompt_token_details": None,
            "prompt_tokens_details": None,
            "completion_tokens_details": None,
            "service_tier": None,
        },
    }
