"""OpenAI chat messages → messages Mistral accepts: roles, per-role keys, content parts, ids and order.

Mistral refuses what OpenAI clients send every day (failure catalogue, sections B to E): a ``developer``
turn, ``name`` on a user turn, bookkeeping keys (``id``, ``metadata``, ``refusal``, ``reasoning_content``),
tool-call ids that are not nine alphanumerics, an empty assistant turn, a user turn straight after a tool
result, a system turn after the assistant spoke, a history ending on an assistant turn. Each message is
rebuilt from the keys its role may carry, then the conversation is repaired as a whole. Every repair has a
name, reported to the client in ``x-shim-repairs``, so nothing changes behind anybody's back.

Decisions, with the evidence in the failure catalogue:

* ``reasoning_content`` replayed on an assistant turn is dropped (#13): OpenAI does not accept it back
  either, DeepSeek documents that it must not be sent back, and a thinking chunk in the history is refused
  by models without reasoning.
* A user turn right after a tool result gets a short assistant turn in between (#16), because the live API
  refuses the sequence on most models (code 3230) while OpenAI accepts it. Models whose family accepts it
  (``Family.user_after_tool`` in the mock's catalogue, the one source of truth) are sent the history as is.
* A system turn where Mistral refuses one (after an assistant or tool turn, #20) moves up to the system
  turns at the start, keeping its text and its order among them.
* A history ending on an assistant turn is continued with ``prefix: true`` (#19). Mistral then answers
  with text that begins with that turn's content.
* Orphan tool results and calls without results (#17, #18) are sent as they are: OpenAI refuses them too,
  so the client gets Mistral's reason as an OpenAI 400 rather than a guess by the shim.
* Anything that is not recognisably an OpenAI message (a non-object, an unknown role, content of the wrong
  type) is passed on unchanged, so Mistral's validation names the problem and the client reads it.
"""

import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, overload

from mistral_wire.contract import messages as contract_messages
from mistral_wire.contract.chunks import CHUNK_TYPES
from mistral_wire.contract.tools import FUNCTION_NAME
from shim.translate import ids

BRIDGE_TEXT = "Ok."
"""The assistant turn inserted between a tool result and a user turn (see the module docstring)."""

RENAMED_ROLES = {"developer": "system", "function": "tool"}
ROLE_KEYS = contract_messages.ROLE_KEYS
"""What each Mistral role may carry (from Mistral's message models); everything else is left out."""

OPENAI_PARTS = frozenset({"text", "refusal", "image_url", "input_audio", "file"})
"""OpenAI's content part types, each rebuilt as Mistral's chunk below."""
MISTRAL_CHUNKS = CHUNK_TYPES - OPENAI_PARTS
"""Mistral's own chunk types (``document_url``, ``reference``, ``thinking``...) that a client who knows
Mistral may send: they pass unchanged."""
DEFAULT_FILE_MEDIA_TYPE = "application/pdf"


@dataclass
class _Repairs:
    """The names of the repairs applied, in order of first use, without repeats."""

    names: list[str] = field(default_factory=list)

    def add(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)


# --- content parts -------------------------------------------------------------------------------------


def _data_uri(data: str, filename: Any) -> str:
    """``file_data`` as a data URI; OpenAI takes one, or bare base64 (the file name gives the type)."""
    if data.startswith("data:"):
        return data
    media = DEFAULT_FILE_MEDIA_TYPE
    if isinstance(filename, str) and "." in filename:
        media = mimetypes.guess_type(filename)[0] or DEFAULT_FILE_MEDIA_TYPE
    return f"data:{media};base64,{data}"


def _part(part: Any, repairs: _Repairs) -> Any:
    """One OpenAI content part as Mistral's chunk; parts of unknown shape are passed for Mistral to judge."""
    if not isinstance(part, dict):
        return part
    kind = part.get("type")
    if not isinstance(kind, str):
        return part  # a list or an object as the type: Mistral's to refuse, with its own 422
    if kind == "text":
        # Extra keys (``cache_control`` from Anthropic-minded clients) are a 422 on Mistral.
        return {"type": "text", "text": part.get("text")}
    if kind == "refusal":
        repairs.add("refusal-part-as-text")
        return {"type": "text", "text": part.get("refusal")}
    if kind == "image_url":
        image = part.get("image_url")
        if isinstance(image, dict):
            image = {key: image[key] for key in ("url", "detail") if image.get(key) is not None}
        return {"type": "image_url", "image_url": image}
    if kind == "input_audio":
        audio = part.get("input_audio")
        if isinstance(audio, dict) and isinstance(audio.get("data"), str):
            repairs.add("input-audio")
            audio = audio["data"]  # Mistral's form is the base64 string; the format is in the data
        return {"type": "input_audio", "input_audio": audio}
    if kind == "file":
        return _file_part(part, repairs)
    if kind in MISTRAL_CHUNKS:
        return dict(part)
    return part


