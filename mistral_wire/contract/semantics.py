"""Mistral's semantic checks: requests that are schema-valid but that Mistral still refuses with a 400.

The conversation rules (role order, last role, prefix placement, tool calls against tool results, tool-call
ids, function names, tool schemas) are mistral-common's ``MistralRequestValidator``, the validator Mistral
itself serves with. The live API's behaviour differs from any single validator version, so the subclass
below says exactly where it departs, each time with the evidence. Model-level rules (unknown model, wrong
endpoint, capabilities) come from the catalogue.
"""

import itertools
import json
from types import SimpleNamespace
from typing import Any, TypedDict, cast

from mistral_common.exceptions import (
    InvalidAssistantMessageException,
    InvalidFunctionCallException,
    InvalidMessageStructureException,
    InvalidToolMessageException,
    InvalidToolSchemaException,
    MistralCommonException,
)
from mistral_common.protocol.instruct import chunk as mc_chunk
from mistral_common.protocol.instruct import messages as mc_messages
from mistral_common.protocol.instruct import tool_calls as mc_tools
from mistral_common.protocol.instruct.request import ChatCompletionRequest as MCChatCompletionRequest
from mistral_common.protocol.instruct.validator import MistralRequestValidatorV11, ValidationMode

from mistral_wire import tokens
from mistral_wire.contract import chunks, limits, messages
from mistral_wire.contract.audio import AudioTranscriptionRequest, SpeechRequest
from mistral_wire.contract.batch import ENDPOINT_CAPABILITIES, CreateBatchJobRequest
from mistral_wire.contract.catalogue import Family, lookup
from mistral_wire.contract.errors import MistralError, envelope, invalid_model, invalid_request
from mistral_wire.contract.requests import ChatCompletionRequest, EmbeddingRequest
from mistral_wire.contract.tools import Tool


class _Envelope(TypedDict, total=False):
    """Keyword arguments of ``invalid_request``, typed so that a preset is checked where it is splatted."""

    type_: str
    code: str | None
    status: int
    raw_status_code: bool


MESSAGE_ORDER: _Envelope = {"type_": "invalid_request_message_order", "code": "3230"}
FUNCTION_CALL: _Envelope = {"type_": "invalid_function_call", "code": "3280", "raw_status_code": True}
EMPTY_ASSISTANT = "Assistant message must have either content or tool_calls, but not none."
TOOL_CALL_ID = messages.TOOL_CALL_ID


