"""Helpers for the hardening tests: secret scans, the mock as a real process, raw HTTP, strict JSON.

``assert_no_secrets`` is the one check every recording test runs on what the recorder wrote: it reads every
byte of every file under a folder, and every file and folder name (lowercased, as names are slugs), and
fails naming each file that holds a key, in any of the forms a key could be written in (raw, JSON-escaped,
percent-encoded).
"""

import json
import socket
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from testkit.shim_support import Served, served_process


def _forms(key: str) -> set[bytes]:
    """The byte strings a key can appear as in a file: as is, JSON-escaped, percent-encoded."""
    return {key.encode(), json.dumps(key)[1:-1].encode(), quote(key, safe="").encode()}


def secrets_in(folder: Path, keys: Iterable[str]) -> list[str]:
    """``path: key`` for every file (or file name) under ``folder`` that holds one of ``keys``."""
    found = []
    keys = [k for k in keys if k]
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        for key in keys:
            # Names are slugs, lowercased: a key lowercased in a name is still the key.
            if any(form.decode().lower() in relative.lower() for form in _forms(key)):
                found.append(f"{relative} (in its name): {key}")
        if path.is_file():
            data = path.read_bytes()
            found.extend(f"{relative}: {key}" for key in keys if any(f in data for f in _forms(key)))
    return found


def assert_no_secrets(folder: Path, *keys: str) -> int:
    """Fail if any key is written anywhere under ``folder``; return how many bytes were scanned."""
    assert all(len(k) >= 8 for k in keys), "scan for distinctive keys, not ones that occur by chance"
    leaks = secrets_in(folder, keys)
    assert not leaks, f"keys written to disk: {leaks}"
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@contextmanager
def mock_process(
    args: Sequence[str], tmp_path: Path, env: dict[str, str] | None = None, log_level: str = "INFO"
) -> Iterator[Served]:
    """``python -m mockserver serve ARGS`` on a free port; stdout and stderr go to a file (``.output()``)."""
    command = [sys.executable, "-m", "mockserver", "serve", "--log-level", log_level, *args]
    with served_process(command, tmp_path, "mock", env) as served:
        yield served


def raw_request(url: str, head: bytes, body: bytes = b"", timeout: float = 30) -> tuple[int, bytes]:
    """Send bytes exactly as given (no client normalises the path); the status and the body."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(head + body)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(raw: bytes) -> Any:
    """Parse as standard JSON: ``NaN`` and ``Infinity``, which Python accepts and browsers do not, fail."""
    return json.loads(raw, parse_constant=_refuse_constant)


def mistral_error(status: int, content_type: str, raw: bytes) -> dict[str, Any]:
    """The parsed body of a 4xx, asserted to be JSON in one of the shapes Mistral answers errors with.

    The application's envelope ``{"object":"error","message","type","param","code"}``; the 422 validation
    body bare (``{"detail":[...]}``) or FastAPI's ``{"detail":"Method Not Allowed"}``; the gateway's
    ``{"message":...,"request_id":...}`` (and its 429 ``{"message":...}``).
    """
    assert 400 <= status < 500, (status, raw[:300])
    assert content_type.startswith("application/json"), (status, content_type, raw[:300])
    body = strict_json(raw)
    assert isinstance(body, dict), body
    if "object" in body:
        assert body["object"] in ("error", "Error") and "message" in body and "type" in body, body
    elif "detail" in body:
        assert set(body) == {"detail"} and isinstance(body["detail"], list | str), body
    else:
        assert isinstance(body.get("message"), str) and set(body) <= {"message", "request_id"}, body
    return body


# --- bodies no endpoint accepts, and what Mistral answers them -----------------------------------------

NESTED_ARRAY = b"[" * 100_000 + b"]" * 100_000
NESTED_OBJECT = b'{"model": "mistral-small-latest", "metadata": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001
LONE_SURROGATE = b'{"model": "mistral-small-latest", "messages": [{"role": "user", "content": "\\ud800"}]}'
PARSE = "There was an error parsing the body"
# (name, body, content type, status, the 422's error type or the 400's message)
BODIES: list[tuple[str, bytes, str | None, int, str]] = [
    ("invalid-json", b'{"model": ', "application/json", 422, "json_invalid"),
    ("trailing-garbage", b'{"model": "x"} }', "application/json", 422, "json_invalid"),
    ("array", b"[1, 2, 3]", "application/json", 422, "model_type"),
    ("string", b'"hello"', "application/json", 422, "model_type"),
    ("number", b"42", "application/json", 422, "model_type"),
    ("null", b"null", "application/json", 422, "model_type"),
    ("empty", b"", "application/json", 422, "missing"),
    ("nested-arrays-100k", NESTED_ARRAY, "application/json", 400, PARSE),
    ("nested-objects-100k", NESTED_OBJECT, "application/json", 400, PARSE),
    ("invalid-utf8", b'{"model": "\xff\xfe\xfd"}', "application/json", 400, PARSE),
    ("lone-surrogate", LONE_SURROGATE, "application/json", 400, PARSE),
    ("huge-integer", b'{"model": "x", "max_tokens": ' + b"9" * 5000 + b"}", "application/json", 400, PARSE),
    ("infinity", b'{"model": 1e999}', "application/json", 422, "string_type"),
    ("text-plain", b'{"model": "x"}', "text/plain", 422, "model_type"),
    ("form", b"model=x&prompt=y", "application/x-www-form-urlencoded", 422, "model_type"),
    ("multipart", b"--b\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b", 422, "model_type"),
    ("no-content-type-not-json", b"model=x", None, 422, "json_invalid"),
]  # fmt: skip
