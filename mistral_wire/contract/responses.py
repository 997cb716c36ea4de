"""Mistral's native Responses requests: ``POST /v1/responses`` and ``POST /v1/responses/input_tokens``.

Mistral's spec snapshot has no ``/v1/responses``; the newest evidence is mistralai 3.7.0's generated models
(``createresponserequest``, ``countresponseinputtokensrequest`` and the ``responses*`` items), so these
models mirror them field by field: the same names (pydantic writes class names into 422 locations), the
same required fields, defaults and literals, in the same order, and ``tests/wire/test_responses_contract``
holds them against the installed SDK. Where the SDK's pydantic types say ``Optional`` for a field its
TypedDicts (the OpenAPI schema) do not make nullable, the field is not nullable here: a generated
``Optional`` only means "may be left out".

Unlike chat, these objects keep unknown keys (the SDK's ``extra="allow"``, i.e. ``additionalProperties``
in Mistral's schema), except ``reasoning``, which ignores them (``summary`` is dropped). The constants are
the endpoint's statelessness: ``store`` may only be false (or null), ``background`` only false,
``truncation`` only ``"disabled"``, ``top_logprobs`` only 0; anything else is a 422, as a literal is.
Inline SDK classes prefixed with their parent (``CreateResponseRequestResponsesTextConfig``) carry the
schema's own name here (``ResponsesTextConfig``), which the two requests share.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from mistral_wire.contract.base import Open

Phase = Literal["commentary", "final_answer"]
ItemStatus = Literal["in_progress", "completed", "incomplete"]
ImageDetail = Literal["low", "high", "auto", "original"]
FileDetail = Literal["auto", "low", "high"]
Caller = Literal["direct", "programmatic"]
Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


class ResponsesPromptCacheBreakpoint(Open):
    mode: Literal["explicit"] = "explicit"


# --- content parts ------------------------------------------------------------------------------------------


class ResponsesInputText(Open):
    text: str
    type: Literal["input_text"] = "input_text"
    prompt_cache_breakpoint: ResponsesPromptCacheBreakpoint | None = None


class ResponsesInputImage(Open):
    # Required in messages; optional in a function call's output (``ResponsesInputImageContent``).
    detail: ImageDetail
    type: Literal["input_image"] = "input_image"
    file_id: str | None = None
    image_url: str | None = None
    prompt_cache_breakpoint: ResponsesPromptCacheBreakpoint | None = None


class ResponsesInputFile(Open):
    type: Literal["input_file"] = "input_file"
    detail: FileDetail | None = None
    file_data: str | None = None
    file_id: str | None = None
    file_url: str | None = None
    filename: str | None = None
    prompt_cache_breakpoint: ResponsesPromptCacheBreakpoint | None = None


InputContent = Annotated[
    ResponsesInputText | ResponsesInputImage | ResponsesInputFile, Field(discriminator="type")
]


class ResponsesInputTextContent(ResponsesInputText):
    """The same part in a function call's output; the SDK names it apart, and the drift check by name."""


class ResponsesInputImageContent(Open):
    type: Literal["input_image"] = "input_image"
    detail: ImageDetail | None = None
    file_id: str | None = None
    image_url: str | None = None
    prompt_cache_breakpoint: ResponsesPromptCacheBreakpoint | None = None


class ResponsesInputFileContent(ResponsesInputFile):
    """The same part in a function call's output, under the SDK's name for it there."""


OutputContent = Annotated[
    ResponsesInputTextContent | ResponsesInputImageContent | ResponsesInputFileContent,
    Field(discriminator="type"),
]
"""What a function call's output may hold besides a string."""


class ResponsesAnnotationFileCitation(Open):
    file_id: str
    filename: str
    index: int
    type: Literal["file_citation"] = "file_citation"


class ResponsesAnnotationURLCitation(Open):
    end_index: int
    start_index: int
    title: str
    url: str
    type: Literal["url_citation"] = "url_citation"


class ResponsesAnnotationContainerFileCitation(Open):
    container_id: str
    end_index: int
    file_id: str
    filename: str
    start_index: int
    type: Literal["container_file_citation"] = "container_file_citation"