class _ServingValidator(MistralRequestValidatorV11):
    """mistral-common's v11 rules in serving mode, adjusted to what api.mistral.ai does today.

    * Tool-call ids must match ``^[a-zA-Z0-9]{9}$`` (the v3..v11 rule): the live API still answers
      "Tool call id was … but must be …" in 2026 (mistral-vibe#1075), although v13 relaxed it. Ids are
      checked before calls are paired with results, and a call without an id (the spec's default id is the
      string "null") gets the same sentence: the live API answered "Tool call id was null but must be a-z,
      A-Z, 0-9, with a length of 9." (mistralai/client-js#69), where v3 would say "… has to be defined in
      serving mode." A tool result without ``tool_call_id`` gets v3's "Tool call id has to be defined."
      instead of v11's pairing message "Unexpected tool call id None in tool results".
    * An invalid tool schema is named whole, in Python's repr: "Invalid tool schema: {…} is not valid under
      any of the given schemas" (SylphxAI/pdf-reader-mcp#63), where jsonschema names the failing keyword.
    * An assistant turn may carry both content and tool calls (v5+, seen live in 2026-08), but not
      neither: the live API says "… but not none." (solbrowse/extension#16), which v11 no longer checks.
    * Tool results may carry any chunk but thinking, as the spec's ToolMessage allows (v15 rule).
    * A user turn may not follow a tool result on most models. mistral-common allows it, but the live API
      refuses it with code 3230 (datapizza-ai#98, a direct call, 2025-12; zed#37021, 2025-08 to 2026-04);
      families whose recordings show it accepted (``Family.user_after_tool``) get the lenient table.
    * Model settings (reasoning_effort) are checked against the catalogue, not the tokenizer version.
    """

    # A class default that the lenient validator replaces with its own table, per instance.
    ALLOWED_AFTER: dict[str, frozenset[str]] = {
        "system": frozenset({"user", "assistant", "system"}),
        "user": frozenset({"assistant", "system", "user"}),
        "assistant": frozenset({"assistant", "user", "tool"}),
        "tool": frozenset({"assistant", "tool"}),
    }

    def __init__(self, *, user_after_tool: bool = False) -> None:
        super().__init__(mode=ValidationMode.serving)
        if user_after_tool:
            self.ALLOWED_AFTER = {**self.ALLOWED_AFTER, "tool": frozenset({"assistant", "tool", "user"})}

    def _validate_tool_call_id(self, tool_call: Any, is_last_message: bool = False) -> None:
        if not TOOL_CALL_ID.match(tool_call.id):
            raise InvalidFunctionCallException(
                f"Tool call id was {tool_call.id} but must be a-z, A-Z, 0-9, with a length of 9."
            )

    def _validate_tool_message_id(self, message: Any) -> None:
        if message.tool_call_id is None:
            raise InvalidFunctionCallException("Tool call id has to be defined.")
        if not TOOL_CALL_ID.match(message.tool_call_id):
            raise InvalidToolMessageException(
                f"Tool call id was {message.tool_call_id} but must be a-z, A-Z, 0-9, with a length of 9."
            )

    def _validate_tool_calls_followed_by_tool_messages(self, messages: list[Any]) -> None:
        for message in messages:
            if message.role.value == "assistant":
                for call in message.tool_calls or []:
                    self._validate_tool_call_id(call)
            elif message.role.value == "tool":
                self._validate_tool_message_id(message)
        super()._validate_tool_calls_followed_by_tool_messages(messages)

    def _validate_function(self, function: Any) -> None:
        try:
            super()._validate_function(function)
        except InvalidToolSchemaException:
            raise InvalidToolSchemaException(
                f"Invalid tool schema: {function.parameters!r} is not valid under any of the given schemas"
            ) from None

    def _validate_message_order(self, messages: list[Any]) -> None:
        for previous, current in itertools.pairwise(messages):
            if current.role.value not in self.ALLOWED_AFTER[previous.role.value]:
                raise InvalidMessageStructureException(
                    f"Unexpected role '{current.role.value}' after role '{previous.role.value}'"
                )

    def _validate_assistant_message(self, message: Any, is_last_message: bool = False) -> None:
        if not message.content and not message.tool_calls:
            raise InvalidAssistantMessageException(EMPTY_ASSISTANT)
        super()._validate_assistant_message(message, is_last_message=is_last_message)

    def _validate_tool_content_chunks(self, content: Any) -> None:
        if isinstance(content, list) and any(isinstance(c, mc_chunk.ThinkChunk) for c in content):
            raise InvalidToolMessageException(
                "Unexpected content chunk types in tool message: ['ThinkChunk']"
            )

    def _validate_model_settings(self, request: Any) -> None:
        return


_VALIDATORS = {False: _ServingValidator(), True: _ServingValidator(user_after_tool=True)}


def _mc_chunk(chunk: Any) -> Any:
    """A mistral-common chunk standing for ours; kinds it does not model validate as text."""
    if isinstance(chunk, chunks.TextChunk):
        return mc_chunk.TextChunk.model_construct(text=chunk.text)
    if isinstance(chunk, chunks.ImageURLChunk):
        return mc_chunk.ImageURLChunk.model_construct(image_url="image")
    if isinstance(chunk, chunks.AudioChunk):
        return mc_chunk.AudioChunk.model_construct(input_audio="audio")
    if isinstance(chunk, chunks.ThinkChunk):
        return mc_chunk.ThinkChunk.model_construct(thinking="thinking", closed=chunk.closed)
    return mc_chunk.TextChunk.model_construct(text="document")


def _mc_content(content: Any) -> Any:
    if isinstance(content, list):
        return [_mc_chunk(c) for c in content]
    return content if content is not None else ""


