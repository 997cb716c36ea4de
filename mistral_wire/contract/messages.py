"""Chat messages, discriminated by ``role``.

There is no ``developer`` role and no ``name`` except on tool messages: Mistral answers both with a 422.
"""

import re
from typing import Annotated, Any, ClassVar, Final, Literal, get_args

from pydantic import Field

from mistral_wire.contract.base import Closed
from mistral_wire.contract.chunks import SDK, ContentChunk, SystemContentChunk

TOOL_CALL_ID: Final = re.compile(r"^[a-zA-Z0-9]{9}$")
"""The only tool-call id Mistral accepts, in ``tool_calls[].id`` and ``tool_call_id`` (a 400 with code 3280
otherwise; mistral-common's ``MistralRequestValidatorV3`` rule, still enforced live in 2026)."""


class FunctionCall(Closed):
    name: str
    arguments: dict[str, Any] | str


class ToolCall(Closed):
    id: str = "null"
    type: Literal["function"] = "function"
    function: FunctionCall
    index: int = 0


class SystemMessage(Closed):
    role: Literal["system"] = "system"
    content: str | list[SystemContentChunk]


class UserMessage(Closed):
    NEWER_THAN_SPEC: ClassVar[dict[str, str]] = {"content": f"resource and resource_link chunks: {SDK}"}

    role: Literal["user"] = "user"
    content: str | list[ContentChunk] | None


class AssistantMessage(Closed):
    NEWER_THAN_SPEC: ClassVar[dict[str, str]] = {"content": f"resource and resource_link chunks: {SDK}"}

    role: Literal["assistant"] = "assistant"
    content: str | list[ContentChunk] | None = None
    tool_calls: list[ToolCall] | None = None
    prefix: bool = False


class ToolMessage(Closed):
    NEWER_THAN_SPEC: ClassVar[dict[str, str]] = {"content": f"resource and resource_link chunks: {SDK}"}

    role: Literal["tool"] = "tool"
    content: str | list[ContentChunk] | None
    tool_call_id: str | None = None
    name: str | None = None


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage,
    Field(discriminator="role"),
]


def _role_of(model: type[Closed]) -> str:
    (role,) = get_args(model.model_fields["role"].annotation)
    return str(role)


ROLE_KEYS: Final[dict[str, frozenset[str]]] = {
    _role_of(model): frozenset(model.model_fields) for model in get_args(get_args(Message)[0])
}
"""The keys each role may carry (``{"user": {"role", "content"}, ...}``): anything else is a 422."""
