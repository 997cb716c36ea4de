"""HTTP header helpers both servers share: the bearer key, and the headers never to pass on."""

from collections.abc import Mapping

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
