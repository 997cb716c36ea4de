"""Mistral's batch jobs on the mock: states in the live API's order, counts that move, Mistral's output and
error files, and the refusals.

Each line is answered by the mock's own engine, so the tests hold a line's answer to the answer of the same
request sent to its endpoint: a refused line carries exactly the refusal the endpoint sends.
"""

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from mistralai.client import Mistral

from testkit.auth import AUTH, KEY
from testkit.spec import mistral_response_validator

CHAT = "mistral-small-latest"
JOB_KEYS = [
    "id", "object", "input_files", "metadata", "endpoint", "model", "agent_id", "output_file", "error_file",
    "errors", "outputs", "status", "created_at", "total_requests", "completed_requests", "succeeded_requests",
    "failed_requests", "started_at", "completed_at",
]  # fmt: skip
REFUSED = {"messages": [{"role": "developer", "content": "Be brief."}]}


def question(n: int) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": f"What is {n} + {n}?"}], "max_tokens": 16}


def jsonl(rows: list[Any]) -> bytes:
    return b"".join((row if isinstance(row, bytes) else json.dumps(row).encode()) + b"\n" for row in rows)


def valid(schema: str, body: Any) -> None:
    problems = mistral_response_validator(schema)(body)
    assert problems == [], problems


@pytest.fixture
def mock(start_mock: Callable[..., str]) -> Iterator[httpx.Client]:
    """A mock whose jobs step every 20 ms (the spec's validators are compiled first: that takes longer than
    a whole job)."""
    for schema in ("BatchJob", "ListBatchJobsResponse", "DeleteBatchJobResponse"):
        mistral_response_validator(schema)
    with httpx.Client(base_url=start_mock(job_step_ms=20), headers=AUTH, timeout=30) as client:
        yield client


