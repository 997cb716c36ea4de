"""``/mistral/v1/{path}`` and ``POST /v1/ocr``: Mistral's own API through the shim, on its host only.

The SSRF tests send hostile request lines over a raw socket (clients normalise URLs before sending) and
look at what a recording upstream actually received: every request lands on the configured host, under the
configured base path, with the shim's key and never the client's.
"""

import asyncio
import base64
import io
import socket
import threading
from collections.abc import Callable

import httpx2 as httpx
import pytest
from mistralai.client import Mistral
from mistralai.client import errors as sdk_errors
from PIL import Image

from testkit.auth import AUTH, CLIENT_KEY, KEY, UPSTREAM_KEY
from testkit.upstream import Received, Upstream, wait_event
from testkit.wire import chunk, response_head, sse

PROMPT = [{"role": "user", "content": "Say hello."}]


def png_data_uri() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- with Mistral's SDK and httpx, in front of the mock


def test_mistral_sdk_ocr_through_the_shim(sdk: Mistral) -> None:
    response = sdk.ocr.process(
        model="mistral-ocr-latest", document={"type": "image_url", "image_url": png_data_uri()}
    )
    assert response.usage_info.pages_processed == len(response.pages) == 1
    assert response.pages[0].dimensions.width == 40


def test_mistral_sdk_chat_stream_embeddings_and_models(sdk: Mistral) -> None:
    assert sdk.chat.complete(model="mistral-small-latest", messages=PROMPT).choices[0].message.content
    events = list(sdk.chat.stream(model="mistral-small-latest", messages=PROMPT, max_tokens=6))
    assert events[-1].data.choices[0].finish_reason in ("stop", "length")
    assert len(sdk.embeddings.create(model="mistral-embed", inputs=["a"]).data[0].embedding) == 1024
    assert "mistral-small-latest" in [m.id for m in sdk.models.list().data]


def test_mistral_errors_pass_unchanged_to_its_sdk(sdk: Mistral) -> None:
    with pytest.raises(sdk_errors.SDKError) as raised:
        sdk.chat.complete(model="no-such-model", messages=PROMPT)
    assert raised.value.status_code == 400
    assert "Invalid model: no-such-model" in raised.value.body


