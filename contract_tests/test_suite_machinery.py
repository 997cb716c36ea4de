"""The contract suite's own machinery, tested so that it cannot pass silently.

Every contract test leans on three pieces: the spec oracle (a body the published spec refuses fails the
test), the ``breaks`` fixture (a breakage claimed for the mock alone must happen, and must not happen behind
the shim) and the matrix (what a team reads). If the oracle accepted everything, or ``breaks`` accepted a
block that does not raise, every cell would stay green while proving nothing; these tests show that each
piece refuses what it should. The oracle is tested on bodies built here, and once through a real client on
a real server; ``breaks``, the ``targets`` marker and the matrix through inner pytest runs (``pytester``)
of small demo suites.

They take no target: they sit in the matrix's "—" column, in their own section, so the published matrix
also says that the suite's checks were themselves checked on that run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from openai import AsyncOpenAI, OpenAI

from contract_tests.matrix import OTHER, Cell, Matrix
from contract_tests.oracle import Oracle
from testkit.paths import require_shared
from testkit.readme import README_END, README_START
from testkit.wire import OPENAI_ANSWER, OPENAI_CHUNK

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.column(OTHER)

ORACLE = pytest.mark.feature("Suite self-checks", "spec oracle refuses what the spec refuses")
BREAKS = pytest.mark.feature("Suite self-checks", "breaks fixture holds its claims")
MATRIX = pytest.mark.feature("Suite self-checks", "matrix renders every outcome")

MISTRAL_ANSWER: dict[str, Any] = {
    "id": "0123456789abcdef0123456789abcdef",
    "object": "chat.completion",
    "created": 1,
    "model": "mistral-small-latest",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello.", "tool_calls": None},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}
MISTRAL_CHUNK: dict[str, Any] = {
    "id": "0123456789abcdef0123456789abcdef",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "mistral-small-latest",
    "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}],
}
CHAT = "/v1/chat/completions"


def _sse(*events: dict[str, Any]) -> bytes:
    return ("".join(f"data: {json.dumps(event)}\n\n" for event in events) + "data: [DONE]\n\n").encode()


def _judge(
    openai_protocol: bool,
    body: Any,
    *,
    path: str = CHAT,
    kind: str = "application/json",
    status: int = 200,
    method: str = "POST",
) -> tuple[int, list[str]]:
    """Hand one complete answer to a fresh oracle: how many bodies it judged, and what it refused."""
    require_shared()
    oracle = Oracle(openai_protocol=openai_protocol)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    oracle.judge(
        httpx.Request(method, f"http://127.0.0.1{path}"),
        httpx.Response(status, headers={"content-type": kind}),
        raw,
    )
    verdict = oracle.reset()
    return verdict.judged, verdict.problems


def _changed(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    node: Any = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


# --- the oracle -----------------------------------------------------------------------------------------


@ORACLE
@pytest.mark.parametrize(
    ("openai_protocol", "body", "kind", "bodies"),
    [
        (True, OPENAI_ANSWER, "application/json", 1),
        (
            True,
            _sse(OPENAI_CHUNK, _changed(OPENAI_CHUNK, ("choices", 0, "finish_reason"), "stop")),
            "text/event-stream",
            2,
        ),
        (False, MISTRAL_ANSWER, "application/json", 1),
        (False, _sse(MISTRAL_CHUNK), "text/event-stream", 1),
    ],
    ids=["openai-json", "openai-sse", "mistral-json", "mistral-sse"],
)
def test_the_oracle_accepts_valid_answers(openai_protocol: bool, body: Any, kind: str, bodies: int) -> None:
    """Each SSE event is judged on its own; ``[DONE]`` is not an event to judge."""
    assert _judge(openai_protocol, body, kind=kind) == (bodies, [])


@ORACLE
@pytest.mark.parametrize(
    ("openai_protocol", "body", "kind", "refusal"),
    [
        # Catalogue 34: Mistral's own finish reason, relayed untranslated.
        (
            True,
            _changed(OPENAI_ANSWER, ("choices", 0, "finish_reason"), "model_length"),
            "application/json",
            "CreateChatCompletionResponse: $.choices[0].finish_reason: 'model_length' is not one of",
        ),
        # Catalogue 32: a reasoning model's chunk list where OpenAI has a string, in the second event.
        (
            True,
            _sse(
                OPENAI_CHUNK,
                _changed(OPENAI_CHUNK, ("choices", 0, "delta", "content"), [{"type": "thinking"}]),
            ),
            "text/event-stream",
            "event 1: CreateChatCompletionStreamResponse: $.choices[0].delta.content",
        ),
        (
            False,
            {key: value for key, value in MISTRAL_ANSWER.items() if key != "usage"},
            "application/json",
            "ChatCompletionResponse: $: 'usage' is a required property",
        ),
        (
            False,
            _sse(MISTRAL_CHUNK, {key: value for key, value in MISTRAL_CHUNK.items() if key != "model"}),
            "text/event-stream",
            "event 1: CompletionChunk: $: 'model' is a required property",
        ),
    ],
    ids=["openai-json", "openai-sse-event", "mistral-json", "mistral-sse-event"],
)
def test_the_oracle_refuses_what_the_spec_refuses(
    openai_protocol: bool, body: Any, kind: str, refusal: str
) -> None:
    _judged, problems = _judge(openai_protocol, body, kind=kind)
    assert len(problems) == 1, problems
    assert refusal in problems[0]


@ORACLE
def test_behind_the_shim_errors_must_be_openais() -> None:
    """Mistral's error envelope passed through untranslated is caught; OpenAI's ``{"error": ...}`` is not."""
    mistral_error = {
        "object": "error",
        "message": "Invalid model: x",
        "type": "invalid_model",
        "param": None,
        "code": "1500",
    }
    _judged, problems = _judge(True, mistral_error, status=400)
    assert problems and "ErrorResponse: $: 'error' is a required property" in problems[0]
    openai_error = {
        "error": {"message": "x", "type": "invalid_request_error", "param": "model", "code": None}
    }
    assert _judge(True, openai_error, status=404) == (1, [])
    # Without the shim an error is Mistral's own business: its envelope is what Mistral promises.
    assert _judge(False, mistral_error, status=400) == (0, [])


@ORACLE
def test_the_oracle_refuses_a_body_that_is_not_json() -> None:
    _judged, problems = _judge(True, b"<html><body>502 Bad Gateway</body></html>")
    assert any("not JSON" in problem for problem in problems)


@ORACLE
def test_the_oracle_leaves_unfinished_events_and_unknown_routes_alone() -> None:
    """A stream the client stopped reading mid-event, and routes with no schema, are not judged."""
    cut = _sse(OPENAI_CHUNK)[: -len("data: [DONE]\n\n")] + b'data: {"id": 1'
    assert _judge(True, cut, kind="text/event-stream") == (1, [])
    assert _judge(True, {"data": "not a list"}, path="/v1/assistants", method="GET") == (0, [])


@ORACLE
@pytest.mark.parametrize("path", ["/v1/ocr", "/mistral/v1/ocr"])
def test_what_the_shim_passes_through_is_judged_as_mistrals(path: str) -> None:
    """OCR goes through the shim untranslated: Mistral's spec judges it, answers and errors alike."""
    judged, problems = _judge(True, {"pages": "not a list"}, path=path)
    assert judged == 1 and any("OCRResponse" in problem for problem in problems), problems
    mistral_error = {"object": "error", "message": "bad pages", "type": "invalid_request_error"}
    assert _judge(True, mistral_error, path=path, status=400) == (0, [])


