"""Content chunks: the parts of a message's ``content`` list, discriminated by ``type``.

Class names matter: pydantic writes them into error locations (``list[tagged-union[TextChunk,...]]``),
and Mistral's server, which is also pydantic, writes the same names.
"""

from typing import Annotated, ClassVar, Final, Literal, get_args
from uuid import UUID

from pydantic import Field

from mistral_wire.contract.base import Closed

ImageDetail = Literal["low", "auto", "high"]
BuiltInConnectors = Literal[
    "web_search", "web_search_premium", "code_interpreter", "image_generation", "document_library"
]


class TextChunk(Closed):
    type: Literal["text"] = "text"
    text: str


class ImageURL(Closed):
    url: str
    detail: ImageDetail | None = None


class ImageURLChunk(Closed):
    type: Literal["image_url"] = "image_url"
    image_url: ImageURL | str


class DocumentURLChunk(Closed):
    type: Literal["document_url"] = "document_url"
    document_url: str
    document_name: str | None = None


class ReferenceChunk(Closed):
    type: Literal["reference"] = "reference"
    reference_ids: list[int | str]


class FileChunk(Closed):
    type: Literal["file"] = "file"
    file_id: UUID


class ToolReferenceChunk(Closed):
    type: Literal["tool_reference"] = "tool_reference"
    tool: BuiltInConnectors | str
    title: str
    url: str | None = None
    favicon: str | None = None
    description: str | None = None


class ThinkChunk(Closed):
    type: Literal["thinking"] = "thinking"
    thinking: list[TextChunk | ToolReferenceChunk | ReferenceChunk]
    signature: str | None = None
    closed: bool = True


SDK = "mistralai 3.7.0 (generated from Mistral's current API, newer than the spec snapshot)"


class ResourceChunk(Closed):
    """An embedded resource (MCP's), in any message but a system one: newer than the spec snapshot."""

    SINCE_SPEC: ClassVar[str] = SDK

    type: Literal["resource"] = "resource"
    uri: str
    content: TextChunk | ImageURLChunk


class ResourceLinkChunk(Closed):
    """A link to a resource (MCP's), in any message but a system one: newer than the spec snapshot."""

    SINCE_SPEC: ClassVar[str] = SDK

    type: Literal["resource_link"] = "resource_link"
    uri: str
    metadata: dict[str, str | int | float | bool] | None = None


class InputAudio(Closed):
    """OpenAI's shape of an audio part, ``{data, format}``."""

    data: str
    format: str | None = None


class AudioChunk(Closed):
    # Fields that accept more than the spec says, with the evidence; the spec test reads this.
    BEYOND_SPEC: ClassVar[dict[str, str]] = {
        "input_audio": "OpenAI's {data, format} was accepted live (ruby_llm, voxtral-small, 2026-08)",
    }
    # And more than Mistral's SDK says (live evidence beats the SDK); the drift check reads this.
    BEYOND_SDK: ClassVar[dict[str, str]] = BEYOND_SPEC

    type: Literal["input_audio"] = "input_audio"
    input_audio: str | InputAudio


ContentChunk = Annotated[
    TextChunk
    | ImageURLChunk
    | DocumentURLChunk
    | ReferenceChunk
    | FileChunk
    | ThinkChunk
    | AudioChunk
    | ResourceChunk
    | ResourceLinkChunk,
    Field(discriminator="type"),
]
"""Any chunk a user, assistant or tool message may carry."""

SystemContentChunk = Annotated[TextChunk | ThinkChunk, Field(discriminator="type")]
"""System messages carry text and thinking only."""


CHUNK_TYPES: Final[frozenset[str]] = frozenset(
    str(get_args(model.model_fields["type"].annotation)[0]) for model in get_args(get_args(ContentChunk)[0])
)
"""Every ``type`` a content chunk may have: ``text``, ``image_url``, ``document_url``, ``thinking``, ..."""
