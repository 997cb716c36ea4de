"""The shim's security defaults, proven on real processes: where it listens, when it refuses to start, how
keys are compared, CORS, where its requests can go, request ids, and logs that never hold a key."""

import asyncio
import hmac
import json
import socket
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import openai
import pytest
from openai import OpenAI

from testkit.leaks import keen_shim
from testkit.processes import child_env, free_port, run_cli, shim_process
from testkit.upstream import Received, Upstream, reply
from testkit.wire import CHAT, MISTRAL_ANSWER

UPSTREAM_KEY = "sk-upstream-QUv9r2LmX8"
CLIENT_KEY = "shim-client-Hk47TzPq0w"


def client(url: str, key: str = CLIENT_KEY) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=30)


# --- where the shim listens, and when it will not start


def listening_addresses(port: int) -> set[str]:
    """The local addresses of every socket listening on ``port``, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, _, hex_port = local.partition(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


LOOPBACK_V4 = "0100007F"  # 127.0.0.1, as the kernel writes it
LOOPBACK_V6 = "00000000000000000000000001000000"  # ::1


def test_a_bare_serve_listens_on_loopback_only_with_cors_off(tmp_path: Path) -> None:
    """``mistral-shim serve`` with no address: bound to 127.0.0.1 (nothing on 0.0.0.0 or ::), and no
    browser origin is allowed (a preflight is refused and no answer carries an Allow-Origin header)."""
    with shim_process([], tmp_path) as shim:
        port = int(shim.url.rsplit(":", 1)[1])
        assert listening_addresses(port) <= {LOOPBACK_V4, LOOPBACK_V6}
        assert listening_addresses(port)
        preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
        refused = httpx.options(f"{shim.url}/v1/chat/completions", headers=preflight)
        assert refused.status_code == 405
        answered = httpx.get(f"{shim.url}/health", headers=preflight)
        assert answered.status_code == 200
        for response in (refused, answered):
            assert not any(h.lower().startswith("access-control-") for h in response.headers)
    assert f"on http://127.0.0.1:{port} " in shim.output()


def test_cors_is_on_for_the_given_origin_only(tmp_path: Path) -> None:
    with shim_process(["--cors-origin", "https://app.example"], tmp_path) as shim:
        allowed = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
        response = httpx.options(f"{shim.url}/v1/chat/completions", headers=allowed)
        assert response.status_code == 204
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        other = httpx.get(f"{shim.url}/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("args", "env", "config"),
    [
        (["--host", "::"], {}, None),
        (["--host", "192.0.2.10"], {}, None),
        (["--host", "shim.example.com"], {}, None),
        (["--host", ""], {}, None),  # an empty host binds every interface
        ([], {"SHIM_HOST": "0.0.0.0"}, None),
        ([], {}, 'host = "0.0.0.0"\n'),
        (["--host", "0.0.0.0"], {"SHIM_API_KEYS": " , "}, None),  # keys that are only blanks are none
    ],
    ids=["ipv6-any", "lan-address", "hostname", "empty", "environment", "config-file", "blank-keys"],
)
def test_the_own_key_on_a_public_address_without_client_keys_never_starts(
    tmp_path: Path, args: list[str], env: dict[str, str], config: str | None
) -> None:
    if config is not None:
        path = tmp_path / "shim.toml"
        path.write_text(config)
        args = [*args, "--config", str(path)]
    result = run_cli(
        ["serve", "--port", str(free_port()), *args], env=child_env(MISTRAL_API_KEY=UPSTREAM_KEY, **env)
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing to serve MISTRAL_API_KEY" in result.stderr
    assert UPSTREAM_KEY not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


# --- keys compared in constant time


def test_client_keys_are_compared_in_constant_time_with_every_key(
    start_mock: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every presented key is compared with ``hmac.compare_digest`` against every configured key, the
    right one included, so neither the comparison nor the number of comparisons says which key was close."""
    keys = frozenset({CLIENT_KEY, "second-key-0123", "third"})
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    mock = start_mock(api_keys=frozenset({UPSTREAM_KEY}))
    with keen_shim(mock, mistral_api_key=UPSTREAM_KEY, client_keys=keys) as shim:
        for presented, status in ((CLIENT_KEY, 200), (CLIENT_KEY[:-1] + "x", 401), ("", 401), ("third", 200)):
            compared.clear()
            headers = {"Authorization": f"Bearer {presented}"} if presented else {}
            assert httpx.get(f"{shim.url}/v1/models", headers=headers).status_code == status
            assert sorted(b for _, b in compared) == sorted(k.encode() for k in keys), presented
            assert {a for a, _ in compared} == {presented.encode()}


# --- requests only ever reach the configured upstream


