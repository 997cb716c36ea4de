"""Responses input items → OpenAI chat messages, and the items as the store keeps and lists them.

A Responses ``input`` is a string (one user turn) or a list of typed items: messages (``type`` optional,
roles ``user``, ``system``, ``developer``, ``assistant``), ``function_call`` and ``function_call_output``
items, ``reasoning`` items sent back, and ``item_reference`` items pointing at a stored item. Clients send
back what they received (the Agents SDK replays output items with exactly the keys the shim sent, ``id``,
``status``, ``annotations``, ``logprobs`` and null ``encrypted_content`` included), so every output-only key
is accepted and ignored. Anything else is refused with a 400 that names the item: an item the shim does not
understand must never be dropped from a conversation without a word.

The chat messages built here are OpenAI's chat dialect; ``shim.translate.chat`` then makes them
Mistral-acceptable (ids, roles, order), so no rule of chat is repeated here. What is decided here:

* Consecutive ``function_call`` items become one assistant turn with several ``tool_calls``; a
  ``function_call`` right after an assistant message joins that turn (a model that spoke, then called).
* ``function_call_output`` becomes a ``tool`` turn answering its ``call_id``.
* A ``reasoning`` item is Mistral's thinking sent back. It is restored as a ``thinking`` chunk at the head of
  the next assistant turn when the request asks a reasoning model to reason (the live API took exactly that
  back from ``mistral-small-latest`` with ``reasoning_effort``, ruby_llm's recording of 2026-08), and dropped
  otherwise (repair ``reasoning-dropped``): a model that does not reason refuses a thinking chunk.
* ``input_image`` by URL or data URI is an ``image_url`` part; ``input_file`` with ``file_data`` is chat's
  file part (Mistral's document chunk), with ``file_url`` a ``document_url`` chunk, with ``file_id`` Mistral's
  file chunk. An image given by ``file_id`` is refused: Mistral's chat takes images by URL only.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Final

from shim.translate.responses import ids
from shim.translate.table import refuse

MESSAGE_ROLES: Final = ("user", "system", "developer", "assistant")
ITEM_TYPES: Final = ("message", "function_call", "function_call_output", "reasoning", "item_reference")
IMAGE_DETAILS: Final = frozenset({"low", "high", "auto"})
"""Mistral's image details; OpenAI's ``original`` asks for full resolution, which is Mistral's ``high``."""

Item = dict[str, Any]


def _unsupported_item(kind: Any, where: str) -> Exception:
    accepted = ", ".join(ITEM_TYPES)
    return refuse(
        f"Input items of type {kind!r} are not supported: Mistral has no such item. "
        f"The shim accepts {accepted}.",
        where,
        "unsupported_value",
    )