def _file_part(part: Mapping[str, Any], repairs: _Repairs) -> Any:
    """OpenAI's ``{type: file, file: {file_id | file_data, filename}}`` → Mistral's file or document chunk."""
    inner = part.get("file")
    if not isinstance(inner, dict):
        return dict(part)  # already Mistral's ``{type: file, file_id}``, or malformed: Mistral decides
    repairs.add("file-part")
    if isinstance(inner.get("file_data"), str):
        chunk: dict[str, Any] = {
            "type": "document_url",
            "document_url": _data_uri(inner["file_data"], inner.get("filename")),
        }
        if isinstance(inner.get("filename"), str):
            chunk["document_name"] = inner["filename"]
        return chunk
    return {"type": "file", "file_id": inner.get("file_id")}


def _is_empty_text(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "text" and not part.get("text")


def _content(content: Any, repairs: _Repairs) -> Any:
    """A message's content with each part converted and empty text parts left out.

    A list that ends up empty becomes ``""``: Mistral fails with a 500 on a list of empty text chunks
    (catalogue 24), and an empty string is what the client meant.
    """
    if not isinstance(content, list):
        return content
    parts = [_part(part, repairs) for part in content]
    kept = [part for part in parts if not _is_empty_text(part)]
    return kept if kept else ""


# --- one message ---------------------------------------------------------------------------------------


@overload
def _tool_call(call: dict[str, Any]) -> dict[str, Any]: ...
@overload
def _tool_call(call: Any) -> Any: ...
def _tool_call(call: Any) -> Any:
    """A tool call rebuilt as ``{id, type, function: {name, arguments}}`` (catalogue 15).

    An integer ``index`` (what stream accumulators leave on each call) is kept: Mistral's ToolCall has
    had one since 2024, and the catalogue's rule is never to strip what Mistral accepts.
    """
    if not isinstance(call, dict):
        return call
    function = call.get("function")
    if not isinstance(function, dict):
        return dict(call)
    arguments = function.get("arguments")
    rebuilt: dict[str, Any] = {
        "id": call.get("id"),
        "type": "function",
        "function": {
            "name": function.get("name"),
            "arguments": "{}" if arguments in (None, "") else arguments,
        },
    }
    index = call.get("index")
    if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
        rebuilt["index"] = index
    return rebuilt


def _legacy_call(function_call: Mapping[str, Any], position: int) -> dict[str, Any]:
    """An assistant's legacy ``function_call`` as a tool call whose id is derived from its position."""
    return _tool_call({"id": ids.derive_id(f"function_call:{position}"), "function": function_call})


def _message(message: Any, position: int, repairs: _Repairs) -> Any:
    """One message with Mistral's role and keys; an unrecognised message is returned unchanged."""
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        return message
    role = RENAMED_ROLES.get(message["role"], message["role"])
    if role not in ROLE_KEYS:
        return dict(message)
    if role != message["role"]:
        repairs.add(f"{message['role']}-role")
    out: dict[str, Any] = {"role": role}
    if role in ("user", "tool", "system") or message.get("content") is not None:
        out["content"] = _content(message.get("content"), repairs)
    if role == "assistant":
        calls = message.get("tool_calls")
        if isinstance(calls, list) and calls:
            out["tool_calls"] = [_tool_call(call) for call in calls]
        elif isinstance(message.get("function_call"), dict):
            out["tool_calls"] = [_legacy_call(message["function_call"], position)]
        elif calls is not None and not isinstance(calls, list):
            out["tool_calls"] = calls  # malformed: Mistral names it
        if out.get("tool_calls") and out.get("content") == "":
            del out["content"]  # Mistral's own history shape: no content beside the calls
        if message.get("prefix") is not None:
            out["prefix"] = message["prefix"]
    elif role == "tool":
        if message.get("tool_call_id") is not None:
            out["tool_call_id"] = message["tool_call_id"]
        name = message.get("name")
        if isinstance(name, str) and FUNCTION_NAME.fullmatch(name):
            out["name"] = name
    handled = ROLE_KEYS[role] | ({"function_call"} if "tool_calls" in out else set())
    if any(value is not None and key not in handled for key, value in message.items()):
        repairs.add("message-keys")
    return out


# --- the conversation ----------------------------------------------------------------------------------


def _is_empty_assistant(message: Any) -> bool:
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return False
    content = message.get("content")
    empty = content is None or (isinstance(content, str) and not content.strip()) or content == []
    return empty and not message.get("tool_calls")


def _role(message: Any) -> str | None:
    return message.get("role") if isinstance(message, dict) else None


def _pair_tool_results(messages: list[Any], repairs: _Repairs) -> None:
    """Give ids to calls that have none and to results that name none, in order (in place).

    A legacy ``function`` message answers the call before it; so does a tool message without
    ``tool_call_id`` (Mistral requires one). Calls without an id get one derived from their position.
    """
    pending: list[str] = []
    for position, message in enumerate(messages):
        role = _role(message)
        if role == "assistant" and isinstance(message.get("tool_calls"), list):
            pending = []
            for number, call in enumerate(message["tool_calls"]):
                if not isinstance(call, dict):
                    continue
                if not isinstance(call.get("id"), str) or not call["id"]:
                    call["id"] = ids.derive_id(f"call:{position}:{number}")
                    repairs.add("tool-call-ids")
                pending.append(call["id"])
        elif role == "tool":
            given = message.get("tool_call_id")
            if isinstance(given, str) and given:
                if given in pending:
                    pending.remove(given)
            elif pending:
                message["tool_call_id"] = pending.pop(0)
                repairs.add("tool-result-ids")


def _map_ids(messages: list[Any], repairs: _Repairs) -> None:
    """Replace every id Mistral refuses with its stable nine-character image (in place, see ``ids``)."""
    found: list[str] = []
    for message in messages:
        role = _role(message)
        if role == "assistant" and isinstance(message.get("tool_calls"), list):
            found.extend(
                call["id"]
                for call in message["tool_calls"]
                if isinstance(call, dict) and isinstance(call.get("id"), str)
            )
        elif role == "tool" and isinstance(message.get("tool_call_id"), str):
            found.append(message["tool_call_id"])
    mapping = ids.map_ids(found)
    if all(original == mapped for original, mapped in mapping.items()):
        return
    repairs.add("tool-call-ids")
    for message in messages:
        role = _role(message)
        if role == "assistant" and isinstance(message.get("tool_calls"), list):
            for call in message["tool_calls"]:
                if isinstance(call, dict) and isinstance(call.get("id"), str):
                    call["id"] = mapping[call["id"]]
        elif role == "tool" and isinstance(message.get("tool_call_id"), str):
            message["tool_call_id"] = mapping[message["tool_call_id"]]


def _hoist_system(messages: list[Any], repairs: _Repairs) -> list[Any]:
    """Move each system turn Mistral refuses where it is (after assistant or tool) up to the first ones."""
    head: list[Any] = []
    rest: list[Any] = []
    for message in messages:
        if _role(message) == "system":
            previous = _role(rest[-1]) if rest else None
            if previous in ("assistant", "tool"):
                repairs.add("system-moved-first")
                head.append(message)
                continue
            (rest if rest else head).append(message)
        else:
            rest.append(message)
    return head + rest


def _bridge_tool_to_user(messages: list[Any], repairs: _Repairs) -> list[Any]:
    out: list[Any] = []
    for message in messages:
        if _role(message) == "user" and out and _role(out[-1]) == "tool":
            out.append({"role": "assistant", "content": BRIDGE_TEXT})
            repairs.add("assistant-after-tool")
        out.append(message)
    return out


def _continue_trailing_assistant(messages: list[Any], repairs: _Repairs) -> None:
    if not messages:
        return
    last = messages[-1]
    if _role(last) == "assistant" and not last.get("tool_calls") and "prefix" not in last:
        last["prefix"] = True
        repairs.add("assistant-prefix")


def translate_messages(messages: Any, *, user_after_tool: bool = False) -> tuple[Any, tuple[str, ...]]:
    """Mistral's ``messages`` for OpenAI's, and the names of the repairs that were needed.

    ``user_after_tool``: the model accepts a user turn right after a tool result, so no bridge is inserted.
    A value that is not a list is returned unchanged for Mistral to refuse.
    """
    if not isinstance(messages, list):
        return messages, ()
    repairs = _Repairs()
    kept = [_message(message, position, repairs) for position, message in enumerate(messages)]
    # Every repair of the whole conversation is about assistant or tool turns (their ids, emptiness,
    # and what may follow them): a conversation of system and user turns alone needs none of them.
    if any(_role(message) in ("assistant", "tool") for message in kept):
        _pair_tool_results(kept, repairs)
        _map_ids(kept, repairs)
        rebuilt = kept
        kept = [message for message in rebuilt if not _is_empty_assistant(message)]
        if len(kept) != len(rebuilt):
            repairs.add("empty-assistant-dropped")
        kept = _hoist_system(kept, repairs)
        if not user_after_tool:
            kept = _bridge_tool_to_user(kept, repairs)
        _continue_trailing_assistant(kept, repairs)
    return kept, tuple(repairs.names)
