"""Request bodies of the endpoints the mock serves, mirroring Mistral's published schemas.

Ranges are Mistral's, not OpenAI's: temperature 0..1.5, ``top_p`` in (0, 1], ``random_seed`` >= 0.
"""

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from mistral_wire.contract import limits
from mistral_wire.contract.base import Closed
from mistral_wire.contract.chunks import DocumentURLChunk, FileChunk, ImageURLChunk
from mistral_wire.contract.messages import Message
from mistral_wire.contract.tools import (
    AnyTool,
    GuardrailConfig,
    Prediction,
    ResponseFormat,
    StreamOptions,
    ToolChoice,
    ToolChoiceEnum,
)

Temperature = Annotated[float, Field(ge=0, le=limits.TEMPERATURE_MAX)]
TopP = Annotated[float, Field(gt=0, le=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Penalty = Annotated[float, Field(ge=-2, le=2)]
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]


class ChatCompletionRequest(Closed):
    # Fields Mistral's server knows but its spec leaves out, with the evidence; the spec test reads this.
    UNPUBLISHED: ClassVar[dict[str, str]] = {
        "stream_options": "live 422s locate the error at stream_options.include_usage (see StreamOptions)",
    }

    model: str
    temperature: Temperature | None = None
    top_p: TopP | None = None
    max_tokens: NonNegativeInt | None = None
    stream: bool = False
    stop: str | list[str] | None = None
    random_seed: NonNegativeInt | None = None
    metadata: dict[str, Any] | None = None
    messages: list[Message]
    response_format: ResponseFormat = Field(default_factory=ResponseFormat)
    tools: list[AnyTool] | None = None
    tool_choice: ToolChoice | ToolChoiceEnum = "auto"
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    n: Annotated[int, Field(ge=1)] | None = None
    prediction: Prediction = Field(default_factory=Prediction)
    parallel_tool_calls: bool = True
    reasoning_effort: ReasoningEffort | None = None
    prompt_mode: Literal["reasoning"] | None = None
    guardrails: list[GuardrailConfig] | None = None
    prompt_cache_key: str | None = None
    service_tier: Literal["auto", "standard_only"] | None = None
    safe_prompt: bool = False
    stream_options: StreamOptions | None = None


class FIMCompletionRequest(Closed):
    UNPUBLISHED: ClassVar[dict[str, str]] = {}

    model: str
    temperature: Temperature | None = None
    top_p: TopP | None = None
    max_tokens: NonNegativeInt | None = None
    stream: bool = False
    stop: str | list[str] | None = None
    random_seed: NonNegativeInt | None = None
    metadata: dict[str, Any] | None = None
    prompt: str
    suffix: str | None = ""
    min_tokens: NonNegativeInt | None = None
    prompt_cache_key: str | None = None


class EmbeddingRequest(Closed):
    UNPUBLISHED: ClassVar[dict[str, str]] = {}

    model: str
    metadata: dict[str, Any] | None = None
    input: str | list[str]
    output_dimension: Annotated[int, Field(gt=0)] | None = None
    output_dtype: Literal["float", "int8", "uint8", "binary", "ubinary"] = "float"
    encoding_format: Literal["float", "base64"] = "float"


class OCRRequest(Closed):
    UNPUBLISHED: ClassVar[dict[str, str]] = {}

    model: str | None
    document: FileChunk | DocumentURLChunk | ImageURLChunk
    pages: str | list[int] | None = None
    include_image_base64: bool | None = None
    image_limit: int | None = None
    image_min_size: int | None = None
    bbox_annotation_format: ResponseFormat | None = None
    document_annotation_format: ResponseFormat | None = None
    document_annotation_prompt: str | None = None
    table_format: Literal["markdown", "html"] | None = None
    extract_header: bool = False
    extract_footer: bool = False
    include_blocks: bool = True
    confidence_scores_granularity: Literal["word", "page", "block"] | None = None
