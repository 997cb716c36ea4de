"""Real Mistral traffic, replayed through the shim to the official openai client.

Every chat, embeddings, OCR and models interaction recorded from the live API by public test suites
(``../shared/real-traffic``: vcrpy, pydantic-ai and Ruby VCR cassettes, 2023-12 to 2026-10) is imported with
``mistral-mock import-vcr``, served by a mock replaying it (no wait, a miss is an error) and asked for again
through the shim: with the OpenAI request that the shim turns into exactly the recorded Mistral request
(``contract_tests/reverse.py``). The openai client must parse what comes back, and it must say what Mistral
said: the same text, reasoning, tool calls and finish reason, a stream reassembled by the SDK's own
accumulator equal to the recorded stream reassembled, the same vectors and the same model ids. OCR goes
through the shim's pass-through with httpx and must come back byte for byte.

This is the oracle the project did not write: answers of every era of Mistral's API (2024's tool calls
without ids, ``role: null`` streams, thinking chunks, ``p`` padding), not the mock's synthetic ones. Each
answer is also held to OpenAI's published schema (``contract_tests/oracle.py``).

Answers that SDK suites saved without a cassette (raw bodies, SSE files, curl transcripts) are wrapped in
cassettes and imported the same way (``contract_tests/real_answers.py``); where their request was not
recorded, a stand-in asks for them, and their matrix rows say "answer saved alone".

Interactions no OpenAI request can reproduce are skipped with the precise reason (a rule of the shim's
translation that changes what was recorded). One difference that means nothing to Mistral is bridged
instead of skipped: an assistant turn's textless content beside tool calls, which the shim leaves out
(``reverse.equivalent_chat_body``; the replaying mock's copy of such a recording is stored that way).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import httpx2 as httpx
import openai
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState

from contract_tests import reverse
from contract_tests.oracle import Oracle
from contract_tests.real_traffic import KEY, Case, Layers, corpus_root, load_cases, sources

TIMEOUT = 60.0
# The openai types expect string content: where an answer keeps Mistral keys (a thinking model's
# reasoning_content), pydantic warns while the client reads them. That is not what this oracle checks.
pytestmark = [
    pytest.mark.column("shim+replay"),
    pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning"),
]

FEATURES = {
    "chat": "chat",
    "chat stream": "chat stream",
    "embeddings": "embeddings",
    "OCR": "OCR (pass-through)",
    "models": "models list",
}


def _feature(case: Case) -> str:
    name = FEATURES["chat stream" if case.endpoint == "chat" and case.stream else case.endpoint]
    return name if case.request_recorded else f"{name} (answer saved alone)"


def _params() -> list[Any]:
    root = corpus_root()
    if root is None:
        reason = "../shared/real-traffic is absent: the recorded Mistral traffic lives next to the repository"
        marks = [pytest.mark.skip(reason=reason), pytest.mark.feature("Real traffic", "chat")]
        return [pytest.param(None, id="no-corpus", marks=marks)]
    with tempfile.TemporaryDirectory() as answers:  # only to read the wrapped answers' ids and files
        cases = load_cases(sources(root, Path(answers)))
    return [
        pytest.param(case, id=case.id, marks=pytest.mark.feature("Real traffic", _feature(case)))
        for case in cases
    ]


def _client(url: str, oracle: Oracle) -> openai.OpenAI:
    http = httpx.Client(transport=oracle.transport(), timeout=TIMEOUT)
    return openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, http_client=http)


def _expected_status(status: int, body: Any) -> int:
    """The status the shim documents for a Mistral error (422 → 400; invalid model → 404)."""
    if status == 422:
        return 400
    message = body.get("message") if isinstance(body, dict) else None
    if status == 400 and isinstance(message, str) and message.startswith("Invalid model"):
        return 404
    return status


def _mistral_message(body: Any) -> str | None:
    """The human-readable text of a Mistral error body, when it has one."""
    if isinstance(body, dict):
        for key in ("message", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return None


def _assert_refused(error: openai.APIStatusError, case: Case) -> None:
    recorded = case.interaction.response
    assert error.status_code == _expected_status(recorded.status, recorded.body), error
    assert isinstance(error.body, dict) and isinstance(error.body.get("message"), str), error.body
    message = _mistral_message(recorded.body)
    if message is not None:
        assert message in error.message


def _replay_chat(client: openai.OpenAI, case: Case) -> None:
    recorded = case.interaction.response
    try:
        kwargs = reverse.chat_request(case.interaction.request.body)
    except reverse.Inexpressible as why:
        pytest.skip(f"not expressible through the shim: {why}")
    if recorded.status >= 400:
        with pytest.raises(openai.APIStatusError) as raised:
            result = client.chat.completions.create(**kwargs)
            if kwargs.get("stream"):
                list(result)
        _assert_refused(raised.value, case)
        return
    if kwargs.get("stream"):
        # include_usage is OpenAI's own switch: the shim keeps it from Mistral and honours it itself.
        stream = client.chat.completions.create(**kwargs, stream_options={"include_usage": True})
        state: ChatCompletionStreamState[None] = ChatCompletionStreamState()
        usage = None
        for chunk in stream:
            state.handle_chunk(chunk)
            usage = chunk.usage or usage
        # The accumulated snapshot: get_final_completion() also parses, and refuses a "length" finish.
        got = state.current_completion_snapshot
        expected = reverse.mistral_stream_answers(recorded.events or [])
        chunks = [event for event in recorded.events or [] if isinstance(event, dict)]
        recorded_usage = chunks[-1].get("usage")
        assert (got.id, got.model) == (chunks[0]["id"], chunks[0]["model"])
    else:
        got = client.chat.completions.create(**kwargs)
        expected = reverse.mistral_answers(recorded.body)
        recorded_usage = recorded.body.get("usage")
        usage = got.usage
        assert got.id == recorded.body["id"] and got.model == recorded.body["model"]
    answers = reverse.openai_answers(got)
    assert reverse.without_missing_ids(answers, expected) == expected
    if isinstance(recorded_usage, dict):
        assert usage is not None
        assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (
            recorded_usage["prompt_tokens"],
            recorded_usage["completion_tokens"],
            recorded_usage["total_tokens"],
        )


def _replay_embeddings(client: openai.OpenAI, case: Case) -> None:
    recorded = case.interaction.response
    try:
        kwargs = reverse.embeddings_request(case.interaction.request.body)
    except reverse.Inexpressible as why:
        pytest.skip(f"not expressible through the shim: {why}")
    if recorded.status >= 400:
        with pytest.raises(openai.APIStatusError) as raised:
            client.embeddings.create(**kwargs)
        _assert_refused(raised.value, case)
        return
    # The SDK's default encoding (base64, decoded as float32): Mistral's float32 values survive exactly.
    got = client.embeddings.create(**kwargs)
    assert [item.embedding for item in got.data] == [item["embedding"] for item in recorded.body["data"]]
    assert [item.index for item in got.data] == list(range(len(recorded.body["data"])))
    assert got.model == recorded.body["model"]
    assert got.usage.prompt_tokens == recorded.body["usage"]["prompt_tokens"]


def _replay_models(client: openai.OpenAI, case: Case) -> None:
    recorded = case.interaction.response
    got = client.models.list()
    assert [model.id for model in got.data] == [entry["id"] for entry in recorded.body["data"]]
    assert [model.owned_by for model in got.data] == [entry["owned_by"] for entry in recorded.body["data"]]


def _replay_ocr(shim: str, case: Case) -> None:
    request, recorded = case.interaction.request, case.interaction.response
    content = request.raw_body if request.raw_body is not None else json.dumps(request.body).encode()
    with httpx.Client(base_url=shim, timeout=TIMEOUT) as http:
        answer = http.post(
            "/v1/ocr",
            content=content,
            headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        )
    assert answer.status_code == recorded.status
    assert answer.json() == recorded.body
    assert answer.content == recorded.raw_body  # the pass-through passes bytes


@pytest.mark.parametrize("case", _params())
def test_recorded_interaction_replays_through_the_shim(
    case: Case, layers: Layers, openai_oracle: Oracle
) -> None:
    shim, _ = layers.urls(case.layer)
    if case.endpoint == "OCR":
        _replay_ocr(shim, case)
        return
    with _client(shim, openai_oracle) as client:
        if case.endpoint == "chat":
            _replay_chat(client, case)
        elif case.endpoint == "embeddings":
            _replay_embeddings(client, case)
        else:
            _replay_models(client, case)


@pytest.mark.feature("Real traffic", "corpus import")
def test_every_cassette_imports_and_every_interaction_is_served(layers: Layers) -> None:
    """The command line imports every cassette (the fixture checks "0 failed") and each replayable
    interaction has its recording in a layer: nothing of the corpus is silently left out."""
    assert layers.cases >= 340