@ORACLE
def test_the_clients_transport_hands_what_it_read_to_the_oracle(lenient_server: str) -> None:
    """End to end: the SDK accepts the answer (it does not validate), the oracle on its transport does not."""
    require_shared()
    oracle = Oracle(openai_protocol=True)
    http = httpx.Client(transport=oracle.transport(), timeout=30)
    with OpenAI(base_url=f"{lenient_server}/v1", api_key="k", max_retries=0, http_client=http) as client:
        reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    assert reply.choices[0].finish_reason == "model_length"  # the SDK let it through
    verdict = oracle.reset()
    assert verdict.judged == 1
    assert len(verdict.problems) == 1 and "'model_length' is not one of" in verdict.problems[0]


def _stream_verdict(verdict: Any) -> None:
    assert verdict.judged == 3, "every event of the stream is judged, once"
    assert len(verdict.problems) == 1 and "event 2" in verdict.problems[0], verdict.problems


@ORACLE
def test_the_oracle_judges_each_event_of_a_stream_the_sdk_closes_at_done(lenient_stream: str) -> None:
    require_shared()
    oracle = Oracle(openai_protocol=True)
    http = httpx.Client(transport=oracle.transport(), timeout=30)
    with OpenAI(base_url=f"{lenient_stream}/v1", api_key="k", max_retries=0, http_client=http) as client:
        stream = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        assert len(list(stream)) == 3
    _stream_verdict(oracle.reset())


