"""Batches with the openai client: a whole lifecycle, polled to completion, its files downloaded and parsed.

Mistral has batch jobs, not OpenAI's ``/v1/batches``: without the shim the client gets a 404. Behind it,
the input file's lines are translated as the live routes translate requests, lines the shim refuses go to
the error file in OpenAI's format (the batch goes on), and the output and error files are OpenAI's batch
output lines, matched by ``custom_id``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import openai
import pytest
from openai import OpenAI
from openai.types import Batch

from contract_tests.conftest import Breaks
from testkit.spec import openai_response_validator

CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
MODEL = "mistral-small-latest"
SHIMMED = ("shim+mock", "shim+replay", "live")
ENDED = {"completed", "failed", "expired", "cancelled"}
CUSTOM_TOOL = {"type": "custom", "custom": {"name": "grep"}}


def line(custom_id: str, body: dict[str, Any], url: str = CHAT) -> bytes:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}).encode() + b"\n"


def ask(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": f"What is {n} + {n}?"}],
        "max_tokens": 8,
        **extra,
    }


def upload(client: OpenAI, lines: list[bytes], name: str = "batch.jsonl") -> str:
    return client.files.create(file=(name, b"".join(lines), "application/jsonl"), purpose="batch").id


def wait(client: OpenAI, batch: Batch) -> Batch:
    deadline = time.monotonic() + 1800  # a live job takes minutes; the mock's, a fraction of a second
    seen = [batch.status]
    while batch.status not in ENDED and time.monotonic() < deadline:
        time.sleep(0.1 if seen.count(batch.status) < 50 else 5)
        batch = client.batches.retrieve(batch.id)
        seen.append(batch.status)
    assert batch.status in ENDED, seen
    return batch


def lines_of(client: OpenAI, file_id: str | None) -> dict[str, dict[str, Any]]:
    assert file_id is not None
    parsed = [json.loads(text) for text in client.files.content(file_id).text.splitlines() if text.strip()]
    return {item["custom_id"]: item for item in parsed}


@pytest.mark.feature("Batches", "chat batch: created, polled, downloaded, matched by custom_id")
def test_a_chat_batch_from_input_to_output(client: OpenAI, breaks: Breaks) -> None:
    answered = [f"q{n}" for n in range(8)]
    lines = [line(custom_id, ask(n)) for n, custom_id in enumerate(answered)]
    developer = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    lines.append(line("developer-turn", {**ask(9), "messages": developer}))  # repaired, as live
    lines.append(line("custom-tool", ask(10, tools=[CUSTOM_TOOL])))  # the shim refuses it
    lines.append(line("seed-as-text", ask(11, seed="42")))  # the shim refuses it (OpenAI's invalid_type)
    lines.append(line("negative-max", ask(12, max_tokens=-1)))  # Mistral refuses it
    input_id = upload(client, lines)
    with breaks(openai.NotFoundError, "404: Mistral has batch jobs, not /v1/batches"):
        created = client.batches.create(
            input_file_id=input_id, endpoint=CHAT, completion_window="24h", metadata={"suite": "contract"}
        )
        assert created.input_file_id == input_id and created.endpoint == CHAT
        assert created.metadata == {"suite": "contract"}
        done = wait(client, created)
        assert done.status == "completed", done
        assert done.request_counts is not None
        counts = done.request_counts
        assert (counts.total, counts.completed, counts.failed) == (12, 9, 3)
        output = lines_of(client, done.output_file_id)
        assert set(output) == {*answered, "developer-turn"}
        check = openai_response_validator("CreateChatCompletionResponse")
        for item in output.values():
            assert item["error"] is None and item["response"]["status_code"] == 200
            assert item["response"]["request_id"]
            assert check(item["response"]["body"]) == []
        errors = lines_of(client, done.error_file_id)
        assert set(errors) == {"custom-tool", "seed-as-text", "negative-max"}
        for item in errors.values():
            assert item["response"]["status_code"] == 400
            assert openai_response_validator("ErrorResponse")(item["response"]["body"]) == []
        assert errors["seed-as-text"]["response"]["body"]["error"]["code"] == "invalid_type"
        assert errors["negative-max"]["response"]["body"]["error"]["param"] == "max_tokens"
        assert client.files.retrieve(done.output_file_id or "").purpose == "batch_output"


@pytest.mark.feature("Batches", "embeddings batch, base64 as asked")
@pytest.mark.targets(*SHIMMED)
def test_an_embeddings_batch(client: OpenAI) -> None:
    body = {"model": "mistral-embed", "input": ["The cat sat on the mat."]}
    input_id = upload(
        client,
        [line("floats", body, EMBEDDINGS), line("b64", {**body, "encoding_format": "base64"}, EMBEDDINGS)],
        "embeddings.jsonl",
    )
    done = wait(
        client, client.batches.create(input_file_id=input_id, endpoint=EMBEDDINGS, completion_window="24h")
    )
    output = lines_of(client, done.output_file_id)
    floats = output["floats"]["response"]["body"]
    assert openai_response_validator("CreateEmbeddingResponse")(floats) == []
    assert isinstance(floats["data"][0]["embedding"], list) and len(floats["data"][0]["embedding"]) == 1024
    assert isinstance(output["b64"]["response"]["body"]["data"][0]["embedding"], str)


@pytest.mark.feature("Batches", "list and cancel")
@pytest.mark.targets(*SHIMMED)
def test_listing_and_cancelling(client: OpenAI) -> None:
    input_id = upload(client, [line(f"c{n}", ask(n)) for n in range(3)], "cancel.jsonl")
    made = client.batches.create(input_file_id=input_id, endpoint=CHAT, completion_window="24h")
    assert made.id in [listed.id for listed in client.batches.list(limit=5)]
    cancelled = client.batches.cancel(made.id)
    assert cancelled.status in {"cancelling", "cancelled", "completed"}
    assert wait(client, cancelled).status in {"cancelled", "completed"}


@pytest.mark.feature("Batches", "what fails a whole batch is a 400")
@pytest.mark.targets(*SHIMMED)
def test_a_batch_of_two_models_is_refused(client: OpenAI) -> None:
    input_id = upload(
        client, [line("a", ask(1)), line("b", {**ask(2), "model": "mistral-large-latest"})], "mixed.jsonl"
    )
    with pytest.raises(openai.BadRequestError, match="one model"):
        client.batches.create(input_file_id=input_id, endpoint=CHAT, completion_window="24h")
    with pytest.raises(openai.BadRequestError, match="not supported on Mistral"):
        client.batches.create(input_file_id=input_id, endpoint="/v1/responses", completion_window="24h")