def test_ocr_with_httpx_on_both_routes(shim_url: str) -> None:
    body = {"model": "mistral-ocr-latest", "document": {"type": "image_url", "image_url": png_data_uri()}}
    for path in ("/v1/ocr", "/mistral/v1/ocr"):
        response = httpx.post(f"{shim_url}{path}", json=body, headers=AUTH, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json()["pages"][0]["dimensions"]["height"] == 30
        assert response.headers["x-request-id"] and float(response.headers["x-shim-overhead-ms"]) >= 0


def test_wrong_bearer_is_refused_by_mistral(
    start_mock: Callable[..., str], start_shim: Callable[..., str]
) -> None:
    shim = start_shim(upstream=start_mock(api_keys=frozenset({"right"})))
    assert (
        httpx.get(f"{shim}/mistral/v1/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
    )
    assert (
        httpx.get(f"{shim}/mistral/v1/models", headers={"Authorization": "Bearer right"}).status_code == 200
    )


# --- what the upstream receives


CLIENT_AUTH = {"Authorization": f"Bearer {CLIENT_KEY}"}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_any_method_path_query_and_body_pass_with_the_shim_key(
    ok_upstream: Upstream, keyed_shim: str, method: str
) -> None:
    body = b'{"purpose": "ocr", "note": "caf\xc3\xa9"}' if method in ("POST", "PUT", "PATCH") else None
    response = httpx.request(
        method,
        f"{keyed_shim}/mistral/v1/files/file-123?purpose=ocr&page=2&q=a%26b",
        content=body,
        headers={
            **CLIENT_AUTH,
            "Content-Type": "application/json",
            "X-Api-Key": CLIENT_KEY,
            "Cookie": f"session={CLIENT_KEY}",
            "mistral-feature": "kept",
        },
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    [seen] = ok_upstream.received
    assert (seen.method, seen.target) == (method, "/v1/files/file-123?purpose=ocr&page=2&q=a%26b")
    assert seen.body == (body or b"")
    assert seen.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert seen.headers["host"] == f"127.0.0.1:{ok_upstream.port}"
    assert seen.headers["mistral-feature"] == "kept"
    assert CLIENT_KEY not in str(seen.headers)


def test_multipart_upload_passes_byte_for_byte(ok_upstream: Upstream, keyed_shim: str) -> None:
    files = {"file": ("page.pdf", b"%PDF-1.4 fake", "application/pdf")}
    with httpx.Client() as client:
        url = f"{keyed_shim}/mistral/v1/files"
        sent = client.build_request("POST", url, files=files, data={"purpose": "ocr"}, headers=CLIENT_AUTH)
        client.send(sent)
    [seen] = ok_upstream.received
    assert seen.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert seen.headers["content-type"] == sent.headers["content-type"]
    assert seen.body == sent.read()


def test_without_own_key_the_client_bearer_goes_upstream(
    ok_upstream: Upstream, start_shim: Callable[..., str]
) -> None:
    shim = start_shim(upstream=ok_upstream.url)
    httpx.post(f"{shim}/v1/ocr", json={"model": "mistral-ocr-latest"}, headers=AUTH)
    [seen] = ok_upstream.received
    assert (seen.target, seen.headers["authorization"]) == ("/v1/ocr", f"Bearer {KEY}")


def raw_request(url: str, head: str) -> int:
    """Send ``head`` as it is over a socket; the response status."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        data = b""
        while b"\r\n" not in data:
            received = sock.recv(4096)
            if not received:
                break
            data += received
    return int(data.split(b" ", 2)[1])


def get(target: str, host: str = "evil.example", extra: str = "") -> str:
    return (
        f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {CLIENT_KEY}\r\n{extra}"
        "Connection: close\r\n\r\n"
    )


@pytest.mark.parametrize(
    "target",
    [
        "/mistral/v1/..%2F..%2Fadmin",
        "/mistral/v1/..%2f..%2fadmin",
        "/mistral/v1/%2e%2e/%2e%2e/admin",
        "/mistral/v1/files/%2E%2E/%2E%2E/%2E%2E/admin",
        "/mistral/v1/../../admin",
        "/mistral/v1/files/..",
        "/mistral/v1/a%5C..%5C..%5Cadmin",
        "//evil.example/x",
        "/mistral/../admin",
    ],
)
def test_paths_that_try_to_leave_the_api_are_refused(
    ok_upstream: Upstream, keyed_shim: str, target: str
) -> None:
    status = raw_request(keyed_shim, get(target))
    assert status in (400, 404)
    assert all(r.target.startswith("/v1/") for r in ok_upstream.received), [
        r.target for r in ok_upstream.received
    ]
    assert not any("admin" in r.target for r in ok_upstream.received)


@pytest.mark.parametrize(
    ("target", "extra", "upstream_target"),
    [
        ("/mistral/v1//evil.example/x", "", "/v1//evil.example/x"),
        ("/mistral/v1/http://evil.example/x", "", "/v1/http://evil.example/x"),
        ("/mistral/v1/@evil.example/x", "", "/v1/@evil.example/x"),
        ("http://evil.example/mistral/v1/models?a=1", "", "/v1/models?a=1"),
        (
            "/mistral/v1/models",
            "X-Forwarded-Host: evil.example\r\nForwarded: host=evil.example\r\n",
            "/v1/models",
        ),
    ],
    ids=["double-slash", "url-in-path", "userinfo", "absolute-form", "forwarded-host"],
)
def test_host_tricks_still_reach_only_the_configured_host(
    ok_upstream: Upstream, keyed_shim: str, target: str, extra: str, upstream_target: str
) -> None:
    assert raw_request(keyed_shim, get(target, extra=extra)) == 200
    [seen] = ok_upstream.received
    assert seen.target == upstream_target
    assert seen.headers["host"] == f"127.0.0.1:{ok_upstream.port}"
    assert seen.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"


def test_an_upstream_base_path_cannot_be_escaped(
    ok_upstream: Upstream, start_shim: Callable[..., str]
) -> None:
    shim = start_shim(upstream=f"{ok_upstream.url}/mistral-gw")
    assert httpx.get(f"{shim}/mistral/v1/models?x=1", headers=AUTH).status_code == 200
    assert raw_request(shim, get("/mistral/v1/..%2F..%2Fadmin")) == 400
    assert httpx.get(f"{shim}/v1/models/..%2F..%2Fadmin", headers=AUTH).status_code == 400
    assert [r.target for r in ok_upstream.received] == ["/mistral-gw/v1/models?x=1"]


def test_model_ids_are_one_path_segment(ok_upstream: Upstream, start_shim: Callable[..., str]) -> None:
    shim = start_shim(upstream=ok_upstream.url)
    httpx.get(f"{shim}/v1/models/ft:open-mistral-7b:abc:2024", headers=AUTH)
    httpx.get(f"{shim}/v1/models/a%3Fb", headers=AUTH)
    assert [r.target for r in ok_upstream.received] == [
        "/v1/models/ft:open-mistral-7b:abc:2024",
        "/v1/models/a%3Fb",
    ]


# --- streams through the pass-through


def test_pass_through_streams_are_not_buffered(start_shim: Callable[..., str]) -> None:
    first_seen = threading.Event()

    async def gated(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(response_head(content_type="text/event-stream") + sse(chunk("Hel")))
        await writer.drain()
        await wait_event(first_seen)
        writer.write(sse(chunk("lo", "stop")) + b"data: [DONE]\n\n")
        await writer.drain()

    with Upstream(gated) as upstream:
        shim = start_shim(upstream=upstream.url)
        sdk = Mistral(api_key=KEY, server_url=f"{shim}/mistral", timeout_ms=10_000)
        events = iter(sdk.chat.stream(model="mistral-small-latest", messages=PROMPT))
        assert next(events).data.choices[0].delta.content == "Hel"
        first_seen.set()
        assert [e.data.choices[0].delta.content for e in events] == ["lo"]


def test_pass_through_cut_mid_body_is_a_broken_answer(start_shim: Callable[..., str]) -> None:
    async def cut(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"40\r\ndata: {"
        )
        await writer.drain()

    with Upstream(cut) as upstream:
        shim = start_shim(upstream=upstream.url)
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{shim}/mistral/v1/chat/completions", json={}, headers=AUTH).read()


def test_a_curl_style_expect_100_continue_upload(ok_upstream: Upstream, keyed_shim: str) -> None:
    """curl sends ``Expect: 100-continue`` for large bodies: the shim answers it and does not forward it."""
    body = b'{"model": "mistral-ocr-latest"}'
    port = int(keyed_shim.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST /v1/ocr HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {CLIENT_KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 100")
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    [seen] = ok_upstream.received
    assert seen.body == body and "expect" not in seen.headers