@ORACLE
async def test_the_oracle_judges_each_event_of_an_async_stream(lenient_stream: str) -> None:
    require_shared()
    oracle = Oracle(openai_protocol=True)
    http = httpx.AsyncClient(transport=oracle.async_transport(), timeout=30)
    async with AsyncOpenAI(
        base_url=f"{lenient_stream}/v1", api_key="k", max_retries=0, http_client=http
    ) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        assert len([chunk async for chunk in stream]) == 3
    _stream_verdict(oracle.reset())


# --- inner runs: breaks, targets, matrix ----------------------------------------------------------------


def _outcomes(recorder: pytest.HookRecorder) -> dict[str, str]:
    """Test name with its parameters → its outcome (a teardown failure makes it "failed")."""
    outcomes: dict[str, str] = {}
    for report in recorder.getreports("pytest_runtest_logreport"):
        name = report.nodeid.split("::")[-1]
        if report.when == "call" or report.outcome != "passed":
            outcomes[name] = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
    return outcomes


@BREAKS
def test_breaks_holds_a_claim_to_its_word(demo: pytest.Pytester) -> None:
    recorder = demo.inline_run("--target", "mock,shim+mock", "-k", "breaks or breakage or notes")
    assert _outcomes(recorder) == {
        "test_breaks_as_claimed[mock]": "passed",
        "test_breaks_as_claimed[shim+mock]": "passed",
        # Claimed for the mock, but the block did not raise there: DID NOT RAISE.
        "test_claims_a_breakage_that_does_not_happen[mock]": "failed",
        "test_claims_a_breakage_that_does_not_happen[shim+mock]": "passed",
        # Behind the shim the block must work: the error it raises fails the test.
        "test_breaks_behind_the_shim[mock]": "passed",
        "test_breaks_behind_the_shim[shim+mock]": "failed",
        # A silent breakage cannot be noted where the shim is.
        "test_notes_a_silent_breakage[mock]": "passed",
        "test_notes_a_silent_breakage[shim+mock]": "failed",
    }
    failures = {report.nodeid.split("::")[-1]: str(report.longrepr) for report in recorder.getfailures()}
    assert "DID NOT RAISE" in failures["test_claims_a_breakage_that_does_not_happen[mock]"]
    assert "ValueError: everywhere" in failures["test_breaks_behind_the_shim[shim+mock]"]
    assert "only a target without the shim" in failures["test_notes_a_silent_breakage[shim+mock]"]


@BREAKS
def test_the_targets_marker_restricts_a_test(demo: pytest.Pytester) -> None:
    recorder = demo.inline_run("--target", "mock,shim+mock", "-k", "only_on_mock")
    assert _outcomes(recorder) == {"test_only_on_mock[mock]": "passed"}