class ResponsesAnnotationFilePath(Open):
    file_id: str
    index: int
    type: Literal["file_path"] = "file_path"


Annotation = Annotated[
    ResponsesAnnotationFileCitation
    | ResponsesAnnotationURLCitation
    | ResponsesAnnotationContainerFileCitation
    | ResponsesAnnotationFilePath,
    Field(discriminator="type"),
]


class ResponsesOutputTextLogprobTopLogprob(Open):
    token: str
    bytes: list[int]
    logprob: float


class ResponsesOutputTextLogprob(Open):
    token: str
    bytes: list[int]
    logprob: float
    top_logprobs: list[ResponsesOutputTextLogprobTopLogprob]


class ResponsesOutputText(Open):
    annotations: list[Annotation]
    text: str
    type: Literal["output_text"] = "output_text"
    logprobs: list[ResponsesOutputTextLogprob] | None = None


class ResponsesOutputRefusal(Open):
    refusal: str
    type: Literal["refusal"] = "refusal"


class ResponsesSummary(Open):
    text: str
    type: Literal["summary_text"] = "summary_text"


class ResponsesContent(Open):
    text: str
    type: Literal["reasoning_text"] = "reasoning_text"


# --- input items --------------------------------------------------------------------------------------------


class ResponsesEasyInputMessage(Open):
    content: str | list[InputContent]
    role: Literal["user", "assistant", "system", "developer"]
    phase: Phase | None = None
    type: Literal["message"] | None = "message"


class ResponsesMessage(Open):
    content: list[InputContent]
    role: Literal["user", "system", "developer"]
    status: ItemStatus | None = None
    type: Literal["message"] | None = "message"


class ResponsesOutputMessage(Open):
    id: str
    content: list[Annotated[ResponsesOutputText | ResponsesOutputRefusal, Field(discriminator="type")]]
    status: ItemStatus
    role: Literal["assistant"] = "assistant"
    type: Literal["message"] = "message"
    phase: Phase | None = None


class ResponsesFunctionCallOutputCallerDirect(Open):
    type: Literal["direct"] = "direct"


class ResponsesFunctionCallOutputCallerProgram(Open):
    caller_id: str
    type: Literal["program"] = "program"


class ResponsesFunctionCallOutput(Open):
    call_id: str
    output: str | list[OutputContent]
    type: Literal["function_call_output"] = "function_call_output"
    id: str | None = None
    caller: (
        Annotated[
            ResponsesFunctionCallOutputCallerDirect | ResponsesFunctionCallOutputCallerProgram,
            Field(discriminator="type"),
        ]
        | None
    ) = None
    status: ItemStatus | None = None


class ResponsesReasoningItem(Open):
    id: str
    summary: list[ResponsesSummary]
    type: Literal["reasoning"] = "reasoning"
    content: list[ResponsesContent] | None = None
    encrypted_content: str | None = None
    status: ItemStatus | None = None


class ResponsesCallerDirect(Open):
    type: Literal["direct"] = "direct"


class ResponsesCallerProgram(Open):
    caller_id: str
    type: Literal["program"] = "program"


class ResponsesFunctionToolCall(Open):
    arguments: str
    call_id: str
    name: str
    type: Literal["function_call"] = "function_call"
    id: str | None = None
    caller: Annotated[ResponsesCallerDirect | ResponsesCallerProgram, Field(discriminator="type")] | None = (
        None
    )
    namespace: str | None = None
    status: ItemStatus | None = None


InputItem = (
    ResponsesEasyInputMessage
    | ResponsesMessage
    | ResponsesOutputMessage
    | ResponsesFunctionCallOutput
    | ResponsesReasoningItem
    | ResponsesFunctionToolCall
)
"""An item of ``input``: a plain (smart) union, as in the SDK; messages need no ``type``. There is no
``item_reference``: nothing is stored to refer to."""


# --- tools, tool choice, reasoning, text -------------------------------------------------------------------


