"""Tools, tool choice, response formats and the other structured chat options."""

import re
from typing import Annotated, Any, Final, Literal

from pydantic import Discriminator, Field, Tag

from mistral_wire.contract.base import Closed, Open


class Function(Closed):
    name: str
    description: str = ""
    strict: bool = False
    # Required by Mistral (optional in OpenAI): a tool without parameters is a 422.
    parameters: dict[str, Any]


FUNCTION_NAME: Final = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
"""Function (and tool-result) names Mistral accepts: mistral-common's rule, which is also OpenAI's."""

FUNCTION_KEYS: Final = frozenset(Function.model_fields)
"""The keys a function definition may carry."""


class Tool(Closed):
    type: Literal["function"] = "function"
    function: Function


class ToolConfiguration(Closed):
    exclude: list[str] | None = None
    include: list[str] | None = None
    requires_confirmation: list[str] | None = None


class ImageGenerationTool(Closed):
    tool_configuration: ToolConfiguration | None = None
    type: Literal["image_generation"] = "image_generation"


class DocumentLibraryTool(Closed):
    tool_configuration: ToolConfiguration | None = None
    type: Literal["document_library"] = "document_library"
    library_ids: Annotated[list[str], Field(min_length=1)]


class OAuth2TokenAuth(Closed):
    type: Literal["oauth2-token"] = "oauth2-token"
    value: str


class APIKeyAuth(Closed):
    type: Literal["api-key"] = "api-key"
    value: str


class CustomConnector(Closed):
    type: Literal["connector"] = "connector"
    connector_id: str
    authorization: Annotated[OAuth2TokenAuth | APIKeyAuth, Field(discriminator="type")] | None = None
    tool_configuration: ToolConfiguration | None = None


def _tool_type(value: Any) -> object:
    """``type`` defaults to ``function`` in the spec, so a tool without it is a function tool.

    The tag is whatever the client sent, not only a string: pydantic names it in its refusal
    ("Input tag '5' found using _tool_type() ...").
    """
    if isinstance(value, dict):
        return value.get("type", "function")
    return getattr(value, "type", None)


# The chat endpoint's tools as mistralai 3.7.0 lists them: the spec snapshot's web_search,
# web_search_premium and code_interpreter tools are not among them any more (they are agent connectors).
AnyTool = Annotated[
    Annotated[Tool, Tag("function")]
    | Annotated[ImageGenerationTool, Tag("image_generation")]
    | Annotated[DocumentLibraryTool, Tag("document_library")]
    | Annotated[CustomConnector, Tag("connector")],
    Discriminator(_tool_type),
]


class FunctionName(Closed):
    name: str


class ToolChoice(Closed):
    type: Literal["function"] = "function"
    function: FunctionName


ToolChoiceEnum = Literal["auto", "none", "any", "required"]


class JsonSchema(Closed):
    name: str
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool = False


class ResponseFormat(Closed):
    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: JsonSchema | None = None


class Prediction(Closed):
    type: Literal["content"] = "content"
    content: str = ""


class ModerationLLMV1CategoryThresholds(Open):
    sexual: float | None = None
    hate_and_discrimination: float | None = None
    violence_and_threats: float | None = None
    dangerous_and_criminal_content: float | None = None
    selfharm: float | None = None
    health: float | None = None
    financial: float | None = None
    law: float | None = None
    pii: float | None = None


class ModerationLLMV2CategoryThresholds(Open):
    sexual: float | None = None
    hate_and_discrimination: float | None = None
    violence_and_threats: float | None = None
    dangerous: float | None = None
    criminal: float | None = None
    selfharm: float | None = None
    health: float | None = None
    financial: float | None = None
    law: float | None = None
    pii: float | None = None
    jailbreaking: float | None = None


class ModerationLLMV1Config(Open):
    model_name: str = "mistral-moderation-2411"
    custom_category_thresholds: ModerationLLMV1CategoryThresholds | None = None
    ignore_other_categories: bool = False
    action: Literal["none", "block"] = "none"


class ModerationLLMV2Config(Open):
    model_name: str = "mistral-moderation-2603"
    custom_category_thresholds: ModerationLLMV2CategoryThresholds | None = None
    ignore_other_categories: bool = False
    action: Literal["none", "block"] = "none"


class GuardrailConfig(Open):
    block_on_error: bool = False
    moderation_llm_v1: ModerationLLMV1Config | None = None
    moderation_llm_v2: ModerationLLMV2Config | None = None


class StreamOptions(Closed):
    """Not in Mistral's spec, yet the live API reports ``stream_options.include_usage`` as the extra key.

    Its 422 locations end in ``include_usage`` (avante.nvim#2347, openai-agents-python#442), which is what
    a declared, member-less object does. Usage is always sent in the last chunk anyway.
    """