@BREAKS
def test_live_targets_skip_visibly_without_a_key(
    demo: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    result = demo.runpytest("--target", "live,live-direct", "-k", "test_works", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*no MISTRAL_API_KEY: live targets run with make contract-live*"])


@BREAKS
def test_an_unknown_target_is_refused(demo: pytest.Pytester) -> None:
    """A typo in ``--target`` stops the run with the known names, instead of running nothing green."""
    result = demo.runpytest("--target", "mock,staging")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown --target staging; known: shim+mock, shim+replay, mock, live*"])


@ORACLE
def test_an_answer_the_oracle_refuses_fails_the_test(demo: pytest.Pytester) -> None:
    """The ``oracle`` fixture turns a refused body into a failure at teardown, whatever the test asserted."""
    require_shared()
    demo.makepyfile(
        test_refused=f"""
        import json
        import httpx2 as httpx

        def test_asserts_nothing(oracle):
            body = {json.dumps(_changed(OPENAI_ANSWER, ("choices", 0, "finish_reason"), "model_length"))!r}
            oracle.judge(
                httpx.Request("POST", "http://127.0.0.1/v1/chat/completions"),
                httpx.Response(200, headers={{"content-type": "application/json"}}),
                body.encode(),
            )
        """
    )
    result = demo.runpytest("--target", "shim+mock", "test_refused.py")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*answers the published spec refuses*", "*'model_length' is not one of*"])


@MATRIX
def test_the_matrix_renders_every_outcome(demo: pytest.Pytester, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Demo\n\n{README_START}\n{README_END}\n", encoding="utf-8")
    written = tmp_path / "MATRIX.md"
    result = demo.runpytest(
        "--target=mock,shim+mock", f"--matrix-file={written}", f"--matrix-readme={readme}"
    )
    result.stdout.fnmatch_lines(
        ["*compatibility matrix*", f"matrix written to {written}", f"summary written to {readme}"]
    )
    summary = readme.read_text(encoding="utf-8")
    assert "- Demo: breaks as claimed: raises ValueError without the shim" in summary
    lines = [line for line in written.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    assert lines[0] == "| Feature | `shim+mock` | `mock` | `elsewhere` |"
    assert lines[1:3] == ["| --- | --- | --- | --- |", "| **Demo** | | | |"]
    rows = {cells[0]: cells[1:] for cells in (line[2:-2].split(" | ") for line in lines[3:])}
    assert rows == {
        "breaks as claimed": ["✅ works", "⛔ breaks: raises ValueError without the shim", ""],
        "breaks behind the shim too": ["❌ fails (1 of 1)", "⛔ breaks: always raises", ""],
        "claims a breakage that does not happen": ["✅ works", "❌ fails (1 of 1)", ""],
        "gap closed": ["❌ fails (1 of 1)", "❌ fails (1 of 1)", ""],
        "known gap": ["⚠️ known gap: a documented gap", "⚠️ known gap: a documented gap", ""],
        "no target": ["", "", "✅ works"],
        "notes a silent breakage": ["❌ fails (1 of 1)", "⛔ breaks: wrong result, no error", ""],
        "only on mock": ["", "✅ works", ""],
        "skipped": ["⏭️ skipped: nothing to see here", "⏭️ skipped: nothing to see here", ""],
        "works": ["✅ works", "✅ works", ""],
    }


@MATRIX
@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (Cell(passed=2), "✅ works"),
        (Cell(passed=1, skips=["no key"]), "✅ works (1 skipped)"),
        (Cell(skips=["set MISTRAL_API_KEY"]), "⏭️ skipped: set MISTRAL_API_KEY"),
        (Cell(passed=2, breaks=["seed → 422", "seed → 422", "n → 422"]), "⛔ breaks: seed → 422; n → 422"),
        (Cell(passed=1, known_gaps=["shim drops x"], breaks=["y"]), "⚠️ known gap: shim drops x"),
        (Cell(passed=3, failed=1, known_gaps=["gap"], skips=["s"]), "❌ fails (1 of 6)"),
    ],
    ids=["works", "works-with-skips", "skipped", "breaks", "known-gap", "fails"],
)
def test_a_cell_says_the_worst_of_what_happened(cell: Cell, text: str) -> None:
    assert cell.text() == text


@MATRIX
def test_the_matrix_groups_rows_by_section_and_orders_columns() -> None:
    matrix = Matrix(None)
    matrix.cells[("Models", "list")]["mock"].passed += 1
    matrix.cells[("Models", "list")]["shim+mock"].passed += 1
    matrix.cells[("Chat", "seed")]["mock"].breaks.append("seed → 422")
    matrix.cells[("Chat", "seed")]["mock"].passed += 1
    matrix.cells[("Chat", "seed")][OTHER].passed += 1
    assert matrix.columns() == ["shim+mock", "mock", OTHER]
    assert matrix.markdown().splitlines() == [
        "| Feature | `shim+mock` | `mock` | `—` |",
        "| --- | --- | --- | --- |",
        "| **Chat** | | | |",
        "| seed |  | ⛔ breaks: seed → 422 | ✅ works |",
        "| **Models** | | | |",
        "| list | ✅ works | ✅ works |  |",
    ]
