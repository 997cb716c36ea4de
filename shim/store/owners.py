"""Who owns a stored response: a keyed hash of the credential that wrote it, never the credential.

HMAC-SHA256 with a secret the store keeps (in its meta table, so every shim sharing a PostgreSQL store
hashes alike; per process for ``memory://``). A leaked store gives away neither keys nor a way to test a
guessed key without the secret, and a response is found only by the credential that wrote it.
"""

import hashlib
import hmac
import secrets


def new_secret() -> str:
    return secrets.token_hex(32)


def owner(secret: str, credential: str) -> str:
    return hmac.new(
        secret.encode(), credential.encode("utf-8", "surrogateescape"), hashlib.sha256
    ).hexdigest()