def attacks(canary: str) -> list[tuple[str, str, str]]:
    """(method, request target, extra headers) that try to point the shim at ``canary`` (host:port)."""
    host = canary
    return [
        ("GET", f"//{host}/v1/models", ""),
        ("GET", f"/mistral//{host}/v1/models", ""),
        ("GET", f"/mistral/v1//{host}/x", ""),
        ("GET", f"/mistral/v1/http://{host}/x", ""),
        ("GET", f"/mistral/v1/http:%2F%2F{host}%2Fx", ""),
        ("GET", f"/mistral/v1/@{host}/x", ""),
        ("GET", f"/mistral/v1/models@{host}", ""),
        ("GET", f"/mistral/v1/..%2F..%2F..%2F{host}", ""),
        ("GET", f"/mistral/v1/%2e%2e/%2e%2e/{host}/", ""),
        ("GET", f"/mistral/v1/%5C%5C{host}%5Cx", ""),
        ("GET", f"/mistral/v1/models?next=http://{host}/", ""),
        ("GET", f"http://{host}/mistral/v1/models", ""),
        ("GET", f"http://{host}/v1/models", ""),
        ("GET", "/mistral/v1/models", f"X-Forwarded-Host: {host}\r\nForwarded: host={host};proto=http\r\n"),
        ("GET", "/mistral/v1/models", f"X-Original-URL: http://{host}/\r\nX-Rewrite-URL: http://{host}/\r\n"),
        (
            "GET",
            "/mistral/v1/models",
            f"X-Forwarded-Server: {host}\r\nX-Forwarded-Port: {host.split(':')[1]}\r\n",
        ),
        ("GET", f"/v1/models/http:%2F%2F{host}%2Fv1%2Fmodels", ""),
        ("GET", f"/v1/models/%2F%2F{host}", ""),
        ("GET", f"/v1/models/..%2F..%2F{host}", ""),
        ("GET", f"/v1/models/@{host}", ""),
        ("CONNECT", host, ""),
        ("GET", "/mistral/v1/redirect", ""),  # the upstream redirects to the canary: not followed
        ("POST", "/v1/chat/completions", ""),  # the model names the canary (below)
        ("POST", "/mistral/v1/redirect", ""),
    ]


def send_raw(port: int, method: str, target: str, headers: str, host_header: str) -> int:
    body = json.dumps({**CHAT, "model": f"http://{host_header}/v1"}).encode() if method == "POST" else b""
    request = (
        f"{method} {target} HTTP/1.1\r\nHost: {host_header}\r\nAuthorization: Bearer {CLIENT_KEY}\r\n"
        f"{headers}Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_no_path_header_or_body_reaches_another_host(
    redirecting_upstream: Upstream, canary: Upstream, start_shim: Callable[..., str]
) -> None:
    """A second server, the canary, stands next to the configured upstream; every trick of the list is
    aimed at it (in the path, the Host and forwarding headers, the model, an upstream redirect), with the
    Host header naming it too. It receives nothing; the configured upstream gets only ``/v1/`` paths."""
    target = f"127.0.0.1:{canary.port}"
    redirecting_upstream.location["to"] = f"http://{target}/stolen"  # type: ignore[attr-defined]
    shim = start_shim(
        upstream=redirecting_upstream.url, mistral_api_key=UPSTREAM_KEY, client_keys=frozenset({CLIENT_KEY})
    )
    port = int(shim.rsplit(":", 1)[1])
    statuses = {}
    for method, path, headers in attacks(target):
        statuses[(method, path)] = send_raw(port, method, path, headers, target)
    assert canary.received == [], [r.target for r in canary.received]
    assert all(s < 500 for s in statuses.values()), statuses
    assert redirecting_upstream.received, (
        "no attack reached even the configured upstream: the test proves nothing"
    )
    for seen in redirecting_upstream.received:
        assert seen.target.startswith("/v1/"), seen.target
        assert seen.headers["host"] == f"127.0.0.1:{redirecting_upstream.port}"
        assert seen.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
        assert not any(
            name.startswith(("x-forwarded", "forwarded", "x-original", "x-rewrite")) for name in seen.headers
        )


# --- request ids, in every answer and in the log