def _mc_message(message: Any) -> Any:
    if isinstance(message, messages.SystemMessage):
        return mc_messages.SystemMessage.model_construct(content=_mc_content(message.content))
    if isinstance(message, messages.UserMessage):
        return mc_messages.UserMessage.model_construct(content=_mc_content(message.content))
    if isinstance(message, messages.ToolMessage):
        return mc_messages.ToolMessage.model_construct(
            content=_mc_content(message.content), tool_call_id=message.tool_call_id, name=message.name
        )
    calls = None
    if message.tool_calls is not None:
        calls = [
            mc_tools.ToolCall.model_construct(
                id=call.id,
                function=mc_tools.FunctionCall.model_construct(name=call.function.name, arguments="{}"),
            )
            for call in message.tool_calls
        ]
    content = message.content if isinstance(message.content, list) else (message.content or None)
    return mc_messages.AssistantMessage.model_construct(
        content=_mc_content(content) if content is not None else None, tool_calls=calls, prefix=message.prefix
    )


def _mc_tools(request: ChatCompletionRequest) -> list[Any]:
    return [
        mc_tools.Tool.model_construct(
            function=mc_tools.Function.model_construct(name=t.function.name, parameters=t.function.parameters)
        )
        for t in request.tools or []
        if isinstance(t, Tool)
    ]


def _refusal(exc: MistralCommonException) -> MistralError:
    """The body the live API sends for each kind of validator failure."""
    message = exc.message
    if isinstance(exc, InvalidMessageStructureException):
        if message.startswith("Unexpected role"):
            return invalid_request(message, **MESSAGE_ORDER)
        if message.startswith("Expected last role"):
            # The live API names the flag: "(or Assistant with prefix True)".
            return invalid_request(message.replace("with prefix)", "with prefix True)"))
        # "Not the same number of function calls and responses" is invalid_request_error with a null code on
        # /v1/chat/completions (camel#1467, 2025-01; client-ts#106, 2025-06). The "code":3230 report
        # (client-python#234) is the Agents API, whose envelope differs ("object":"Error", integer code).
        return invalid_request(message)
    if isinstance(exc, InvalidFunctionCallException):
        return invalid_request(message, **FUNCTION_CALL)
    if isinstance(exc, InvalidToolMessageException) and message.startswith("Tool call id was"):
        return invalid_request(message, **FUNCTION_CALL)
    return invalid_request(message)


def _family_for(model: str, capability: str) -> Family:
    family = lookup(model)
    if family is None or not family.can(capability):
        # Assumption: a model that exists but serves another endpoint is refused like an unknown one.
        raise invalid_model(model)
    return family


def _chunks_of(request: ChatCompletionRequest) -> list[Any]:
    found = []
    for message in request.messages:
        content = getattr(message, "content", None)
        if isinstance(content, list):
            found.extend(content)
    return found


def _capability_refusals(request: ChatCompletionRequest, family: Family) -> None:
    parts = _chunks_of(request)
    # Seen live for images (2025-04); audio and tools follow the same wording.
    needs = {
        "images": ("vision", any(isinstance(p, chunks.ImageURLChunk) for p in parts)),
        "audio": ("audio", any(isinstance(p, chunks.AudioChunk) for p in parts)),
        "tools": ("function_calling", bool(request.tools)),
    }
    for what, (capability, present) in needs.items():
        if present and not family.can(capability):
            raise invalid_request(
                f"A request containing {what} has been given to a model which does not have the "
                f"'{capability}' capability."
            )
    if request.reasoning_effort is not None and not family.can("reasoning"):
        raise invalid_request(
            f"reasoning_effort={request.reasoning_effort!r} is not supported for this model"
        )
    if request.prompt_mode is not None and not family.prompt_mode:
        raise invalid_request("Reasoning prompt mode is not enabled for this model")


def _grammar_refusal(schema: dict[str, Any]) -> MistralError | None:
    """Mistral's grammar compiler refuses ``$schema`` and ``$id`` (litellm PR #13389)."""
    text = json.dumps(schema, indent=2)
    for line_no, line in enumerate(text.splitlines(), start=1):
        for key in ('"$schema"', '"$id"'):
            column = line.find(key)
            if column >= 0:
                return invalid_request(
                    f"Grammar error: at {line_no}({column + 1}): failed to compile JSON schema"
                )
    return None


