"""The chat request a native Responses request amounts to: how the checks and the mock read a conversation.

No recorded traffic of Mistral's ``/v1/responses`` exists yet; its SDK says it serves text, images,
reasoning and client-executed function calls from the same models as chat. So a Responses request is read
as the chat request it amounts to, and chat's rules on models, capabilities, tool definitions and schemas
apply to it (``responses_semantics``), and the mock answers it with the chat generator:

* ``instructions`` is a leading system turn; ``system`` and ``developer`` messages are system turns (their
  text only: a system turn holds no images);
* an assistant ``message`` (easy or output) is an assistant turn; ``refusal`` parts are its text;
* ``function_call`` items are the tool calls of an assistant turn: consecutive ones, and an assistant text
  turn right before them, make one turn; ``function_call_output`` items are tool turns. Call ids become
  Mistral's nine-character ids (kept when they already are one, otherwise a stable hash), the same for a
  call and its output;
* ``reasoning`` items sent back are dropped (the model's earlier thinking is not part of the prompt);
* parts: ``input_text`` is text, ``input_image`` an image (by URL, data URI or file id), ``input_file`` a
  document (by URL, data or file id);
* ``tools``: function tools, and the functions inside namespace tools, are chat functions (missing
  ``parameters`` are an empty object schema); custom tools inside namespaces have no chat equivalent and are
  left out; ``tool_choice``, ``parallel_tool_calls`` and ``reasoning.effort`` carry over; ``text.format``
  is the ``response_format``; ``max_output_tokens`` is ``max_tokens`` (negative as 0), and
  ``max_tool_calls: 0`` is ``tool_choice: "none"``.

Sampling fields (``temperature``, ``top_p``) are not part of the view: the Responses models give them no
range, chat's ranges are not known to apply.
"""

import hashlib
import string
from typing import Any

from mistral_wire.contract.messages import TOOL_CALL_ID
from mistral_wire.contract.requests import ChatCompletionRequest
from mistral_wire.contract.responses import (
    CreateResponseRequest,
    ResponsesEasyInputMessage,
    ResponsesFormatJSONObject,
    ResponsesFormatTextJSONSchemaConfig,
    ResponsesFunctionCallOutput,
    ResponsesFunctionTool,
    ResponsesFunctionToolCall,
    ResponsesInputFile,
    ResponsesInputFileContent,
    ResponsesInputImage,
    ResponsesInputImageContent,
    ResponsesMessage,
    ResponsesNamespaceTool,
    ResponsesOutputMessage,
    ResponsesOutputRefusal,
    ResponsesRequest,
    ResponsesToolChoiceFunction,
    ResponsesToolFunction,
)

_ALNUM = string.ascii_letters + string.digits
EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}


def mistral_call_id(call_id: str) -> str:
    """A call id as Mistral's nine letters and digits: itself when it is one, else a stable hash of it."""
    if TOOL_CALL_ID.match(call_id):
        return call_id
    number = int.from_bytes(hashlib.sha256(call_id.encode("utf-8", "surrogatepass")).digest()[:8], "big")
    chars = []
    for _ in range(9):
        number, rest = divmod(number, len(_ALNUM))
        chars.append(_ALNUM[rest])
    return "".join(chars)


def _part(part: Any) -> dict[str, Any]:
    """One Responses content part as a chat chunk."""
    if isinstance(part, ResponsesInputImage | ResponsesInputImageContent):
        return {"type": "image_url", "image_url": part.image_url or part.file_id or ""}
    if isinstance(part, ResponsesInputFile | ResponsesInputFileContent):
        chunk: dict[str, Any] = {
            "type": "document_url",
            "document_url": part.file_url or part.file_data or part.file_id or "",
        }
        if part.filename is not None:
            chunk["document_name"] = part.filename
        return chunk
    if isinstance(part, ResponsesOutputRefusal):
        return {"type": "text", "text": part.refusal}
    return {"type": "text", "text": part.text}


def _text(parts: list[Any]) -> str:
    return "\n".join(chunk["text"] for chunk in map(_part, parts) if chunk["type"] == "text")


