"""The mock's security defaults, tested on the real command line: loopback only, an id on every answer
that its log line names, and no key in any log line, at the most verbose level, while recording.
"""

import json
import re
from pathlib import Path

import httpx2 as httpx
import pytest

from mockserver.app import create_app
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from testkit.processes import child_env, mock_process
from testkit.rawhttp import raw_request
from testkit.secrets import assert_no_secrets

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
CHAT = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Say hello."}]}
UPSTREAM_KEY = "UPSTREAM-key-9c8b7a6f5e4d"
CLIENT_KEY = "CLIENT-key-0f1e2d3c4b5a"
WRONG_KEY = "WRONG-key-5a6b7c8d9e0f"


def _listeners(port: int) -> list[str]:
    """The local addresses with a socket listening on ``port`` (IPv4 and IPv6), from /proc/net."""
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not Path(table).exists():  # a kernel without IPv6
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                assert len(address) == width
                found.append(address)
    return found


def _access_lines(output: str) -> list[dict]:
    return [json.loads(line[line.index("{") :]) for line in output.splitlines() if '"correlation_id"' in line]


def test_loopback_by_default_and_every_answer_names_the_id_of_its_log_line(tmp_path: Path) -> None:
    auth = {"Authorization": "Bearer some-key-123"}
    with mock_process([], tmp_path) as mock, httpx.Client(base_url=mock.url, timeout=30) as client:
        port = int(mock.url.rsplit(":", 1)[1])
        # No --host: only 127.0.0.1 listens (0100007F as /proc/net/tcp writes it), no IPv6 or wildcard.
        assert _listeners(port) == ["0100007F"]
        assert f"on http://127.0.0.1:{port}" in mock.output()
        answers = [
            client.get("/health"),
            client.post("/v1/chat/completions", json=CHAT, headers=auth),
            client.post("/v1/chat/completions", json={**CHAT, "stream": True}, headers=auth),
            client.post("/v1/chat/completions", json={"model": 1}, headers=auth),
            client.post("/v1/chat/completions", json=CHAT),
            client.get("/v1/nope", headers=auth),
            client.get("/v1/embeddings", headers=auth),
            client.post("/v1/embeddings", json=CHAT, headers={**auth, "x-mock-fault": "status=503"}),
            client.get("/v1/models", headers=auth),
        ]
        mock.stop()
        lines = _access_lines(mock.output())
    assert [a.status_code for a in answers] == [200, 200, 200, 422, 401, 404, 405, 503, 200]
    by_id = {line["correlation_id"]: line for line in lines}
    assert len(lines) == len(by_id), "each line has its own id"
    # The answers sent, and the /health probes that waited for the server to start.
    assert len([line for line in lines if line["path"] != "/health"]) == len(answers) - 1
    for sent in answers:
        correlation = sent.headers["mistral-correlation-id"]
        assert UUID7.match(correlation) and sent.headers["x-kong-request-id"] == correlation
        line = by_id[correlation]
        assert (line["method"], line["path"], line["status"]) == (
            sent.request.method,
            sent.request.url.path,
            sent.status_code,
        )
        if sent.status_code in (401, 404):
            assert line["request_id"] == sent.json()["request_id"], "the gateway body's id is logged too"


@pytest.mark.parametrize("mode", ["record", "synthetic"])
def test_no_key_reaches_the_logs_at_the_most_verbose_level(tmp_path: Path, mode: str) -> None:
    """DEBUG logs everything any level would: a key absent at DEBUG is absent at every level."""
    recordings = tmp_path / "recordings"
    auth = {"Authorization": f"Bearer {CLIENT_KEY}"}
    with ServerThread(lambda: create_app(MockSettings(api_keys=frozenset({UPSTREAM_KEY})))) as upstream:
        args = ["--api-key", CLIENT_KEY]
        if mode == "record":
            args += ["--mode", "record", "--upstream", upstream, "--recordings", str(recordings)]
        env = child_env(MISTRAL_API_KEY=UPSTREAM_KEY)
        with mock_process(args, tmp_path, env=env, log_level="DEBUG") as mock:
            with httpx.Client(base_url=mock.url, headers=auth, timeout=30) as client:
                leaky = {**CHAT, "messages": [{"role": "user", "content": f"{CLIENT_KEY} {UPSTREAM_KEY}"}]}
                assert client.post("/v1/chat/completions", json=leaky).status_code == 200
                assert client.post("/v1/chat/completions", json={**leaky, "stream": True}).status_code == 200
                assert client.get(f"/v1/models/{CLIENT_KEY}", params={"q": UPSTREAM_KEY}).status_code == 404
                assert client.get("/v1/models", params={"api_key": CLIENT_KEY}).status_code == 200
                assert (
                    client.post("/v1/embeddings", json={"model": CLIENT_KEY, "input": "x"}).status_code == 400
                )
                refused = client.get("/v1/models", headers={"Authorization": f"Bearer {WRONG_KEY}"})
                assert refused.status_code == 401
            # A header line too long to parse: aiohttp's error quotes the raw bytes, key included.
            head = f"GET /v1/models HTTP/1.1\r\nAuthorization: Bearer {CLIENT_KEY}{'k' * 9000}\r\n\r\n"
            assert raw_request(mock.url, head.encode())[0] == 400
            mock.stop()
            output = mock.output()
    assert '"status": 200' in output and "DEBUG" in output, "the log was written, at DEBUG"
    if mode == "record":
        assert "recorded GET" in output
        assert_no_secrets(recordings, CLIENT_KEY, UPSTREAM_KEY, WRONG_KEY)
    (tmp_path / "scan").mkdir()
    (tmp_path / "scan" / "log").write_text(output)
    assert_no_secrets(tmp_path / "scan", CLIENT_KEY, UPSTREAM_KEY, WRONG_KEY)
    assert "Traceback" not in output