def upload(http: httpx.Client, content: bytes) -> str:
    answer = http.post("/v1/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", content)})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def create(http: httpx.Client, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
    answer = http.post("/v1/batch/jobs", json={"endpoint": "/v1/chat/completions", **body}, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def poll(http: httpx.Client, job_id: str, query: str = "") -> list[dict[str, Any]]:
    """Every state seen until the job ends."""
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = http.get(f"/v1/batch/jobs/{job_id}{query}").json()
        valid("BatchJob", job)
        seen.append(job)
        if job["status"] in ("SUCCESS", "FAILED", "TIMEOUT_EXCEEDED", "CANCELLED"):
            return seen
        time.sleep(0.005)
    raise AssertionError(f"job {job_id} did not end: {seen[-1]}")


def lines_of(http: httpx.Client, file_id: str) -> list[dict[str, Any]]:
    answer = http.get(f"/v1/files/{file_id}/content")
    assert answer.headers["content-type"] == "application/octet-stream"
    return [json.loads(line) for line in answer.text.splitlines()]


def test_a_job_goes_queued_running_success_with_counts_that_move(start_mock: Callable[..., str]) -> None:
    mistral_response_validator("BatchJob")
    # Steps of 100 ms: polls see every state even on a busy machine.
    with httpx.Client(base_url=start_mock(job_step_ms=100), headers=AUTH, timeout=30) as mock:
        lifecycle(mock)


def lifecycle(mock: httpx.Client) -> None:
    file_id = upload(mock, jsonl([{"custom_id": str(n), "body": question(n)} for n in range(10)]))
    created = create(mock, input_files=[file_id], model=CHAT, metadata={"team": "qa"})
    valid("BatchJob", created)
    assert list(created) == JOB_KEYS
    assert (created["status"], created["total_requests"], created["outputs"]) == ("QUEUED", 0, None)
    assert created["input_files"] == [file_id] and created["metadata"] == {"team": "qa"}
    states = poll(mock, created["id"])
    statuses = [state["status"] for state in states]
    assert statuses[-1] == "SUCCESS" and "RUNNING" in statuses
    assert statuses == sorted(statuses, key=["QUEUED", "RUNNING", "SUCCESS"].index), "states never go back"
    running = [state for state in states if state["status"] == "RUNNING"]
    assert all(state["total_requests"] == 10 and state["started_at"] for state in running)
    completed = [state["completed_requests"] for state in states]
    assert completed == sorted(completed) and len(set(completed)) > 2, "the counts move as lines complete"
    final = states[-1]
    assert (final["succeeded_requests"], final["failed_requests"], final["completed_requests"]) == (10, 0, 10)
    assert final["error_file"] is None and final["completed_at"] >= final["started_at"]
    assert final["outputs"] is None, "a job of input files lists its outputs only when asked (inline=true)"


def test_output_lines_are_mistrals_and_answer_like_the_endpoint(mock: httpx.Client) -> None:
    file_id = upload(mock, jsonl([{"custom_id": f"q{n}", "body": question(n)} for n in range(3)]))
    final = poll(mock, create(mock, input_files=[file_id], model=CHAT)["id"])[-1]
    output = mock.get(f"/v1/files/{final['output_file']}").json()
    assert (output["purpose"], output["sample_type"], output["source"]) == (
        "batch",
        "batch_result",
        "mistral",
    )
    lines = lines_of(mock, final["output_file"])
    assert [line["custom_id"] for line in lines] == ["q0", "q1", "q2"]
    offsets = [int(line["id"].rsplit("-", 1)[1]) for line in lines]
    assert all(line["id"].startswith(f"batch-{final['id'][:8]}-{file_id[:8]}-") for line in lines)
    assert offsets[0] == 0 and offsets == sorted(offsets), "n is the line's byte offset in its input"
    for n, line in enumerate(lines):
        assert list(line) == ["id", "custom_id", "response", "error"] and line["error"] is None
        body = line["response"]["body"]
        assert line["response"]["status_code"] == 200
        assert list(body)[:6] == ["id", "object", "model", "usage", "created", "choices"]
        message = body["choices"][0]["message"]
        assert {"tool_calls", "tool_call_id", "index", "metadata"} <= set(message)
        direct = mock.post("/v1/chat/completions", json={"model": CHAT, **question(n)}).json()
        assert message["content"] == direct["choices"][0]["message"]["content"]
        assert body["usage"]["total_tokens"] == direct["usage"]["total_tokens"]


def test_a_line_mistral_refuses_goes_to_the_error_file_with_its_status_and_body(mock: httpx.Client) -> None:
    rows: list[Any] = [{"custom_id": "good", "body": question(1)}, {"custom_id": "bad", "body": REFUSED}]
    rows.append(b"this line is not JSON")
    file_id = upload(mock, jsonl(rows))
    final = poll(mock, create(mock, input_files=[file_id], model=CHAT)["id"])[-1]
    assert (final["succeeded_requests"], final["failed_requests"]) == (1, 2)
    assert final["status"] == "SUCCESS"
    assert final["errors"] == [{"message": "Invalid line: not a JSON object with a body", "count": 1}]
    error_file = mock.get(f"/v1/files/{final['error_file']}").json()
    assert error_file["sample_type"] == "batch_error"
    refused, broken = lines_of(mock, final["error_file"])
    direct = mock.post("/v1/chat/completions", json={"model": CHAT, **REFUSED})
    assert refused["custom_id"] == "bad"
    assert refused["response"] == {"status_code": direct.status_code, "body": direct.json()}
    assert (broken["custom_id"], broken["response"]["status_code"]) == (None, 400)


def test_inline_requests_become_an_input_file_and_outputs(mock: httpx.Client) -> None:
    requests = [{"custom_id": "0", "body": question(0)}, {"custom_id": "1", "body": question(1)}]
    created = create(mock, requests=requests, model=CHAT)
    (input_file,) = created["input_files"]
    stored = mock.get(f"/v1/files/{input_file}").json()
    assert (stored["sample_type"], stored["num_lines"]) == ("batch_request", 2)
    final = poll(mock, created["id"])[-1]
    assert [item["custom_id"] for item in final["outputs"]] == ["0", "1"], "filled even unasked, as live"
    assert final["outputs"] == lines_of(mock, final["output_file"])


def test_inline_true_lists_the_outputs_of_a_file_job(mock: httpx.Client) -> None:
    file_id = upload(mock, jsonl([{"custom_id": "a", "body": question(2)}]))
    final = poll(mock, create(mock, input_files=[file_id], model=CHAT)["id"], "?inline=true")[-1]
    assert [item["custom_id"] for item in final["outputs"]] == ["a"]


def test_embedding_lines_run_too(mock: httpx.Client) -> None:
    file_id = upload(mock, jsonl([{"custom_id": "e", "body": {"input": ["hello", "world"]}}]))
    final = poll(
        mock, create(mock, input_files=[file_id], model="mistral-embed", endpoint="/v1/embeddings")["id"]
    )[-1]
    (line,) = lines_of(mock, final["output_file"])
    assert len(line["response"]["body"]["data"]) == 2


def test_a_cancelled_job_ends_cancelled(start_mock: Callable[..., str]) -> None:
    with httpx.Client(base_url=start_mock(job_step_ms=300), headers=AUTH) as http:
        file_id = upload(http, jsonl([{"custom_id": str(n), "body": question(n)} for n in range(20)]))
        job_id = create(http, input_files=[file_id], model=CHAT)["id"]
        cancelled = http.post(f"/v1/batch/jobs/{job_id}/cancel")
        valid("BatchJob", cancelled.json())
        assert cancelled.json()["status"] == "CANCELLATION_REQUESTED"
        final = poll(http, job_id)[-1]
        assert final["status"] == "CANCELLED" and final["completed_at"] is not None
        again = http.post(f"/v1/batch/jobs/{job_id}/cancel").json()
        assert again["status"] == "CANCELLED", "a finished job stays as it ended"


@pytest.mark.parametrize(
    ("fault", "status"), [("batch=failed", "FAILED"), ("batch=timeout", "TIMEOUT_EXCEEDED")]
)
def test_a_test_can_ask_for_the_other_endings(mock: httpx.Client, fault: str, status: str) -> None:
    file_id = upload(mock, jsonl([{"custom_id": str(n), "body": question(n)} for n in range(10)]))
    job_id = create(mock, {"x-mock-fault": fault}, input_files=[file_id], model=CHAT)["id"]
    final = poll(mock, job_id)[-1]
    assert final["status"] == status
    if status == "FAILED":
        assert final["errors"] and final["output_file"] is None
    else:
        assert 0 < final["succeeded_requests"] < 10
        assert len(lines_of(mock, final["output_file"])) == final["succeeded_requests"]


def test_a_job_with_no_request_in_its_files_fails(mock: httpx.Client) -> None:
    file_id = upload(mock, b"not json\n{also not}\n")
    final = poll(mock, create(mock, input_files=[file_id], model=CHAT)["id"])[-1]
    assert final["status"] == "FAILED" and final["errors"][0]["count"] == 2


def test_listing_filters_orders_and_deletes(mock: httpx.Client) -> None:
    file_id = upload(mock, jsonl([{"custom_id": "0", "body": question(0)}]))
    first = create(mock, input_files=[file_id], model=CHAT)["id"]
    second = create(mock, input_files=[file_id], model="mistral-large-latest")["id"]
    listed = mock.get("/v1/batch/jobs").json()
    valid("ListBatchJobsResponse", listed)
    assert listed["object"] == "list" and listed["total"] == 2
    assert mock.get(f"/v1/batch/jobs?model={CHAT}").json()["data"][0]["id"] == first
    poll(mock, first), poll(mock, second)
    assert mock.get("/v1/batch/jobs?status=SUCCESS&status=FAILED").json()["total"] == 2
    assert mock.get("/v1/batch/jobs?status=RUNNING").json()["total"] == 0
    # The SDK sends metadata as bare keys: not refused.
    assert mock.get("/v1/batch/jobs?team=qa&created_by_me=true").status_code == 200
    deleted = mock.delete(f"/v1/batch/jobs/{first}").json()
    valid("DeleteBatchJobResponse", deleted)
    assert deleted == {"id": first, "object": "batch", "deleted": True}
    assert mock.get(f"/v1/batch/jobs/{first}").json() == {"detail": "Batch job not found"}


def test_the_sdk_runs_a_job_and_reads_its_output(start_mock: Callable[..., str]) -> None:
    with Mistral(api_key=KEY, server_url=start_mock(job_step_ms=10)) as sdk:
        content = jsonl([{"custom_id": "x", "body": question(3)}])
        uploaded = sdk.files.upload(file={"file_name": "in.jsonl", "content": content}, purpose="batch")
        job = sdk.batch.jobs.create(input_files=[uploaded.id], model=CHAT, endpoint="/v1/chat/completions")
        while job.status not in ("SUCCESS", "FAILED"):
            time.sleep(0.02)
            job = sdk.batch.jobs.get(job_id=job.id)
        assert job.status == "SUCCESS" and job.output_file
        (line,) = [json.loads(row) for row in sdk.files.download(file_id=job.output_file).read().splitlines()]
        assert line["custom_id"] == "x"
        assert sdk.batch.jobs.list(status=["SUCCESS"]).total == 1


# --- refusals -------------------------------------------------------------------------------------------


def test_a_job_without_requests_or_with_a_wrong_model_is_refused(mock: httpx.Client) -> None:
    nothing = mock.post("/v1/batch/jobs", json={"endpoint": "/v1/chat/completions", "model": CHAT})
    assert nothing.status_code == 400
    file_id = upload(mock, jsonl([{"custom_id": "0", "body": question(0)}]))
    for model, endpoint in [
        ("no-such-model", "/v1/chat/completions"),
        ("mistral-embed", "/v1/chat/completions"),
    ]:
        wrong = mock.post(
            "/v1/batch/jobs", json={"endpoint": endpoint, "model": model, "input_files": [file_id]}
        )
        assert wrong.status_code == 400
        assert wrong.json()["type"] == "invalid_model"
    missing = mock.post(
        "/v1/batch/jobs",
        json={"endpoint": "/v1/chat/completions", "input_files": ["00000000-0000-4000-8000-000000000000"]},
    )
    assert (missing.status_code, missing.json()) == (404, {"detail": "File not found"})


def test_schema_errors_are_422s_located_in_body_path_and_query(mock: httpx.Client) -> None:
    body = {"endpoint": "/v1/images", "timeout_hours": 0, "input_files": ["nope"], "metadata": {"k": ""}}
    details = mock.post("/v1/batch/jobs", json=body).json()["message"]["detail"]
    assert {tuple(d["loc"][:2]) for d in details} == {
        ("body", "endpoint"), ("body", "timeout_hours"), ("body", "input_files"), ("body", "metadata"),
    }  # fmt: skip
    (path,) = mock.get("/v1/batch/jobs/123").json()["message"]["detail"]
    assert path["loc"] == ["path", "job_id"]
    (query,) = mock.get("/v1/batch/jobs?status=DONE").json()["message"]["detail"]
    assert query["loc"] == ["query", "status", 0]
    unknown = mock.post("/v1/batch/jobs/00000000-0000-4000-8000-000000000000/cancel")
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Batch job not found"})


def test_moderation_lines_answer_like_the_endpoint(mock: httpx.Client) -> None:
    file_id = upload(mock, jsonl([{"custom_id": "m", "body": {"input": ["I will kill you", "hello"]}}]))
    job = create(mock, input_files=[file_id], model="mistral-moderation-latest", endpoint="/v1/moderations")
    (line,) = lines_of(mock, poll(mock, job["id"])[-1]["output_file"])
    direct = mock.post(
        "/v1/moderations", json={"model": "mistral-moderation-latest", "input": ["I will kill you", "hello"]}
    )
    assert line["response"]["body"] == direct.json()