def _content(content: str | list[Any], role: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    if role == "system":
        return _text(content)
    return [_part(part) for part in content]


def _messages(request: ResponsesRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.instructions:
        messages.append({"role": "system", "content": request.instructions})
    items = (
        [ResponsesEasyInputMessage(role="user", content=request.input)]
        if isinstance(request.input, str)
        else request.input
    )
    names: dict[str, str] = {}
    for item in items:
        if isinstance(item, ResponsesEasyInputMessage | ResponsesMessage):
            role = ROLES[item.role]
            messages.append({"role": role, "content": _content(item.content, role)})
        elif isinstance(item, ResponsesOutputMessage):
            messages.append({"role": "assistant", "content": _text(item.content)})
        elif isinstance(item, ResponsesFunctionToolCall):
            call = {
                "id": mistral_call_id(item.call_id),
                "type": "function",
                "function": {"name": item.name, "arguments": item.arguments},
            }
            names[item.call_id] = item.name
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
        elif isinstance(item, ResponsesFunctionCallOutput):
            output = item.output if isinstance(item.output, str) else [_part(p) for p in item.output]
            tool: dict[str, Any] = {
                "role": "tool",
                "content": output,
                "tool_call_id": mistral_call_id(item.call_id),
            }
            if item.call_id in names:
                tool["name"] = names[item.call_id]
            messages.append(tool)
    return messages


def _function(tool: ResponsesFunctionTool | ResponsesToolFunction) -> dict[str, Any]:
    parameters = tool.parameters if isinstance(tool.parameters, dict) else EMPTY_PARAMETERS
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description or "",
            "strict": bool(tool.strict),
            "parameters": parameters,
        },
    }


def functions(
    request: ResponsesRequest,
) -> list[tuple[str | None, ResponsesFunctionTool | ResponsesToolFunction]]:
    """Every function the request offers, with the namespace it belongs to (None for a top-level one)."""
    found: list[tuple[str | None, ResponsesFunctionTool | ResponsesToolFunction]] = []
    for tool in request.tools:
        if isinstance(tool, ResponsesNamespaceTool):
            found.extend(
                (tool.name, inner) for inner in tool.tools if isinstance(inner, ResponsesToolFunction)
            )
        else:
            found.append((None, tool))
    return found


def _response_format(request: ResponsesRequest) -> dict[str, Any] | None:
    fmt = request.text.format if request.text is not None else None
    if isinstance(fmt, ResponsesFormatJSONObject):
        return {"type": "json_object"}
    if isinstance(fmt, ResponsesFormatTextJSONSchemaConfig):
        schema: dict[str, Any] = {"name": fmt.name, "schema": fmt.schema_, "strict": bool(fmt.strict)}
        if fmt.description is not None:
            schema["description"] = fmt.description
        return {"type": "json_schema", "json_schema": schema}
    return None


def chat_payload(request: ResponsesRequest) -> dict[str, Any]:
    """The chat request body the Responses request amounts to (only the keys it sets)."""
    payload: dict[str, Any] = {"model": request.model, "messages": _messages(request)}
    offered = functions(request)
    if offered:
        payload["tools"] = [_function(tool) for _, tool in offered]
    choice = request.tool_choice
    if isinstance(choice, ResponsesToolChoiceFunction):
        payload["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
    elif choice != "auto":
        payload["tool_choice"] = choice
    if not request.parallel_tool_calls:
        payload["parallel_tool_calls"] = False
    if (response_format := _response_format(request)) is not None:
        payload["response_format"] = response_format
    if request.reasoning is not None and request.reasoning.effort is not None:
        payload["reasoning_effort"] = request.reasoning.effort
    if isinstance(request, CreateResponseRequest):
        if request.max_output_tokens is not None:
            payload["max_tokens"] = max(0, request.max_output_tokens)
        if request.max_tool_calls is not None and request.max_tool_calls <= 0:
            payload["tool_choice"] = "none"
    return payload


def as_chat(request: ResponsesRequest) -> ChatCompletionRequest:
    """The chat request itself (validated: a view that chat's schema refuses is a bug here, not input)."""
    return ChatCompletionRequest.model_validate(chat_payload(request))


def input_messages(request: ResponsesRequest, chat: ChatCompletionRequest) -> int:
    """How many turns of the chat view come from ``input`` (not from ``instructions``)."""
    return len(chat.messages) - (1 if request.instructions else 0)


__all__ = [
    "as_chat",
    "chat_payload",
    "functions",
    "input_messages",
    "mistral_call_id",
]
