"""OpenAI's error body, the one shape every error of the shim takes.

The openai SDK reads ``{"error": {"message", "type", "param", "code"}}`` and picks its exception class from
the HTTP status, so a refusal is a status plus those four fields.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class OpenAIError(Exception):
    """A refusal in OpenAI's format, raised by translators and rendered by the app."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Close the connection after the answer: a body refused half-read, whose rest is not worth reading.
    close_connection: bool = False

    def __str__(self) -> str:
        return f"{self.status} {self.message}"

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def server_error(status: int, message: str, code: str | None = None) -> OpenAIError:
    """A failure on Mistral's side or the shim's (5xx): the openai SDK raises its server-error classes."""
    return OpenAIError(status, message, type="server_error", code=code)
