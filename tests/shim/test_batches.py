"""OpenAI's batches on Mistral's batch jobs: the tables, lines and job translation (pure), then the openai
client through the shim in front of a scripted Mistral (``testkit.fake_mistral``)."""

import json
from typing import Any

import httpx2 as httpx
import openai
import pytest

from shim.translate import batch
from shim.translate.batch import InputTranslation, LineSplitter, ShimState
from shim.translate.context import Options
from shim.translate.problem import OpenAIError
from testkit.auth import AUTH
from testkit.fake_mistral import CHAT_ANSWER, Faked
from testkit.spec import component_schemas, openai_response_validator, openai_spec

CHAT = "/v1/chat/completions"
UUID_A = "0b5f8c3e-1111-4aaa-8bbb-0123456789ab"


def line(custom_id: str, body: dict[str, Any], url: str = CHAT) -> bytes:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}).encode()


def ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "mistral-small-latest", "messages": [{"role": "user", "content": text}], **extra}


CUSTOM_TOOL = {"type": "custom", "custom": {"name": "grep"}}
"""A tool Mistral has no counterpart for: the shim refuses the request (live and in a batch)."""


# --- the tables ---------------------------------------------------------------------------------------------


def test_every_field_of_openais_create_request_has_a_row() -> None:
    schema = component_schemas(openai_spec())["CreateBatchRequest"]
    assert set(batch.FIELDS) == set(schema["properties"])
    assert set(batch.ENDPOINTS) == set(schema["properties"]["endpoint"]["enum"])


def test_every_status_maps_to_one_of_openais() -> None:
    statuses = set(component_schemas(openai_spec())["Batch"]["properties"]["status"]["enum"])
    assert set(batch.STATUSES.values()) == statuses - {"finalizing"}


def test_the_create_request_is_checked_and_translated() -> None:
    plan = batch.plan_create(
        {"input_file_id": UUID_A, "endpoint": CHAT, "completion_window": "24h", "metadata": {"k": "v"}},
        Options(),
    )
    assert (plan.endpoint, plan.timeout_hours, plan.metadata) == (CHAT, 24, {"k": "v"})


@pytest.mark.parametrize(
    ("change", "param", "said"),
    [
        ({"endpoint": "/v1/responses"}, "endpoint", "not supported on Mistral"),
        ({"endpoint": "/v1/nope"}, "endpoint", "must be one of"),
        ({"completion_window": "2d"}, "completion_window", "24h"),
        ({"completion_window": "200h"}, "completion_window", "168h"),
        ({"metadata": {"openai_shim": "x"}}, "metadata", "shim's own"),
    ],
)
def test_a_bad_create_request_is_a_400_naming_the_field(
    change: dict[str, Any], param: str, said: str
) -> None:
    body = {"input_file_id": UUID_A, "endpoint": CHAT, "completion_window": "24h", **change}
    with pytest.raises(OpenAIError) as refused:
        batch.plan_create(body, Options())
    assert refused.value.param == param and said in refused.value.message


# --- input lines --------------------------------------------------------------------------------------------


def test_a_line_is_translated_by_its_live_route_without_its_model() -> None:
    translation = InputTranslation(CHAT, Options(aliases={"gpt-4o-mini": "mistral-small-latest"}))
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "max_completion_tokens": 5,
        "user": "u1",
    }
    out = translation.mistral_line(line("a", body))
    assert out is not None
    assert json.loads(out) == {
        "custom_id": "a",
        "body": {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
                 "max_tokens": 5},
    }  # fmt: skip
    assert translation.model == "mistral-small-latest"


