"""Keeping secrets out of recordings, at write time, whatever the caller configured.

Headers are allow-listed, so a credential header can never be written; query parameters whose names look
like credentials are dropped; and every configured key (the upstream key, the client's bearer, the mock's
accepted keys) is replaced wherever it appears: a body, a header value, a query value, the path (and so
the file name, which is made from the scrubbed recording).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

from mistral_wire.scrub import scrub
from mockserver.recording.format import Body, Event, Recording

REQUEST_HEADERS = ("content-type", "accept")
RESPONSE_HEADERS = (
    "content-type",
    "retry-after",
    "mistral-correlation-id",
    "x-kong-request-id",
    "www-authenticate",
)
RESPONSE_HEADER_PREFIXES = ("x-ratelimit-", "ratelimitbysize-", "x-ratelimitbysize-")

_CREDENTIAL = re.compile(r"auth|key|token|secret|passw|cookie|signature|credential|session", re.IGNORECASE)


def is_credential(name: str) -> bool:
    return bool(_CREDENTIAL.search(name)) and not name.lower().startswith(RESPONSE_HEADER_PREFIXES)


def request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in REQUEST_HEADERS}


def response_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in RESPONSE_HEADERS or lowered.startswith(RESPONSE_HEADER_PREFIXES):
            kept[lowered] = value
    return kept


def query(query_string: str, secrets: Iterable[str] = ()) -> str:
    """The query without parameters named like credentials, and with every secret replaced in the rest."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return urlencode([scrub((k, v), secrets) for k, v in pairs if not is_credential(k)])


def scrubbed(recording: Recording, secrets: Iterable[str]) -> Recording:
    secrets = list(secrets)

    def body(b: Body | None) -> Body | None:
        return None if b is None else scrubbed_body(b, secrets)

    events = None
    if recording.events is not None:
        events = tuple(Event(e.at_ms, scrubbed_body(e.data, secrets), e.name) for e in recording.events)
    return replace(
        recording,
        path=scrub(recording.path, secrets),
        query=query(recording.query, secrets),
        request_headers=scrub(request_headers(recording.request_headers), secrets),
        request_body=scrubbed_body(recording.request_body, secrets),
        response_headers=scrub(response_headers(recording.response_headers), secrets),
        response_body=body(recording.response_body),
        events=events,
        meta=scrub(recording.meta, secrets),
    )


def scrubbed_body(body: Body, secrets: list[str]) -> Body:
    if body.text is not None:
        return Body(text=scrub(body.text, secrets))
    return Body(value=scrub(body.value, secrets))