class ResponsesFunctionTool(Open):
    name: str
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    type: Literal["function"] = "function"
    allowed_callers: list[Caller] | None = None
    defer_loading: bool | None = None
    description: str | None = None
    output_schema: dict[str, Any] | None = None


class ResponsesToolFunction(Open):
    """A function inside a namespace tool (its ``parameters`` are typed ``Any`` in the SDK)."""

    name: str
    type: Literal["function"] = "function"
    allowed_callers: list[Caller] | None = None
    defer_loading: bool | None = None
    description: str | None = None
    output_schema: dict[str, Any] | None = None
    parameters: Any = None
    strict: bool | None = None


class ResponsesText(Open):
    type: Literal["text"] = "text"


class ResponsesGrammar(Open):
    definition: str
    syntax: Literal["lark", "regex"]
    type: Literal["grammar"] = "grammar"


class ResponsesCustomTool(Open):
    name: str
    type: Literal["custom"] = "custom"
    allowed_callers: list[Caller] | None = None
    defer_loading: bool | None = None
    description: str | None = None
    format: Annotated[ResponsesText | ResponsesGrammar, Field(discriminator="type")] | None = None


class ResponsesNamespaceTool(Open):
    description: str
    name: str
    tools: list[Annotated[ResponsesToolFunction | ResponsesCustomTool, Field(discriminator="type")]]
    type: Literal["namespace"] = "namespace"


ResponsesTool = Annotated[ResponsesFunctionTool | ResponsesNamespaceTool, Field(discriminator="type")]
"""Only client-executed tools: functions, alone or in a namespace. No built-in (hosted) tool."""


class ResponsesToolChoiceFunction(Open):
    name: str
    type: Literal["function"] = "function"


ToolChoice = ResponsesToolChoiceFunction | Literal["none", "auto", "required"]


class ResponsesSupportedReasoning(BaseModel):
    """Only ``effort``; other keys (OpenAI's ``summary``) are ignored, as the SDK's model ignores them."""

    effort: Effort | None = None


class ResponsesFormatText(Open):
    type: Literal["text"] = "text"


class ResponsesFormatTextJSONSchemaConfig(Open):
    name: str
    schema_: dict[str, Any] = Field(alias="schema")
    type: Literal["json_schema"] = "json_schema"
    description: str | None = None
    strict: bool | None = None


class ResponsesFormatJSONObject(Open):
    type: Literal["json_object"] = "json_object"


class ResponsesTextConfig(Open):
    format: (
        Annotated[
            ResponsesFormatText | ResponsesFormatTextJSONSchemaConfig | ResponsesFormatJSONObject,
            Field(discriminator="type"),
        ]
        | None
    ) = None
    verbosity: Literal["low", "medium", "high"] | None = None


# --- the two requests ---------------------------------------------------------------------------------------


class CountResponseInputTokensRequest(Open):
    """``POST /v1/responses/input_tokens``: the conversation of a Responses request, nothing about sampling.

    Its fields are the first twelve of ``CreateResponseRequest``, in the same order, so that one extends it.
    """

    model: str
    input: str | list[InputItem]
    instructions: str | None = None
    parallel_tool_calls: bool = True
    previous_response_id: Any = None
    truncation: Literal["disabled"] = "disabled"
    tools: list[ResponsesTool] = Field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    reasoning: ResponsesSupportedReasoning | None = None
    conversation: Any = None
    prompt: Any = None
    text: ResponsesTextConfig | None = None


class CreateResponseRequest(CountResponseInputTokensRequest):
    """``POST /v1/responses``: stateless, so ``store``, ``background`` and ``top_logprobs`` are constants."""

    background: Literal[False] = False
    stream: bool = False
    store: Literal[False] | None = False
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    metadata: dict[str, str] | None = None
    prompt_cache_key: str | None = None
    max_tool_calls: int | None = None
    moderation: Any = None
    top_logprobs: Literal[0] | None = 0


ResponsesRequest = CountResponseInputTokensRequest
"""Either request: what the conversation checks and the chat view read."""