def test_a_line_the_shim_refuses_becomes_openais_error_line() -> None:
    translation = InputTranslation(CHAT, Options(), file_id=UUID_A)
    assert translation.mistral_line(line("bad", ask("x", tools=[CUSTOM_TOOL]))) is None
    error = json.loads(translation.error_line() or b"")
    assert error["custom_id"] == "bad" and error["error"] is None
    assert (
        error["response"]["status_code"] == 400 and "Custom" in error["response"]["body"]["error"]["message"]
    )
    assert translation.refused == 1 and translation.accepted == 0
    assert translation.mistral_line(line("ok", ask("y"))) is not None and translation.error_line() is None


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b"not json", "not a JSON object"),
        (b'{"method": "POST", "url": "/v1/chat/completions", "body": {}}', "custom_id"),
        (line("a", ask("x"), url="/v1/embeddings"), "not the batch's endpoint"),
        (b'{"custom_id": "a", "method": "GET", "body": {}}', "method must be POST"),
    ],
)
def test_a_line_openai_would_refuse_the_batch_for_is_a_400_with_its_number(raw: bytes, said: str) -> None:
    translation = InputTranslation(CHAT, Options())
    translation.mistral_line(line("0", ask("x")))
    with pytest.raises(OpenAIError) as refused:
        translation.mistral_line(raw)
    assert refused.value.message.startswith("Line 2 of the input file") and said in refused.value.message


def test_lines_for_two_models_are_a_400() -> None:
    translation = InputTranslation(CHAT, Options())
    translation.mistral_line(line("0", ask("x")))
    with pytest.raises(OpenAIError, match="one model") as refused:
        translation.mistral_line(line("1", {**ask("y"), "model": "mistral-large-latest"}))
    assert refused.value.code == "mixed_models"


def test_embedding_lines_keep_their_encoding_in_the_custom_id() -> None:
    translation = InputTranslation("/v1/embeddings", Options())
    out = translation.mistral_line(
        line("e", {"model": "mistral-embed", "input": ["a"], "encoding_format": "base64"}, "/v1/embeddings")
    )
    assert json.loads(out or b"") == {
        "custom_id": "shim~b~e",
        "body": {"input": ["a"], "encoding_format": "float"},
    }
    assert (
        translation.mistral_line(line("t", {"model": "mistral-embed", "input": [1, 2]}, "/v1/embeddings"))
        is None
    )


@pytest.mark.parametrize("custom_id", ["plain", "shim~x", "shim~b~y", ""])
@pytest.mark.parametrize("flags", ["", "f", "fb"])
def test_custom_ids_carry_their_flags_both_ways(custom_id: str, flags: str) -> None:
    encoded = batch.encode_custom_id(custom_id, flags)
    assert batch.decode_custom_id(encoded) == (custom_id, flags)
    if not flags and not custom_id.startswith("shim~"):
        assert encoded == custom_id  # the client's own id, untouched


def test_lines_split_whatever_the_chunks() -> None:
    data = b'{"a": 1}\n{"b": 2}\n\n{"c": 3}'
    for size in (1, 3, 7, 100):
        splitter = LineSplitter()
        found = [ln for i in range(0, len(data), size) for ln in splitter.feed(data[i : i + size])]
        found += splitter.close()
        assert [ln for ln in found if ln.strip()] == [b'{"a": 1}', b'{"b": 2}', b'{"c": 3}']


# --- output lines -------------------------------------------------------------------------------------------


def test_an_output_line_becomes_openais_with_its_body_translated() -> None:
    mistral = {
        "id": "batch-1-2-0",
        "custom_id": "a",
        "response": {"status_code": 200, "body": CHAT_ANSWER},
        "error": None,
    }
    out = json.loads(batch.translate_output_line(json.dumps(mistral).encode()))
    assert (
        out["custom_id"] == "a" and out["error"] is None and out["response"]["request_id"].startswith("req_")
    )
    answer = out["response"]["body"]
    assert openai_response_validator("CreateChatCompletionResponse")(answer) == []
    assert "tool_call_id" not in answer["choices"][0]["message"]


def test_a_refused_line_from_mistral_is_openais_error() -> None:
    detail = [{"type": "missing", "loc": ["body", "messages"], "msg": "Field required"}]
    mistral = {
        "id": "x",
        "custom_id": "a",
        "response": {"status_code": 422, "body": {"detail": detail}},
        "error": None,
    }
    out = json.loads(batch.translate_output_line(json.dumps(mistral).encode()))
    assert out["response"]["status_code"] == 400
    assert out["response"]["body"]["error"]["message"] == "messages: Field required"


