"""Load HTTP cassettes of real Mistral traffic into one uniform shape.

Public test suites record Mistral's API in three YAML dialects: vcrpy (pytest-recording), pydantic-ai's
vcrpy variant (bodies stored as already-parsed ``parsed_body``) and Ruby VCR (``http_interactions``, with
Ruby's ``!binary`` tag). They are the best evidence we have of what the real API sends, so the mock is
checked against them. This module hides the dialects: every interaction becomes a ``RecordedRequest`` /
``RecordedResponse`` pair with lower-cased headers, decoded bodies (gzip and brotli removed), JSON parsed
in recorded key order, and Server-Sent Events split into their ``data:`` payloads.

Nothing here writes or converts cassettes; callers read them where they lie. A file that cannot be
understood raises ``CassetteError`` naming the file and the problem.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import brotli
import yaml

__all__ = [
    "CassetteError",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "is_mistral",
    "iter_cassette_files",
    "load_cassette",
]

CASSETTE_SUFFIXES = frozenset({".yaml", ".yml"})
MISTRAL_DOMAIN = "mistral.ai"
DONE = "[DONE]"


class CassetteError(ValueError):
    """A cassette file that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes | None


@dataclass(frozen=True)
class RecordedResponse:
    status: int
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    events: list[Any] | None


@dataclass(frozen=True)
class Interaction:
    request: RecordedRequest
    response: RecordedResponse
    source: str
    recorded_at: str | None


# --- YAML -------------------------------------------------------------------------------------------

# libyaml's loader where PyYAML was built with it. Both loaders share SafeConstructor and Resolver, the only
# parts used here; the type checker is shown the pure-Python one, as it cannot subclass a runtime choice.
if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Problem(Exception):
    """Internal: what is wrong, without the file name (added once, at the top)."""


class CassetteLoader(_BaseLoader):
    """Safe YAML plus Ruby's ``!binary`` (base64 bytes); ``!ruby/...`` tags load as the plain node."""