def _schemas_of(request: ChatCompletionRequest) -> list[dict[str, Any]]:
    schemas = [t.function.parameters for t in request.tools or [] if isinstance(t, Tool)]
    if request.response_format.type == "json_schema" and request.response_format.json_schema is not None:
        schemas.append(request.response_format.json_schema.schema_)
    return schemas


def _empty_text_list_refusal(request: ChatCompletionRequest) -> None:
    """An assistant turn whose content is a list of empty text chunks makes Mistral fail with a 500.

    Seen through LiteLLM (BerriAI/litellm#12197, #13355): the answer is a bare internal error, not a 400.
    """
    for message in request.messages:
        content = message.content if isinstance(message, messages.AssistantMessage) else None
        if (
            isinstance(content, list)
            and content
            and all(isinstance(c, chunks.TextChunk) and not c.text for c in content)
        ):
            body = {"code": "3600", "message": "Service unavailable.", "type": "internal_server_error"}
            raise MistralError(500, body)


def _empty_tools_refusal(request: ChatCompletionRequest) -> None:
    """An empty ``tools`` list is refused with an odd body of its own (php-mistral#76, 2025-11): code 3001."""
    if request.tools == []:
        detail = [
            {
                "type": "extra_forbidden",
                "loc": ["body", "tools"],
                "msg": "Extra inputs are not permitted",
                "input": [],
            }
        ]
        body = {
            "object": "Error",
            "detail": detail,
            "message": detail,
            "type": "invalid_request_error",
            "code": 3001,
        }
        raise MistralError(422, body)


MAX_CHOICES = 128
"""The most choices the mock generates for one request. Mistral documents no maximum for ``n``; answering
``n: 143945558`` would hang the mock and grow its memory without bound (found by schemathesis), so above
OpenAI's own maximum the mock refuses, saying it is the mock's limit."""


def _validator_view(model: str, messages: list[Any], tools: list[Any]) -> "MCChatCompletionRequest[Any]":
    """What mistral-common's validator reads of a request: its model, messages and tools, and nothing else.

    Not ``MCChatCompletionRequest.model_construct``: that fills some twenty defaults, several through
    factories pydantic inspects on every call, and cost a quarter of the mock's CPU per distinct chat
    request (bench/mock_bench.py, unique requests: 3,766 answers/s with it)."""
    return cast("MCChatCompletionRequest[Any]", SimpleNamespace(model=model, messages=messages, tools=tools))


def check_chat(request: ChatCompletionRequest) -> Family:
    """Refuse what Mistral refuses; return the model family otherwise."""
    if request.n is not None and request.n > MAX_CHOICES:
        raise invalid_request(f"n={request.n} is above the mock's limit of {MAX_CHOICES} choices per request")
    _empty_tools_refusal(request)
    family = _family_for(request.model, "completion_chat")
    _capability_refusals(request, family)
    _empty_text_list_refusal(request)
    mc = _validator_view(request.model, [_mc_message(m) for m in request.messages], _mc_tools(request))
    try:
        _VALIDATORS[family.user_after_tool].validate_request(mc)
    except MistralCommonException as exc:
        raise _refusal(exc) from None
    for schema in _schemas_of(request):
        if (refusal := _grammar_refusal(schema)) is not None:
            raise refusal
    if request.response_format.type == "json_schema" and request.response_format.json_schema is None:
        raise invalid_request("json_schema must be provided when response_format type is json_schema")
    return family


def chat_family(model: str) -> Family:
    """The family of a model that serves chat, or Mistral's invalid-model refusal."""
    return _family_for(model, "completion_chat")


def check_chat_resources(request: ChatCompletionRequest, family: Family) -> None:
    """Chat's rules on what a conversation uses, without its rules on the conversation itself.

    Capabilities (images, audio, tools, ``reasoning_effort``), tool definitions (function names and
    parameter schemas, by mistral-common, against a one-turn conversation so that no turn rule can fire)
    and the grammar compiler's refusals of response schemas. For endpoints that run on the chat models with
    a conversation format of their own (Mistral's native Responses), whose turns are checked elsewhere.
    """
    _capability_refusals(request, family)
    mc = _validator_view(
        request.model, [mc_messages.UserMessage.model_construct(content="-")], _mc_tools(request)
    )
    try:
        _VALIDATORS[False].validate_request(mc)
    except MistralCommonException as exc:
        raise _refusal(exc) from None
    for schema in _schemas_of(request):
        if (refusal := _grammar_refusal(schema)) is not None:
            raise refusal