def test_output_translation_decodes_the_flags() -> None:
    vector = {"object": "embedding", "embedding": [0.5], "index": 0}
    usage = {"prompt_tokens": 1, "total_tokens": 1}
    embedding = {"id": "e", "object": "list", "data": [vector], "model": "mistral-embed", "usage": usage}
    mistral = {"id": "x", "custom_id": "shim~b~e1", "response": {"status_code": 200, "body": embedding}}
    out = json.loads(batch.translate_output_line(json.dumps(mistral).encode()))
    assert out["custom_id"] == "e1" and out["response"]["body"]["data"][0]["embedding"] == "AAAAPw=="


# --- the batch object ---------------------------------------------------------------------------------------


def job(**changes: Any) -> dict[str, Any]:
    base = {
        "id": UUID_A, "object": "batch", "input_files": ["f"], "metadata": None, "endpoint": CHAT,
        "model": "mistral-small-latest", "agent_id": None, "output_file": None, "error_file": None,
        "errors": [], "outputs": None, "status": "QUEUED", "created_at": 1000, "total_requests": 0,
        "completed_requests": 0, "succeeded_requests": 0, "failed_requests": 0, "started_at": None,
        "completed_at": None,
    }  # fmt: skip
    return {**base, **changes}


@pytest.mark.parametrize("status", sorted(batch.STATUSES))
def test_every_job_is_an_openai_batch(status: str) -> None:
    answer = batch.openai_batch(job(status=status, started_at=1001, completed_at=1026, output_file=UUID_A))
    assert openai_response_validator("Batch")(answer) == []
    assert answer["status"] == batch.STATUSES[status]
    assert ("output_file_id" in answer) == (status in batch.ENDED_AT)


def test_refused_lines_count_once_mistral_counted_its_own() -> None:
    metadata = {batch.STATE_KEY: ShimState("file-in", "24h", 2, UUID_A).encode()}
    queued = batch.openai_batch(job(metadata=metadata))
    assert queued["request_counts"] == {"total": 0, "completed": 0, "failed": 0}  # as OpenAI's validating
    running = batch.openai_batch(job(metadata=metadata, status="RUNNING", total_requests=5))
    assert running["request_counts"] == {"total": 7, "completed": 0, "failed": 2}


def test_the_shims_state_comes_back_from_the_metadata() -> None:
    state = ShimState("file-in", "48h", 3, UUID_A)
    metadata = {"team": "search", batch.STATE_KEY: state.encode()}
    answer = batch.openai_batch(
        job(status="SUCCESS", metadata=metadata, total_requests=7, succeeded_requests=6, failed_requests=1,
            started_at=1001, completed_at=1026, output_file=UUID_A)
    )  # fmt: skip
    assert answer["input_file_id"] == "file-in" and answer["completion_window"] == "48h"
    assert answer["expires_at"] == 1000 + 48 * 3600 and answer["completed_at"] == 1026
    assert answer["request_counts"] == {"total": 10, "completed": 6, "failed": 4}
    assert answer["metadata"] == {"team": "search"}
    assert answer["error_file_id"] == f"file-batcherr.none.{UUID_A}"


# --- through the shim ---------------------------------------------------------------------------------------


def upload(faked: Faked, lines: list[bytes]) -> str:
    data = b"\n".join(lines) + b"\n"
    return faked.client.files.create(file=("in.jsonl", data, "application/jsonl"), purpose="batch").id


