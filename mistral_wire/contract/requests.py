"""Request bodies of the endpoints the mock serves: Mistral's contract as the newest evidence states it.

Newest evidence wins: live recordings, then the newest mistralai SDK's models (generated from Mistral's
current API), then the published spec snapshot (August 2026), then prose. Where the SDK knows a field the
spec snapshot does not, the field is here and its model says so in ``NEWER_THAN_SPEC`` (field -> where it
comes from); ``tests/wire`` holds these models against both the installed SDK (the drift check, ``make
drift`` for the newest release) and the spec, and fails naming any field either disagrees on.

Ranges are Mistral's, not OpenAI's: temperature 0..1.5, ``top_p`` in (0, 1], ``random_seed`` >= 0. The SDK
gives types, not ranges; where a range is not published, the one the serving stack behind Mistral's API
(vLLM) applies is used and says so.
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
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
LogprobCount = Annotated[int, Field(ge=0, le=20)]
"""How many alternatives per token: OpenAI's documented range, also vLLM's default ``max_logprobs``."""
SDK = "mistralai 3.7.0's ChatCompletionRequest (generated from Mistral's current API)"
UNPUBLISHED_STREAM_OPTIONS = "live 422s locate the error at stream_options.include_usage (see StreamOptions)"


class ChatCompletionRequest(Closed):
    # Fields Mistral's server knows but its spec leaves out, with the evidence; the spec test reads this.
    UNPUBLISHED: ClassVar[dict[str, str]] = {
        "stream_options": UNPUBLISHED_STREAM_OPTIONS,
        "min_tokens": SDK,
        "repetition_penalty": SDK,
        "top_k": SDK,
        "logprobs": SDK,
        "top_logprobs": SDK,
        "prompt_logprobs": SDK,
        "top_prompt_logprobs": SDK,
    }
    # Fields whose values differ from the spec snapshot's, because a newer source says so.
    NEWER_THAN_SPEC: ClassVar[dict[str, str]] = {
        "reasoning_effort": f"'max' is in {SDK}",
        "tools": f"web_search, web_search_premium and code_interpreter are not chat tools in {SDK}",
    }
    # Fields Mistral's SDK lacks that the live API is known to take.
    BEYOND_SDK: ClassVar[dict[str, str]] = {"stream_options": UNPUBLISHED_STREAM_OPTIONS}

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
    min_tokens: NonNegativeInt | None = None
    # vLLM: > 0, 1 is no penalty.
    repetition_penalty: Annotated[float, Field(gt=0)] | None = None
    # vLLM: -1 (or 0) considers every token.
    top_k: Annotated[int, Field(ge=-1)] | None = None
    logprobs: bool | None = None
    top_logprobs: LogprobCount | None = None
    prompt_logprobs: bool | None = None
    top_prompt_logprobs: LogprobCount | None = None


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