def _text_field(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise refuse(f"{where}.{key} must be a string.", f"{where}.{key}", "invalid_type")
    return value


def parse_input(value: Any) -> list[Item]:
    """``input`` as a list of typed items, or a 400 naming the first item that is not one.

    A string is one user message; an item without ``type`` is a message when it has a ``role`` and an
    ``item_reference`` when it only has an ``id`` (both are optional types in OpenAI's schema).
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if not isinstance(value, list):
        raise refuse("input must be a string or an array of input items.", "input", "invalid_type")
    items: list[Item] = []
    for index, item in enumerate(value):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise refuse(f"{where} must be an object (an input item).", where, "invalid_type")
        kind = item.get("type")
        if kind is None:
            kind = "message" if "role" in item else "item_reference" if "id" in item else None
            if kind is None:
                raise refuse(f"{where} has no type, and no role or id to tell what it is.", where)
            item = {**item, "type": kind}
        if kind not in ITEM_TYPES:
            raise _unsupported_item(kind, where)
        _check(item, where)
        items.append(item)
    return items


def _check(item: Mapping[str, Any], where: str) -> None:
    """What the translation below relies on, checked once with a 400 that says where."""
    kind = item["type"]
    if kind == "message":
        if item.get("role") not in MESSAGE_ROLES:
            roles = ", ".join(MESSAGE_ROLES)
            raise refuse(f"{where}.role must be one of {roles}.", f"{where}.role", "invalid_value")
        if not isinstance(item.get("content"), str | list):
            raise refuse(f"{where}.content must be a string or an array.", f"{where}.content", "invalid_type")
    elif kind == "function_call":
        for key in ("call_id", "name", "arguments"):
            _text_field(item, key, where)
    elif kind == "function_call_output":
        if not _text_field(item, "call_id", where):
            raise refuse(f"{where}.call_id must not be empty.", f"{where}.call_id", "invalid_value")
        if not isinstance(item.get("output"), str | list):
            raise refuse(f"{where}.output must be a string or an array.", f"{where}.output", "invalid_type")
    elif kind == "item_reference":
        _text_field(item, "id", where)


def references(items: Sequence[Item]) -> list[str]:
    """The ids of the ``item_reference`` items, to look up in the store before translating."""
    return [item["id"] for item in items if item["type"] == "item_reference"]


def resolve(items: Sequence[Item], found: Mapping[str, Item]) -> list[Item]:
    """The items with every reference replaced by the stored item it names (400 when it names none)."""
    out = []
    for index, item in enumerate(items):
        if item["type"] != "item_reference":
            out.append(item)
            continue
        stored = found.get(item["id"])
        if stored is None:
            raise refuse(f"Item with id '{item['id']}' not found.", f"input[{index}]", "item_not_found")
        out.append(dict(stored))
    return out


# --- the items as stored and listed (``GET /v1/responses/{id}/input_items``) ------------------------------


def _output_text(text: Any) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def stored(items: Sequence[Item], response_id: str) -> list[Item]:
    """The input items as OpenAI lists them: each with an ``id`` (derived when the client sent none), a
    ``status``, and a message's text as a list of parts (``input_text``, or ``output_text`` for assistant
    turns) even when it was sent as a string."""
    out = []
    for index, item in enumerate(items):
        kind = item["type"]
        given = item.get("id")
        item_id = (
            given if isinstance(given, str) and given else ids.item_id(kind, response_id, "input", index)
        )
        if kind == "message":
            assistant = item["role"] == "assistant"
            content = item["content"]
            if isinstance(content, str):
                parts = [_output_text(content) if assistant else {"type": "input_text", "text": content}]
            elif assistant:
                parts = [
                    _output_text(part.get("text"))
                    if part.get("type") in ("input_text", "output_text")
                    else part
                    for part in content
                    if isinstance(part, dict)
                ]
            else:
                parts = list(content)
            out.append(
                {
                    "id": item_id,
                    "type": "message",
                    "role": item["role"],
                    "content": parts,
                    "status": "completed",
                }
            )
        elif kind == "reasoning":
            out.append({**item, "id": item_id, "summary": item.get("summary") or []})
        else:
            out.append({**item, "id": item_id, "status": item.get("status") or "completed"})
    return out


# --- the items as chat messages -----------------------------------------------------------------------------


def _image(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    url = part.get("image_url")
    if not isinstance(url, str) or not url:
        if part.get("file_id") is not None:
            raise refuse(
                "Images given by file_id cannot be sent to Mistral: its chat API takes images by URL only. "
                "Send image_url, a URL or a data URI (data:image/png;base64,...).",
                f"{where}.file_id",
                "unsupported_value",
            )
        raise refuse(f"{where} needs an image_url (a URL or a data URI).", f"{where}.image_url")
    image: dict[str, Any] = {"url": url}
    detail = part.get("detail")
    if detail == "original":
        image["detail"] = "high"
    elif detail in IMAGE_DETAILS:
        image["detail"] = detail
    return {"type": "image_url", "image_url": image}


def _file(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    filename = part.get("filename")
    if isinstance(part.get("file_data"), str):
        inner = {"file_data": part["file_data"]}
        if isinstance(filename, str):
            inner["filename"] = filename
        return {"type": "file", "file": inner}
    if isinstance(part.get("file_url"), str):
        chunk = {"type": "document_url", "document_url": part["file_url"]}
        if isinstance(filename, str):
            chunk["document_name"] = filename
        return chunk
    if isinstance(part.get("file_id"), str):
        return {"type": "file", "file": {"file_id": part["file_id"]}}
    raise refuse(f"{where} needs file_data, file_url or file_id.", where)


def _part(part: Any, where: str) -> dict[str, Any]:
    """One Responses content part as OpenAI's chat content part (or Mistral's chunk, where chat has none)."""
    if not isinstance(part, dict):
        raise refuse(f"{where} must be an object (a content part).", where, "invalid_type")
    kind = part.get("type")
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": part.get("text")}
    if kind == "refusal":
        return {"type": "refusal", "refusal": part.get("refusal")}
    if kind == "input_image":
        return _image(part, where)
    if kind == "input_file":
        return _file(part, where)
    raise refuse(
        f"Content parts of type {kind!r} are not supported: the shim accepts input_text, input_image, "
        "input_file, and output_text and refusal in assistant turns.",
        f"{where}.type",
        "unsupported_value",
    )


def _content(content: Any, where: str) -> Any:
    if isinstance(content, list):
        return [_part(part, f"{where}[{index}]") for index, part in enumerate(content)]
    return content


def _thinking(item: Mapping[str, Any]) -> str:
    """The text of a reasoning item: its ``reasoning_text`` content, else its summary."""
    for key in ("content", "summary"):
        parts = item.get(key)
        if isinstance(parts, list):
            text = "".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
            if text:
                return text
    return ""


def _with_thinking(content: Any, thoughts: list[str]) -> Any:
    """``content`` with the pending thinking as a leading Mistral ``thinking`` chunk."""
    chunk = {"type": "thinking", "thinking": [{"type": "text", "text": "".join(thoughts)}]}
    if content is None or content == "":
        return [chunk]
    if isinstance(content, str):
        return [chunk, {"type": "text", "text": content}]
    return [chunk, *content]


def to_messages(
    items: Sequence[Item], *, instructions: str | None, keep_thinking: bool
) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """OpenAI chat messages for the items (references already resolved), and the repairs made."""
    messages: list[dict[str, Any]] = []
    repairs: list[str] = []
    thoughts: list[str] = []
    # Whether the last message is an assistant turn a function call may still join.
    joinable = False
    if instructions:
        messages.append({"role": "system", "content": instructions})
    for index, item in enumerate(items):
        where = f"input[{index}]"
        kind = item["type"]
        if kind == "reasoning":
            text = _thinking(item)
            if text and keep_thinking:
                thoughts.append(text)
            elif text and "reasoning-dropped" not in repairs:
                repairs.append("reasoning-dropped")
            continue
        if kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            if joinable:
                messages[-1].setdefault("tool_calls", []).append(call)
            else:
                message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
                if thoughts:
                    message["content"], thoughts = _with_thinking(None, thoughts), []
                messages.append(message)
                joinable = True
            continue
        joinable = False
        if kind == "function_call_output":
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item["call_id"],
                    "content": _content(item["output"], f"{where}.output"),
                }
            )
            continue
        role = item["role"]
        content = _content(item["content"], f"{where}.content")
        if role == "assistant" and isinstance(content, list) and all(p["type"] == "text" for p in content):
            content = "".join(str(part.get("text") or "") for part in content)  # a model's turn: its text
        if role == "assistant":
            if thoughts:
                content, thoughts = _with_thinking(content, thoughts), []
            joinable = True
        messages.append({"role": role, "content": content})
    if thoughts and "reasoning-dropped" not in repairs:
        repairs.append("reasoning-dropped")  # thinking with no assistant turn after it to carry it
    return messages, tuple(repairs)
