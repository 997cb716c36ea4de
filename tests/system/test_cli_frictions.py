"""What a new user meets first at the command line, each a plain line and exit status 2, never a
traceback: a busy port (before anything is announced), a bad flag value, a replay with no recordings
folder; and ``import-vcr`` saying why a cassette gave nothing, each path named once."""

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.processes import free_port, run_cli, run_mock_cli


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == "", "something was announced"
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    return line


def test_a_busy_port_stops_both_servers_before_they_announce(busy_port: int) -> None:
    assert one_line(run_mock_cli(["serve", "--port", str(busy_port)])) == (
        f"mistral-mock: port {busy_port} on 127.0.0.1 is in use by another process; "
        "choose another with --port (or MOCK_PORT)"
    )
    assert one_line(run_cli(["serve", "--port", str(busy_port)])) == (
        f"mistral-shim: port {busy_port} on 127.0.0.1 is in use by another process; "
        "choose another with --port (or SHIM_PORT)"
    )


@pytest.mark.parametrize(
    ("store", "message"),
    [
        (
            "postgresql://shim:hunter2@127.0.0.1:{port}/shim",
            "mistral-shim: the responses store postgresql://shim:<redacted>@127.0.0.1:{port}/shim "
            "could not be opened (ConnectionRefusedError: [Errno 111] Connect call failed "
            "('127.0.0.1', {port})); check --responses-store (SHIM_RESPONSES_STORE)",
        ),
        (
            "sqlite:///{tmp}/file/shim.db",
            "mistral-shim: the responses store sqlite:///{tmp}/file/shim.db could not be opened "
            "(FileExistsError: [Errno 17] File exists: '{tmp}/file'); check --responses-store "
            "(SHIM_RESPONSES_STORE)",
        ),
        (
            "mysql://shim:hunter2@db/shim",
            "mistral-shim: responses_store must be sqlite:///PATH, postgresql://USER@HOST/DB or memory://, "
            "not 'mysql://shim:<redacted>@db/shim'",
        ),
    ],
    ids=["postgresql refused", "sqlite folder is a file", "unknown kind"],
)
def test_a_store_that_cannot_be_opened_is_one_line_with_its_password_hidden(
    store: str, message: str, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a folder")
    port = free_port()
    url, expected = (text.format(port=port, tmp=tmp_path) for text in (store, message))
    assert one_line(run_cli(["serve", "--port", str(free_port()), "--responses-store", url])) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "-1"], "mistral-mock: speed must be 0 or more, not -1"),
        (["--log-level", "verbose"], "mistral-mock: log_level must be one of DEBUG, INFO, WARNING, ERROR"),
        (["--mode", "replays"], "mistral-mock: --mode must be 'synthetic', 'record', 'replay' or 'auto'"),
        (["--port", "eighty"], "mistral-mock: --port must be an integer, not 'eighty'"),
        (["--upstream", "api.mistral.ai"], "mistral-mock: upstream must be an http(s) URL"),
        (["--latency-ms", "-5"], "mistral-mock: latency_ms must be 0 or more, not -5"),
    ],
)
def test_bad_mock_flag_values_are_one_line(args: list[str], message: str) -> None:
    assert one_line(run_mock_cli(["serve", "--port", str(free_port()), *args])).startswith(message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--log-level", "verbose"], "mistral-shim: log_level must be one of DEBUG, INFO, WARNING, ERROR"),
        (["--timeout", "-1"], "mistral-shim: timeout must be a positive number, not -1"),
        (["--retries", "two"], "mistral-shim: --retries must be an integer, not 'two'"),
        (["--upstream", "api.mistral.ai"], "mistral-shim: upstream must be an http(s) URL"),
    ],
)
def test_bad_shim_flag_values_are_one_line(args: list[str], message: str) -> None:
    assert one_line(run_cli(["serve", "--port", str(free_port()), *args])).startswith(message)


def test_replay_refuses_a_recordings_folder_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "recordigns"
    line = one_line(
        run_mock_cli(["serve", "--port", str(free_port()), "--mode", "replay", "--recordings", str(missing)])
    )
    assert line.startswith(f"mistral-mock: --recordings {missing} is not a folder: replay mode has nothing")


MISTRAL = """interactions:
- request: {body: '{"model":"mistral-embed","input":["a"]}', headers: {Content-Type: [application/json]},
    method: POST, uri: 'https://api.mistral.ai/v1/embeddings'}
  response: {body: {string: '{"id":"e","object":"list","data":[],"model":"mistral-embed"}'},
    headers: {Content-Type: [application/json]}, status: {code: 200, message: OK}}
"""
OPENAI = MISTRAL.replace("api.mistral.ai", "api.openai.com")


def test_import_vcr_says_why_a_file_gave_nothing(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    (cassettes / "good.yaml").write_text(MISTRAL)
    (cassettes / "openai.yaml").write_text(OPENAI + OPENAI.split("\n", 1)[1])
    (cassettes / "empty.yaml").write_text("interactions: []\n")
    (cassettes / "notes.yaml").write_text("title: my notes\n")
    missing = tmp_path / "missing.yaml"
    result = run_mock_cli(["import-vcr", str(cassettes), str(missing), "--out", str(tmp_path / "out")])
    lines = result.stdout.splitlines()
    assert f"   1  {cassettes / 'good.yaml'}" in lines
    assert f"   0  {cassettes / 'empty.yaml'}: nothing imported: the cassette has no interactions" in lines
    assert (
        f"   0  {cassettes / 'openai.yaml'}: nothing imported: none of its 2 interactions is with a Mistral "
        "host (*.mistral.ai): api.openai.com (2)"
    ) in lines
    assert (
        f"FAIL  {cassettes / 'notes.yaml'}: not a cassette: unknown cassette format: no 'interactions' or "
        "'http_interactions' (keys: title)"
    ) in lines
    assert f"FAIL  {missing}: no such file" in lines
    assert all(line.count(str(tmp_path)) <= 1 for line in lines), "a path is named twice"
    assert lines[-1] == "1 interactions imported from 3 cassettes, 2 failed"
    assert result.returncode == 1
    nothing = run_mock_cli(["import-vcr", str(cassettes / "empty.yaml"), "--out", str(tmp_path / "out2")])
    assert nothing.returncode == 1, "a run that imported nothing did not do its job"
