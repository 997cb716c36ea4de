"""Keeping keys out of everything either server writes: log lines, tracebacks, recordings, file names.

One marker (``<redacted>``) and one rule for both servers: every configured secret is replaced wherever it
appears, and so is the token of any ``Bearer <token>`` in text, whoever's it is. ``scrub`` walks JSON-like
values (recordings); ``Redactor`` is the logging filter that applies the same to every record, tracebacks
included, so a key a client puts in a path or a body never reaches a log line either.
"""

import logging
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any, TypeVar

REDACTED = "<redacted>"
MIN_SECRET_LENGTH = 4
"""Shorter strings are not replaced: a one-letter "key" would shred every text it appears in."""

_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
T = TypeVar("T")


def secrets_of(candidates: Iterable[str | None]) -> list[str]:
    """The strings worth replacing, longest first (a key that contains another is replaced whole)."""
    return sorted({s for s in candidates if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


def text(value: str, secrets: Iterable[str]) -> str:
    """``value`` with every secret and every bearer token replaced."""
    for secret in secrets_of(secrets):
        value = value.replace(secret, REDACTED)
    return _BEARER.sub(r"\1" + REDACTED, value)


def url_password(url: str) -> str | None:
    """The password of a URL's user info (``postgresql://user:password@host/db``), if it has one."""
    try:
        return urllib.parse.urlsplit(url).password
    except ValueError:
        return None


def shown_url(url: str) -> str:
    """A URL as it may be printed or logged: its password replaced by the marker."""
    password = url_password(url)
    return url.replace(f":{password}@", f":{REDACTED}@", 1) if password else url


def scrub(value: T, secrets: Iterable[str]) -> T:
    """``value`` with every secret replaced, in strings and keys at any depth (bearer tokens are left: a
    recorded body is data, and replacing the word after every "bearer" in it would corrupt it)."""
    found = secrets_of(secrets)
    return _scrub(value, found) if found else value


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {_scrub(k, secrets): _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub(v, secrets) for v in value)
    return value


class Redactor(logging.Filter):
    """Replaces the given secrets and any ``Bearer <token>`` in a record's message and traceback."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = secrets_of(secrets)

    def scrub(self, line: str) -> str:
        return text(line, self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.scrub(record.getMessage()), None
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True