def check_fim(model: str) -> Family:
    return _family_for(model, "completion_fim")


def check_ocr(model: str | None) -> Family:
    return _family_for(model or "mistral-ocr-latest", "ocr")


def check_embedding_model(model: str) -> Family:
    family = lookup(model)
    if family is None or family.kind != "embedding":
        raise invalid_model(model)
    return family


def embedding_width(request: EmbeddingRequest, family: Family) -> int:
    """The width of the vectors asked for, or Mistral's refusal of ``output_dimension``."""
    if request.output_dimension is None:
        return family.dimensions
    if family.max_dimensions is None:
        raise invalid_request(f"output_dimension is not supported for model {request.model}")
    if request.output_dimension > family.max_dimensions:
        limit, asked = family.max_dimensions, request.output_dimension
        raise invalid_request(f"output_dimension must be less than or equal to {limit}, got {asked}")
    return request.output_dimension


def embedding_texts(request: EmbeddingRequest) -> list[str]:
    return [request.input] if isinstance(request.input, str) else list(request.input)


def check_embeddings(request: EmbeddingRequest) -> Family:
    """Refuse what Mistral refuses of a schema-valid embeddings request; return the model family.

    Counts the batch with the family's tokenizer (load it first, off the event loop: ``tokens.ready``).
    """
    family = check_embedding_model(request.model)
    width = embedding_width(request, family)
    if request.output_dtype in ("binary", "ubinary") and width % 8:
        raise invalid_request("output_dimension must be a multiple of 8 for binary output_dtype")
    total = sum(tokens.count(text, family.tokenizer) for text in embedding_texts(request))
    if total > limits.EMBEDDING_BATCH_TOKENS:
        # Seen live: "Too many tokens in batch. Max is 16384 got 17555" (semantic-router#297).
        raise invalid_request(f"Too many tokens in batch. Max is {limits.EMBEDDING_BATCH_TOKENS} got {total}")
    return family


__all__ = [
    "chat_family",
    "check_chat",
    "check_chat_resources",
    "check_embedding_model",
    "check_embeddings",
    "check_fim",
    "check_ocr",
    "embedding_width",
    "envelope",
]


def check_batch_job(request: CreateBatchJobRequest) -> None:
    """A job Mistral would refuse whole: nothing to run, or a model that does not serve the endpoint.

    Assumption: no recording shows either refusal; the wording is the mock's, the unknown or misused
    model is refused as the endpoint itself refuses it (``invalid_model``).
    """
    if not request.input_files and not request.requests:
        raise invalid_request("Either input_files or requests must be provided")
    if request.model is None:
        return
    if request.endpoint == "/v1/embeddings":
        check_embedding_model(request.model)
    elif request.endpoint in ENDPOINT_CAPABILITIES:
        _family_for(request.model, ENDPOINT_CAPABILITIES[request.endpoint])
    elif lookup(request.model) is None:
        raise invalid_model(request.model)


def check_moderation(model: str) -> Family:
    return _family_for(model, "moderation")


def check_classification(model: str) -> Family:
    return _family_for(model, "classification")


DEFAULT_SPEECH_MODEL = "voxtral-mini-tts-latest"


def check_transcription(request: AudioTranscriptionRequest) -> Family:
    """The model must transcribe, and the audio come one way (the mock's wording: no recording shows these
    refusals)."""
    family = _family_for(request.model, "audio_transcription")
    given = [name for name in ("file", "file_url", "file_id") if getattr(request, name) is not None]
    if len(given) != 1:
        raise invalid_request("Exactly one of file, file_url or file_id must be provided")
    if request.speaker_references and not request.diarize:
        raise invalid_request("speaker_references requires diarize to be true")
    return family


def check_speech(request: SpeechRequest) -> Family:
    return _family_for(request.model or DEFAULT_SPEECH_MODEL, "audio_speech")
