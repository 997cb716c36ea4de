"""Chat messages, discriminated by ``role``.

There is no ``developer`` role and no ``name`` except on tool messages: Mistral answers both with a 422.
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from mistral_wire.contract.base import Closed
from mistral_wire.contract.chunks import ContentChunk, SystemContentChunk


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
    role: Literal["user"] = "user"
    content: str | list[ContentChunk] | None


class AssistantMessage(Closed):
    role: Literal["assistant"] = "assistant"
    content: str | list[ContentChunk] | None = None
    tool_calls: list[ToolCall] | None = None
    prefix: bool = False


class ToolMessage(Closed):
    role: Literal["tool"] = "tool"
    content: str | list[ContentChunk] | None
    tool_call_id: str | None = None
    name: str | None = None


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage,
    Field(discriminator="role"),
]