def _construct_ruby_binary(loader: yaml.SafeLoader, node: yaml.Node) -> bytes:
    text = loader.construct_scalar(node)  # type: ignore[arg-type]  # any node may be !binary; this refuses others
    try:
        return base64.b64decode("".join(str(text).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"invalid !binary base64: {exc}", node.start_mark
        ) from exc


def _construct_ruby_tagged(
    loader: yaml.SafeLoader, _suffix: str, node: yaml.ScalarNode | yaml.SequenceNode | yaml.MappingNode
) -> Any:
    """The node as plain YAML: the composer makes only these three kinds of node."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


CassetteLoader.add_constructor("!binary", _construct_ruby_binary)
CassetteLoader.add_multi_constructor("!ruby/", _construct_ruby_tagged)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise _Problem(f"cannot read file: {exc}") from exc
    try:
        return yaml.load(text, Loader=CassetteLoader)
    except yaml.YAMLError as exc:
        raise _Problem(f"invalid YAML: {exc}") from exc


# --- small accessors ----------------------------------------------------------------------------------


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Problem(f"{where} should be a mapping, got {type(value).__name__}")
    return value


def _field(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise _Problem(f"{where} has no {key!r} (keys: {', '.join(map(str, mapping)) or 'none'})")
    return mapping[key]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Problem(f"{where} should be a non-empty string, got {value!r}")
    return value


def _headers(value: Any, where: str) -> dict[str, str]:
    """``{Name: [values]}`` (or a bare value) to ``{name: first value}``; the first spelling wins."""
    if value is None:
        return {}
    headers: dict[str, str] = {}
    for name, values in _mapping(value, where).items():
        first = values[0] if isinstance(values, list) and values else values
        if first is None or isinstance(first, list):
            continue
        headers.setdefault(str(name).lower(), str(first))
    return headers


def _status(value: Any, where: str) -> int:
    code = _field(_mapping(value, where), "code", where) if isinstance(value, Mapping) else value
    try:
        return int(code)
    except (TypeError, ValueError) as exc:
        raise _Problem(f"{where} code is not an integer: {code!r}") from exc


# --- bodies -------------------------------------------------------------------------------------------


def _body_bytes(value: Any, where: str) -> bytes | None:
    """Body bytes from a plain string, ``!!binary``/``!binary`` bytes or ``{string | base64_string}``."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, Mapping):
        if "base64_string" in value:
            encoded = "".join(str(value["base64_string"]).split())
            try:
                return base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise _Problem(f"{where} base64_string is not valid base64: {exc}") from exc
        if "string" in value:
            return _body_bytes(value["string"], where)
        raise _Problem(f"{where} has neither 'string' nor 'base64_string'")
    raise _Problem(f"{where} has an unsupported type {type(value).__name__}")


def _decode_content(data: bytes, content_encoding: str | None) -> bytes:
    """Undo ``Content-Encoding``; a body some recorder already stored decoded is kept as it is."""
    if not content_encoding:
        return data
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
        try:
            if coding in ("gzip", "x-gzip"):
                data = gzip.decompress(data)
            elif coding == "br":
                data = brotli.decompress(data)
            elif coding == "deflate":
                data = zlib.decompress(data)
        except (OSError, EOFError, zlib.error, brotli.error):
            return data
    return data


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _parse_json(data: bytes | None, media_type: str) -> Any:
    """JSON in recorded key order when the body is JSON; ``None`` for anything else."""
    if not data or (media_type and "json" not in media_type):
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _is_event_stream(data: bytes, media_type: str) -> bool:
    if media_type == "text/event-stream":
        return True
    return not media_type and data.lstrip().startswith(b"data:")


def _parse_sse(data: bytes, where: str = "event stream") -> list[Any]:
    """Each event's ``data:`` payload as JSON, ``"[DONE]"`` for the sentinel, in order."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Problem(f"{where} is not UTF-8: {exc}") from exc
    events: list[Any] = []
    for block in text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n"):
        lines = [line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")]
        if not lines:
            continue
        payload = "\n".join(lines)
        if payload.strip() == DONE:
            events.append(DONE)
            continue
        try:
            events.append(json.loads(payload))
        except json.JSONDecodeError as exc:
            raise _Problem(f"{where} event {len(events)} is not JSON: {exc}: {payload[:80]!r}") from exc
    return events


def _compact_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- one interaction -------------------------------------------------------------------------------


def _request(raw: Mapping[str, Any], where: str) -> RecordedRequest:
    url = _text(_field(raw, "uri", where), f"{where} uri")
    parts = urlsplit(url)
    headers = _headers(raw.get("headers"), f"{where} headers")
    if "parsed_body" in raw:
        body, raw_body = raw["parsed_body"], None
    else:
        raw_body = _body_bytes(raw.get("body"), f"{where} body")
        body = _parse_json(raw_body, _media_type(headers))
    return RecordedRequest(
        method=_text(_field(raw, "method", where), f"{where} method").upper(),
        url=url,
        path=parts.path or "/",
        query=parts.query,
        headers=headers,
        body=body,
        raw_body=raw_body,
    )


def _response(raw: Mapping[str, Any], where: str) -> RecordedResponse:
    status = _status(_field(raw, "status", where), f"{where} status")
    headers = _headers(raw.get("headers"), f"{where} headers")
    if "parsed_body" in raw:
        body = raw["parsed_body"]
        return RecordedResponse(status, headers, body, _compact_json(body), None)
    stored = _body_bytes(raw.get("body"), f"{where} body") or b""
    data = _decode_content(stored, headers.get("content-encoding"))
    media_type = _media_type(headers)
    if data and _is_event_stream(data, media_type):
        return RecordedResponse(status, headers, None, data, _parse_sse(data, f"{where} body"))
    return RecordedResponse(status, headers, _parse_json(data, media_type), data, None)


def _iso_date(value: Any) -> str | None:
    """An HTTP / Ruby date (``Wed, 19 Aug 2026 14:40:42 GMT``) as ISO 8601; other text as it is."""
    if value is None or value == "":
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = str(value)
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        return text


def is_mistral(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == MISTRAL_DOMAIN or host.endswith("." + MISTRAL_DOMAIN)


def _interactions(data: Any) -> list[Any]:
    """The interaction list, whichever dialect the top-level keys say this is."""
    top = _mapping(data, "the document")
    key = (
        "http_interactions"
        if "http_interactions" in top
        else "interactions"
        if "interactions" in top
        else None
    )
    if key is None:
        found = ", ".join(map(str, top)) or "none"
        raise _Problem(f"unknown cassette format: no 'interactions' or 'http_interactions' (keys: {found})")
    items = top[key] or []
    if not isinstance(items, list):
        raise _Problem(f"{key!r} should be a list, got {type(items).__name__}")
    return items


def _interaction(raw: Any, source: str) -> Interaction:
    item = _mapping(raw, source)
    request = _request(_mapping(_field(item, "request", source), f"{source} request"), f"{source} request")
    response = _response(
        _mapping(_field(item, "response", source), f"{source} response"), f"{source} response"
    )
    recorded_at = _iso_date(item.get("recorded_at")) or _iso_date(response.headers.get("date"))
    return Interaction(request=request, response=response, source=source, recorded_at=recorded_at)


# --- public API ----------------------------------------------------------------------------------------


def load_cassette(path: Path, *, mistral_only: bool = True) -> list[Interaction]:
    """Every interaction of one cassette, in recorded order (only Mistral hosts unless told otherwise)."""
    path = Path(path)
    try:
        items = _interactions(_read_yaml(path))
        loaded: list[Interaction] = []
        for index, raw in enumerate(items):
            source = f"{path}#{index}"
            if mistral_only and not is_mistral(_request_url(raw, source)):
                continue
            loaded.append(_interaction(raw, source))
        return loaded
    except _Problem as exc:
        raise CassetteError(f"{path}: {exc}") from exc


def _request_url(raw: Any, source: str) -> str:
    request = _mapping(_field(_mapping(raw, source), "request", source), f"{source} request")
    return _text(_field(request, "uri", f"{source} request"), f"{source} request uri")


def iter_cassette_files(root: Path) -> Iterator[Path]:
    """``*.yaml`` and ``*.yml`` files under ``root``, sorted by path."""
    files = (p for p in Path(root).rglob("*") if p.suffix.lower() in CASSETTE_SUFFIXES and p.is_file())
    yield from sorted(files)
