"""The one scrubber: configured secrets and bearer tokens out of text, and a URL's password out of a URL."""

import pytest

from mistral_wire.scrub import REDACTED, shown_url, text, url_password


def test_secrets_and_any_bearer_token_are_replaced_with_the_one_marker() -> None:
    line = "key sk-team-1234 sent as Authorization: Bearer other-token-99, short k kept"
    assert text(line, ["sk-team-1234", "k"]) == (
        f"key {REDACTED} sent as Authorization: Bearer {REDACTED}, short k kept"
    )


@pytest.mark.parametrize(
    ("url", "password", "shown"),
    [
        ("postgresql://shim:s3cr%40t@db:5432/shim", "s3cr%40t", f"postgresql://shim:{REDACTED}@db:5432/shim"),
        ("postgresql://shim@db/shim", None, "postgresql://shim@db/shim"),
        ("sqlite:////var/lib/shim/responses.db", None, "sqlite:////var/lib/shim/responses.db"),
        ("memory://", None, "memory://"),
    ],
)
def test_a_urls_password_is_found_and_hidden(url: str, password: str | None, shown: str) -> None:
    assert url_password(url) == password
    assert shown_url(url) == shown
