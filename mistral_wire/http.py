"""HTTP helpers both servers share: the bearer key, the headers never to pass on, Mistral's base URL."""

import errno
import socket
from collections.abc import Mapping
from urllib.parse import quote

from yarl import URL

HOP_BY_HOP = frozenset(
    "connection keep-alive proxy-authenticate proxy-authorization te trailers transfer-encoding upgrade host "
    "content-length".split()
)
"""Headers about one connection, never forwarded by a proxy (RFC 9110 §7.6.1, plus Host and the length)."""

CREDENTIALS = frozenset({"authorization", "x-api-key", "cookie"})
"""Headers that carry a client's credentials: replaced or dropped, never copied upstream or into a file."""


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive), or None."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if token and scheme.lower() == "bearer" else None


def forwardable(headers: Mapping[str, str], also_dropped: frozenset[str] = frozenset()) -> dict[str, str]:
    """``headers`` without the hop-by-hop and credential ones (and ``also_dropped``), names as sent."""
    dropped = HOP_BY_HOP | CREDENTIALS | also_dropped
    return {name: value for name, value in headers.items() if name.lower() not in dropped}


def base_url(url: str) -> str:
    """Mistral's base URL as the servers append ``/v1/...`` to it: without a trailing ``/`` or ``/v1``.

    LangChain and most guides write ``https://api.mistral.ai/v1``; appended to as given, every request would
    go to ``/v1/v1/...`` and come back as a 404 that names no cause. The URL is otherwise kept as given.
    """
    parsed = URL(url)
    path = parsed.raw_path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return str(parsed.with_path(path or "/", encoded=True)).rstrip("/")


_SEGMENT_SAFE = ":@-._~!$&'()*+,;="  # path characters that may stay as they are (RFC 3986 pchar less '%')


def segment(value: str) -> str:
    """One path segment, percent-encoded, for a value a client chose (a model id, a file id)."""
    return quote(value, safe=_SEGMENT_SAFE)


def port_taken(host: str, port: int) -> bool:
    """Whether another process already listens on ``host:port`` (checked before anything is announced)."""
    if port == 0:
        return False
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False