def test_a_batch_through_the_shim_from_input_to_output(faked: Faked) -> None:
    lines = [line(f"r{i}", ask(f"{i}+{i}?")) for i in range(4)]
    lines.append(line("refused", ask("x", tools=[CUSTOM_TOOL])))
    lines.append(line("failed", ask("z", max_tokens=-1)))  # Mistral fails it
    input_id = upload(faked, lines)
    created = faked.client.batches.create(
        input_file_id=input_id, endpoint=CHAT, completion_window="24h", metadata={"run": "nightly"}
    )
    assert created.status == "validating" and created.input_file_id == input_id
    assert created.metadata == {"run": "nightly"}
    mistral_job = faked.mistral.jobs[created.id]
    assert mistral_job["model"] == "mistral-small-latest" and len(mistral_job["input_files"]) == 1
    translated = faked.mistral.files[mistral_job["input_files"][0]].data.splitlines()
    assert [json.loads(x)["custom_id"] for x in translated] == ["r0", "r1", "r2", "r3", "failed"]
    assert all("model" not in json.loads(x)["body"] for x in translated)

    faked.mistral.run_job(created.id)
    done = faked.client.batches.retrieve(created.id)
    assert done.status == "completed" and done.request_counts is not None
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (6, 4, 2)
    assert done.output_file_id and done.error_file_id
    output = [json.loads(x) for x in faked.client.files.content(done.output_file_id).text.splitlines()]
    assert sorted(x["custom_id"] for x in output) == ["r0", "r1", "r2", "r3"]
    assert all(x["response"]["body"]["object"] == "chat.completion" for x in output)
    failed = {
        x["custom_id"]: x
        for x in map(json.loads, faked.client.files.content(done.error_file_id).text.splitlines())
    }
    assert set(failed) == {"failed", "refused"}
    assert failed["failed"]["response"]["status_code"] == 400
    assert "Custom" in failed["refused"]["response"]["body"]["error"]["message"]
    assert faked.client.files.retrieve(done.output_file_id).purpose == "batch_output"


def test_listing_and_cancelling(faked: Faked) -> None:
    input_id = upload(faked, [line("a", ask("x"))])
    made = [
        faked.client.batches.create(input_file_id=input_id, endpoint=CHAT, completion_window="24h")
        for _ in range(3)
    ]
    listed = [b.id for b in faked.client.batches.list(limit=2)]
    assert listed == [b.id for b in reversed(made)]
    assert faked.client.batches.cancel(made[0].id).status == "cancelling"


def test_a_batch_of_lines_for_two_models_is_a_400_and_no_job(faked: Faked) -> None:
    input_id = upload(faked, [line("a", ask("x")), line("b", {**ask("y"), "model": "mistral-large-latest"})])
    with pytest.raises(openai.BadRequestError, match="one model"):
        faked.client.batches.create(input_file_id=input_id, endpoint=CHAT, completion_window="24h")
    assert faked.mistral.jobs == {} and len(faked.mistral.files) == 1  # the upload was aborted


def test_a_batch_whose_every_line_is_refused_is_a_400(faked: Faked) -> None:
    input_id = upload(faked, [line("a", ask("x", tools=[CUSTOM_TOOL]))])
    with pytest.raises(openai.BadRequestError, match="Every line"):
        faked.client.batches.create(input_file_id=input_id, endpoint=CHAT, completion_window="24h")
    assert faked.mistral.jobs == {} and len(faked.mistral.files) == 1


def test_unknown_batches_and_files_are_404(faked: Faked) -> None:
    with pytest.raises(openai.NotFoundError):
        faked.client.batches.retrieve("batch_abc123")
    with pytest.raises(openai.NotFoundError):
        faked.client.batches.create(input_file_id="file-abc", endpoint=CHAT, completion_window="24h")
    assert faked.upstream.received == []


def test_the_batch_routes_are_served_without_the_v1_prefix(faked: Faked) -> None:
    input_id = upload(faked, [line("a", ask("x"))])
    body = {"input_file_id": input_id, "endpoint": CHAT, "completion_window": "24h"}
    made = httpx.post(f"{faked.shim_url}/batches", json=body, headers=AUTH, timeout=30)
    assert made.status_code == 200, made.text
    assert (
        httpx.get(f"{faked.shim_url}/batches/{made.json()['id']}", headers=AUTH).json()["object"] == "batch"
    )