def test_every_answer_carries_a_request_id_found_in_its_log_line(
    start_mock: Callable[..., str], tmp_path: Path
) -> None:
    mock = start_mock(api_keys=frozenset({UPSTREAM_KEY}))
    args = ["--upstream", mock, "--api-key", CLIENT_KEY, "--max-body-mb", "0.1"]
    auth = {"Authorization": f"Bearer {CLIENT_KEY}"}
    with shim_process(args, tmp_path, env=child_env(MISTRAL_API_KEY=UPSTREAM_KEY)) as shim:
        url = shim.url
        stream = client(url).chat.completions.with_raw_response.create(**CHAT, stream=True)
        list(stream.parse())
        answers = [
            client(url).chat.completions.with_raw_response.create(**CHAT).http_response,
            stream.http_response,
            httpx.post(f"{url}/v1/chat/completions", content=b"{", headers=auth),
            httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer wrong"}),
            httpx.get(f"{url}/v1/nowhere", headers=auth),
            httpx.delete(f"{url}/v1/chat/completions", headers=auth),
            httpx.post(f"{url}/v1/chat/completions", json={**CHAT, "x": "y" * 200_000}, headers=auth),
            httpx.post(
                f"{url}/v1/chat/completions", content=b"{}", headers={**auth, "Content-Type": "text/plain"}
            ),
            httpx.post(f"{url}/v1/chat/completions", json={**CHAT, "model": "no-such-model"}, headers=auth),
            httpx.post(
                f"{url}/v1/chat/completions",
                json=CHAT,
                headers={**auth, "x-mock-fault": "status=429;retry_after=1"},
            ),
            httpx.get(f"{url}/mistral/v1/models", headers=auth),
            httpx.get(f"{url}/health"),
            httpx.get(f"{url}/v1/models", headers={**auth, "x-request-id": "trace-abc-123"}),
        ]
        shim.stop()
    lines = [json.loads(line) for line in shim.output().splitlines() if line.startswith('{"request_id"')]
    by_id = {line["request_id"]: line for line in lines}
    assert len(by_id) == len(lines), "two log lines share a request id"
    answered = {response.headers["x-request-id"] for response in answers}
    # Besides the answers: the readiness probes of ``shim_process`` (one, or more when a probe on a busy
    # machine gave up waiting before the shim answered it), and nothing else.
    probes = [line for request_id, line in by_id.items() if request_id not in answered]
    assert probes and all(line["path"] == "/health" for line in probes), probes
    assert len(lines) == len(answers) + len(probes)
    statuses = []
    for response in answers:
        request_id = response.headers["x-request-id"]
        line = by_id[request_id]
        assert (line["status"], line["path"]) == (response.status_code, response.request.url.path)
        statuses.append(response.status_code)
    assert statuses == [200, 200, 400, 401, 404, 405, 413, 415, 404, 429, 200, 200, 200]
    assert "trace-abc-123" in by_id


# --- no key in any log, at any level


def leaky_upstream(received: Received) -> bytes:
    """What the configured upstream answers: mostly Mistral, but an error that echoes the key it got."""
    if received.target.startswith("/v1/echo"):
        return json.dumps({"message": f"bad key: {received.headers.get('authorization')}"}).encode()
    return json.dumps(MISTRAL_ANSWER).encode()


@pytest.mark.parametrize(
    "level_args",
    [
        ["--log-level", "DEBUG", "--log-bodies"],
        ["--log-level", "INFO", "--log-bodies"],
        ["--log-level", "WARNING"],
        ["--log-level", "ERROR"],
    ],
    ids=["debug-bodies", "info-bodies", "warning", "error"],
)
def test_no_key_reaches_the_logs_at_any_level(tmp_path: Path, level_args: list[str]) -> None:
    """Keys sent every way a client or an upstream can send them: as bearers (right and wrong), inside
    bodies, as a request id, in the query, echoed back in an upstream error, inside an over-long header
    aiohttp refuses. Not one appears in what the shim writes, at any level."""

    async def answer(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        status = 401 if received.target.startswith("/v1/echo") else 200
        await reply(writer, status, leaky_upstream(received))

    auth = {"Authorization": f"Bearer {CLIENT_KEY}"}
    with Upstream(answer) as upstream:
        args = ["--upstream", upstream.url, "--api-key", CLIENT_KEY, *level_args]
        with shim_process(args, tmp_path, env=child_env(MISTRAL_API_KEY=UPSTREAM_KEY)) as shim:
            url = shim.url
            said = f"my keys are {CLIENT_KEY} and {UPSTREAM_KEY}"
            client(url).chat.completions.create(
                model="mistral-small-latest", messages=[{"role": "user", "content": said}]
            )
            for wrong in (UPSTREAM_KEY, CLIENT_KEY + "x"):
                with pytest.raises(openai.AuthenticationError):
                    client(url, wrong).models.list()
            httpx.get(f"{url}/v1/models", headers={**auth, "x-request-id": CLIENT_KEY})
            httpx.get(f"{url}/mistral/v1/models?api_key={UPSTREAM_KEY}", headers=auth)
            httpx.post(f"{url}/mistral/v1/echo", json={"key": UPSTREAM_KEY}, headers=auth)
            httpx.post(f"{url}/v1/chat/completions", content=f'{{"{CLIENT_KEY}": '.encode(), headers=auth)
            port = int(url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(
                    f"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: {CLIENT_KEY}{'a' * 9000}\r\n\r\n".encode()
                )
                assert sock.recv(1024).startswith(b"HTTP/1.0 400")
            shim.stop()
    output = shim.output()
    assert UPSTREAM_KEY not in output and CLIENT_KEY not in output
    assert any(r.headers.get("authorization") == f"Bearer {UPSTREAM_KEY}" for r in upstream.received)
    if "INFO" in level_args or "DEBUG" in level_args:  # the lines that would have held a key are there
        assert '"request_id":"<redacted>"' in output
        assert "refused a malformed HTTP request" in output
        assert output.count('"request_body"') >= 3
