"""Running the shim as operators do: N gunicorn workers from the app factory, and ``make run``."""

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import httpx2 as httpx
import pytest
from aiohttp.test_utils import make_mocked_request
from openai import OpenAI

from shim.edges import authenticate as _authenticate
from shim.settings import ShimSettings
from shim.translate.problem import OpenAIError
from testkit.auth import KEY
from testkit.paths import ROOT
from testkit.processes import child_env, free_port, wait_healthy
from testkit.upstream import Upstream, leaves_early
from testkit.wire import CHAT


@contextmanager
def gunicorn(target: str, workers: int, env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``gunicorn TARGET --worker-class aiohttp.GunicornWebWorker -w N`` on a free port; its log file."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as sink:
        command = [sys.executable, "-m", "gunicorn", target, "--worker-class", "aiohttp.GunicornWebWorker"]
        process = subprocess.Popen(
            [*command, "-w", str(workers), "--bind", f"127.0.0.1:{port}"],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url, log
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(30)
    assert status == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def test_gunicorn_runs_the_app_factory_with_two_workers(mock_url: str, tmp_path: Path) -> None:
    env = child_env(MISTRAL_BASE_URL=mock_url, SHIM_RETRIES="1")
    with gunicorn("shim.app:create_app()", 2, env, tmp_path) as (url, log):
        client = OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=30)
        for _ in range(4):
            assert client.chat.completions.create(**CHAT).choices[0].message.content
        chunks = list(client.chat.completions.create(**CHAT, stream=True, max_tokens=5))
        assert chunks[-1].choices[0].finish_reason in ("stop", "length")
        assert len(client.embeddings.create(model="mistral-embed", input=["a", "b"]).data) == 2
        assert (
            httpx.get(f"{url}/mistral/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code
            == 200
        )
    output = log.read_text()
    assert output.count("Booting worker with pid") == 2
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"request_id"')]
    assert sum(line["path"] == "/v1/chat/completions" for line in lines) == 5


def test_gunicorn_runner_cancels_upstream_when_the_client_leaves(tmp_path: Path) -> None:
    upstream = Upstream()
    upstream.script = leaves_early(upstream, keep_sending=False)
    with (
        upstream,
        gunicorn("shim.app:gunicorn_runner", 1, child_env(MISTRAL_BASE_URL=upstream.url), tmp_path) as (
            url,
            _,
        ),
    ):
        client = OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=30)
        stream = client.chat.completions.create(**CHAT, stream=True)
        assert next(iter(stream)).choices[0].delta.content == "Hel"
        stream.close()
        assert upstream.closed.wait(5)


def test_make_run_starts_mock_and_shim_and_stops_both(tmp_path: Path) -> None:
    mock_port, shim_port = free_port(), free_port()
    log = tmp_path / "run.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_servers.py"],
            env=child_env(
                MOCK_PORT=str(mock_port), SHIM_PORT=str(shim_port), MISTRAL_API_KEY="not-for-the-mock"
            ),
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    shim_url = f"http://127.0.0.1:{shim_port}"
    try:
        deadline = time.monotonic() + 60
        while "Press Ctrl-C to stop both." not in log.read_text():  # both are up when it says so
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert httpx.get(f"http://127.0.0.1:{mock_port}/health").status_code == 200
        client = OpenAI(base_url=f"{shim_url}/v1", api_key="any-key", max_retries=0, timeout=30)
        assert client.chat.completions.create(**CHAT).choices[0].message.content
    finally:
        process.send_signal(signal.SIGINT)
        status = process.wait(30)
    output = log.read_text()
    assert status == 0, output
    assert f'OpenAI(base_url="{shim_url}/v1", api_key="any-key")' in output
    for port in (mock_port, shim_port):
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    assert "Traceback" not in output


def _from(peer: str) -> object:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 5555) if name == "peername" else default
    )
    return make_mocked_request("GET", "/v1/models", transport=transport)


def test_own_key_without_client_keys_serves_only_this_machine() -> None:
    """Bound to loopback, but reached from elsewhere (a proxy, gunicorn on 0.0.0.0): never spend the key."""
    config = ShimSettings(mistral_api_key="sk-own")
    assert _authenticate(_from("127.0.0.1"), config) is None  # type: ignore[arg-type]
    assert _authenticate(_from("::1"), config) is None  # type: ignore[arg-type]
    with pytest.raises(OpenAIError) as raised:
        _authenticate(_from("192.0.2.7"), config)  # type: ignore[arg-type]
    assert (raised.value.status, raised.value.code) == (403, "client_keys_required")
