"""From a recorded Mistral request back to the OpenAI request that the shim turns into exactly it.

The real-traffic oracle (``test_real_traffic.py``) replays recordings of Mistral's API through the shim, so
each recorded Mistral request needs the OpenAI request a migrating team would send to get it. Most of it is
the same JSON; the rest is the inverse of the shim's documented translation table (``seed`` for
``random_seed``, ``dimensions`` for ``output_dimension``, Mistral-only fields through ``extra_body``).

Where the shim, by design, never sends what was recorded (it rebuilds a tool call, drops an empty text
part, moves a late system turn up, bridges a user turn after a tool result, cleans ``$schema`` out of a
JSON schema ...), no OpenAI request can reproduce the recording: ``Inexpressible`` says which rule and
where, and the test skips with that reason. The rules are written here from the shim's documentation and
the failure catalogue, not imported from the shim, so a shim that stops doing what it documents shows up
as a replay miss, not as a silent skip.

The second half reads answers: the content a Mistral answer (JSON or SSE) carries and the content the
openai client parsed, in one comparable shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mistral_wire.contract.catalogue import lookup

MISTRAL_TOOL_CALL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")
"""The only tool-call ids Mistral accepts back; the shim maps every other id onto one of these."""

# Top-level Mistral chat fields → the OpenAI field the shim turns into them (same name unless renamed).
CHAT_FIELDS: dict[str, str] = {
    "model": "model",
    "messages": "messages",
    "stream": "stream",
    "stop": "stop",
    "n": "n",
    "max_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "parallel_tool_calls": "parallel_tool_calls",
    "prompt_cache_key": "prompt_cache_key",
    "metadata": "metadata",
    "response_format": "response_format",
    "tools": "tools",
    "tool_choice": "tool_choice",
    "prediction": "prediction",
    "reasoning_effort": "reasoning_effort",
    "service_tier": "service_tier",
    "random_seed": "seed",
}
# Mistral-only chat fields the shim forwards when a client sends them through ``extra_body``.
CHAT_EXTRA_BODY = frozenset({"safe_prompt", "prompt_mode", "guardrails"})
# Mistral's service tiers → OpenAI's (the shim maps "default" to "standard_only").
SERVICE_TIERS = {"auto": "auto", "standard_only": "default"}
# Keys each role keeps through the shim; any other key (even null) is left out of what it sends.
ROLE_KEYS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content"}),
    "user": frozenset({"role", "content"}),
    "assistant": frozenset({"role", "content", "tool_calls", "prefix"}),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
}
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
FUNCTION_KEYS = frozenset({"name", "description", "strict", "parameters"})
SCHEMA_KEYWORDS_CLEANED = frozenset({"$schema", "$id"})
_SCHEMA_DATA = frozenset({"enum", "const", "default", "examples", "example"})
_SCHEMA_NAMED = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})

EMBEDDING_FIELDS: dict[str, str] = {"model": "model", "input": "input", "output_dimension": "dimensions"}
EMBEDDING_EXTRA_BODY = frozenset({"output_dtype", "metadata"})


class Inexpressible(Exception):
    """No OpenAI request makes the shim send this Mistral request; the message says why."""


# --- chat requests --------------------------------------------------------------------------------------


def _schema_cleaned(node: Any, where: str) -> None:
    """Raise where the shim's schema cleaning would change ``node`` ($schema/$id, draft-4 bounds)."""
    if isinstance(node, list):
        for item in node:
            _schema_cleaned(item, where)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in SCHEMA_KEYWORDS_CLEANED:
            raise Inexpressible(
                f"{where} has {key}: the shim removes it (Mistral's grammar compiler refuses it)"
            )
        if key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            raise Inexpressible(f"{where} has a draft-4 boolean {key}: the shim rewrites it as draft 7")
        if key in _SCHEMA_DATA:
            continue
        if key in _SCHEMA_NAMED and isinstance(value, dict):
            for sub in value.values():
                _schema_cleaned(sub, where)
        else:
            _schema_cleaned(value, where)


def _tool(tool: Any, position: int) -> Any:
    where = f"tools[{position}]"
    if not isinstance(tool, dict) or tool.get("type", "function") != "function":
        return tool  # Mistral's built-in tools pass unchanged
    function = tool.get("function")
    if not isinstance(function, dict):
        return tool
    extra = sorted(set(tool) - {"type", "function"})
    if extra:
        raise Inexpressible(f"{where} carries {extra}: the shim rebuilds a tool as type and function only")
    unknown = sorted(set(function) - FUNCTION_KEYS)
    nulls = sorted(key for key in ("description", "strict") if key in function and function[key] is None)
    if unknown or nulls:
        raise Inexpressible(
            f"{where}.function carries {unknown or nulls}: the shim sends only set keys of "
            "name, description, strict and parameters"
        )
    if not isinstance(function.get("parameters"), dict):
        raise Inexpressible(f"{where} has no parameters object: the shim fills in an empty one")
    _schema_cleaned(function["parameters"], f"{where}.function.parameters")
    return tool


def _part(part: Any, where: str) -> Any:
    """One content part, checked against what the shim rebuilds; unknown shapes pass unchanged."""
    if not isinstance(part, dict):
        return part
    kind = part.get("type")
    if kind == "text":
        if set(part) != {"type", "text"}:
            raise Inexpressible(
                f"{where} text part carries {sorted(set(part) - {'type', 'text'})}: the shim "
                "sends type and text only"
            )
        if not part["text"]:
            raise Inexpressible(f"{where} has an empty text part: the shim leaves it out (catalogue 24)")
    elif kind == "image_url":
        image = part.get("image_url")
        if isinstance(image, dict) and (set(image) - {"url", "detail"} or image.get("detail", "") is None):
            raise Inexpressible(f"{where} image_url carries {sorted(image)}: the shim keeps url and detail")
        if set(part) != {"type", "image_url"}:
            raise Inexpressible(f"{where} image part carries extra keys: the shim rebuilds it")
    elif kind == "input_audio" and isinstance(part.get("input_audio"), dict):
        raise Inexpressible(
            f"{where} has an OpenAI-shaped input_audio object: the shim sends its base64 only"
        )
    elif kind in ("refusal", "file") and (kind == "refusal" or isinstance(part.get("file"), dict)):
        raise Inexpressible(f"{where} has a {kind} part: the shim converts it")
    return part


def _no_text(content: Any) -> bool:
    """Content that carries nothing: ``""``, ``[]`` or only empty text parts (the shim sends ``""``)."""
    if isinstance(content, list):
        return all(isinstance(p, dict) and p.get("type") == "text" and not p.get("text") for p in content)
    return content == ""


def _content(content: Any, where: str) -> Any:
    if isinstance(content, list):
        if _no_text(content):
            raise Inexpressible(f"{where} is {content!r}: the shim sends '' for content without text")
        return [_part(part, f"{where}[{index}]") for index, part in enumerate(content)]
    return content


def _tool_call(call: Any, where: str) -> Any:
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
        return call
    extra = sorted(set(call) - {"id", "type", "function", "index"})
    function = call["function"]
    if extra or set(function) - {"name", "arguments"} or call.get("type", "function") != "function":
        raise Inexpressible(
            f"{where} carries {extra or sorted(function)}: the shim rebuilds a tool call as "
            "id, type, function {name, arguments} and index"
        )
    if function.get("arguments") in (None, ""):
        raise Inexpressible(f"{where} has empty arguments: the shim sends '{{}}'")
    if not isinstance(call.get("id"), str) or not MISTRAL_TOOL_CALL_ID.fullmatch(call["id"]):
        raise Inexpressible(f"{where} id {call.get('id')!r} is not 9 alphanumerics: the shim maps it to one")
    if "index" in call and (not isinstance(call["index"], int) or call["index"] < 0):
        raise Inexpressible(
            f"{where} index {call['index']!r}: the shim drops an index that is not an integer"
        )
    return call


def _message(message: Any, position: int) -> Any:
    where = f"messages[{position}]"
    if not isinstance(message, dict) or message.get("role") not in ROLE_KEYS:
        return message  # unrecognised: the shim passes it on for Mistral to judge
    role = message["role"]
    extra = sorted(set(message) - ROLE_KEYS[role])
    if extra:
        raise Inexpressible(
            f"{where} ({role}) carries {extra}: the shim sends {sorted(ROLE_KEYS[role])} only"
        )
    out = dict(message)
    calls = message.get("tool_calls") if role == "assistant" else None
    if isinstance(calls, list) and not calls:
        raise Inexpressible(f"{where} has tool_calls []: the shim leaves an empty list out")
    if isinstance(calls, list):
        out["tool_calls"] = [_tool_call(call, f"{where}.tool_calls[{i}]") for i, call in enumerate(calls)]
    # Beside tool calls, content without text is left out by the shim (see ``equivalent_chat_body``).
    if "content" in out and not (calls and _no_text(out["content"])):
        out["content"] = _content(out["content"], f"{where}.content")
    if role == "tool":
        if not isinstance(message.get("tool_call_id"), str) or not message["tool_call_id"]:
            raise Inexpressible(
                f"{where} is a tool result without tool_call_id: the shim pairs it with a call"
            )
        if not MISTRAL_TOOL_CALL_ID.fullmatch(message["tool_call_id"]):
            raise Inexpressible(f"{where} tool_call_id is not 9 alphanumerics: the shim maps it to one")
        name = message.get("name")
        if name is not None and not (isinstance(name, str) and TOOL_NAME.fullmatch(name)):
            raise Inexpressible(f"{where} name {name!r} is not a valid function name: the shim drops it")
    return out


def _is_empty_assistant(message: Mapping[str, Any]) -> bool:
    content = message.get("content")
    empty = content is None or (isinstance(content, str) and not content.strip()) or content == []
    return empty and not message.get("tool_calls")


def _conversation(messages: list[Any], model: Any) -> None:
    """Raise where the shim repairs the order of a conversation that has assistant or tool turns."""
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    if not any(role in ("assistant", "tool") for role in roles):
        return
    for index, message in enumerate(messages):
        if roles[index] == "assistant" and _is_empty_assistant(message):
            raise Inexpressible(f"messages[{index}] is an empty assistant turn: the shim leaves it out")
    for index in range(1, len(roles)):
        if roles[index] == "system" and roles[index - 1] in ("assistant", "tool"):
            raise Inexpressible(
                f"messages[{index}] is a system turn after {roles[index - 1]}: "
                "the shim moves it up (catalogue 20)"
            )
    family = lookup(model) if isinstance(model, str) else None
    if family is None or not family.user_after_tool:
        for index in range(1, len(roles)):
            if roles[index] == "user" and roles[index - 1] == "tool":
                raise Inexpressible(
                    f"messages[{index}] is a user turn right after a tool result: the shim bridges it "
                    f"with an assistant turn for {model} (catalogue 16)"
                )
    last = messages[-1]
    if roles[-1] == "assistant" and not last.get("tool_calls") and "prefix" not in last:
        raise Inexpressible(
            "the history ends on an assistant turn: the shim adds prefix: true (catalogue 19)"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def chat_request(body: Any) -> dict[str, Any]:
    """Keyword arguments for ``client.chat.completions.create`` that make the shim send ``body``."""
    if not isinstance(body, dict):
        raise Inexpressible("the recorded body is not a JSON object")
    kwargs: dict[str, Any] = {}
    extra_body: dict[str, Any] = {}
    for key, value in body.items():
        if key in CHAT_EXTRA_BODY:
            extra_body[key] = value
        elif key not in CHAT_FIELDS:
            raise Inexpressible(f"{key!r} is not a Mistral chat field the shim forwards")
        elif value is None:
            continue  # the shim leaves nulls out; the recorded ones are all fields whose default is null
        else:
            kwargs[CHAT_FIELDS[key]] = value
    temperature, top_p = kwargs.get("temperature"), kwargs.get("top_p")
    if (_is_number(temperature) and temperature > 1.5) or (_is_number(top_p) and top_p == 0):
        raise Inexpressible("temperature above 1.5 or top_p 0: the shim brings them into Mistral's range")
    if "random_seed" in body and not (isinstance(body["random_seed"], int) and body["random_seed"] >= 0):
        raise Inexpressible("random_seed is not a non-negative integer")
    if "service_tier" in kwargs:
        if kwargs["service_tier"] not in SERVICE_TIERS:
            raise Inexpressible(f"service_tier {kwargs['service_tier']!r} has no OpenAI counterpart")
        kwargs["service_tier"] = SERVICE_TIERS[kwargs["service_tier"]]
    tools = kwargs.get("tools")
    if tools == []:
        raise Inexpressible("tools is an empty list: the shim leaves it out (catalogue 10)")
    if isinstance(tools, list):
        kwargs["tools"] = [_tool(tool, i) for i, tool in enumerate(tools)]
    if kwargs.get("tool_choice", "auto") != "auto" and "tools" not in kwargs:
        # "auto" is Mistral's default: left out, it is the same request.
        raise Inexpressible("tool_choice without tools: the shim leaves it out (catalogue 10)")
    choice = kwargs.get("tool_choice")
    if isinstance(choice, dict) and (
        set(choice) - {"type", "function"} or set(choice.get("function") or {}) - {"name"}
    ):
        raise Inexpressible(f"tool_choice carries {sorted(choice)}: the shim sends type and function.name")
    response_format = kwargs.get("response_format")
    if isinstance(response_format, dict) and isinstance(response_format.get("json_schema"), dict):
        _schema_cleaned(response_format["json_schema"].get("schema"), "response_format.json_schema.schema")
    prediction = kwargs.get("prediction")
    if isinstance(prediction, dict) and isinstance(prediction.get("content"), list):
        raise Inexpressible("prediction content is a list: the shim joins it into one string")
    messages = kwargs.get("messages")
    if isinstance(messages, list):
        kwargs["messages"] = [_message(m, i) for i, m in enumerate(messages)]
        _conversation(kwargs["messages"], kwargs.get("model"))
    if extra_body:
        kwargs["extra_body"] = extra_body
    return kwargs


def equivalent_chat_body(body: Any) -> Any:
    """The recorded chat body as the shim sends it where the difference means nothing to Mistral.

    One equivalence, and only one: an assistant turn with tool calls whose content carries no text
    (``""``, ``[]``, empty text parts) is sent without ``content``, as the shim documents (Mistral's own
    history shape). Clients of every era sent ``""`` there, and Mistral reads both alike; without this, over
    a hundred recorded tool-loop requests could not be replayed. ``body`` is returned unchanged (the same
    object) when the equivalence does not apply.
    """
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return body
    messages = []
    for message in body["messages"]:
        if (
            isinstance(message, dict)
            and message.get("role") == "assistant"
            and isinstance(message.get("tool_calls"), list)
            and message["tool_calls"]
            and "content" in message
            and _no_text(message["content"])
        ):
            message = {key: value for key, value in message.items() if key != "content"}
        messages.append(message)
    if all(a is b for a, b in zip(messages, body["messages"], strict=True)):
        return body
    return {**body, "messages": messages}


# --- embeddings ----------------------------------------------------------------------------------------


def embeddings_request(body: Any) -> dict[str, Any]:
    """Keyword arguments for ``client.embeddings.create`` (the SDK's default base64 encoding)."""
    if not isinstance(body, dict):
        raise Inexpressible("the recorded body is not a JSON object")
    kwargs: dict[str, Any] = {}
    extra_body: dict[str, Any] = {}
    for key, value in body.items():
        if key == "encoding_format":
            if value not in (None, "float"):
                raise Inexpressible(f"encoding_format {value!r}: the shim always asks Mistral for float")
        elif key in EMBEDDING_EXTRA_BODY:
            extra_body[key] = value
        elif key in EMBEDDING_FIELDS:
            kwargs[EMBEDDING_FIELDS[key]] = value
        else:
            raise Inexpressible(f"{key!r} is not a Mistral embeddings field the shim forwards")
    if extra_body:
        kwargs["extra_body"] = extra_body
    return kwargs


# --- answers -----------------------------------------------------------------------------------------------

FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "model_length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}
"""Mistral's finish reasons → what an OpenAI client must read (OpenAI's enum has no ``model_length``)."""


@dataclass(frozen=True)
class Call:
    id: str | None
    name: str
    arguments: str


@dataclass
class Answer:
    """What one choice said, whichever protocol carried it."""

    text: str = ""
    reasoning: str = ""
    calls: list[Call] = field(default_factory=list)
    finish_reason: str | None = None


def _texts(content: Any) -> tuple[str, str]:
    """``(text, reasoning)`` of a Mistral content: a string, or text and thinking chunks."""
    if isinstance(content, str):
        return content, ""
    text, reasoning = [], []
    for chunk in content if isinstance(content, list) else []:
        if not isinstance(chunk, dict):
            continue
        if chunk.get("type") == "text":
            text.append(chunk.get("text") or "")
        elif chunk.get("type") == "thinking":
            inner = chunk.get("thinking")
            for part in inner if isinstance(inner, list) else [inner]:
                reasoning.append(part.get("text") or "" if isinstance(part, dict) else str(part or ""))
    return "".join(text), "".join(reasoning)


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def _mistral_finish(value: Any) -> str | None:
    return None if value is None else FINISH_REASONS.get(value, "stop")


def mistral_answers(body: Mapping[str, Any]) -> list[Answer]:
    """The content of each choice of a non-stream Mistral chat answer."""
    answers = []
    for choice in body.get("choices") or []:
        message = choice.get("message") or {}
        text, reasoning = _texts(message.get("content"))
        calls = [
            Call(
                call.get("id"),
                (call.get("function") or {}).get("name") or "",
                _arguments((call.get("function") or {}).get("arguments")),
            )
            for call in message.get("tool_calls") or []
        ]
        answers.append(Answer(text, reasoning, calls, _mistral_finish(choice.get("finish_reason"))))
    return answers


def mistral_stream_answers(events: Iterable[Any]) -> list[Answer]:
    """The content of each choice of a Mistral SSE stream, reassembled delta by delta."""
    answers: dict[int, Answer] = {}
    for event in events:
        if not isinstance(event, dict):
            continue
        for choice in event.get("choices") or []:
            answer = answers.setdefault(choice.get("index", 0), Answer())
            delta = choice.get("delta") or {}
            text, reasoning = _texts(delta.get("content"))
            answer.text += text
            answer.reasoning += reasoning
            for call in delta.get("tool_calls") or []:
                function = call.get("function") or {}
                known = [c for c in answer.calls if call.get("id") and c.id == call.get("id")]
                if known or (not call.get("id") and not function.get("name") and answer.calls):
                    last = known[0] if known else answer.calls[-1]
                    answer.calls[answer.calls.index(last)] = Call(
                        last.id, last.name, last.arguments + _arguments(function.get("arguments"))
                    )
                else:
                    answer.calls.append(
                        Call(
                            call.get("id"), function.get("name") or "", _arguments(function.get("arguments"))
                        )
                    )
            if choice.get("finish_reason") is not None:
                answer.finish_reason = _mistral_finish(choice["finish_reason"])
    return [answers[index] for index in sorted(answers)]


def openai_answers(completion: Any) -> list[Answer]:
    """The content of each choice of an openai ``ChatCompletion`` (parsed, or reassembled from a stream)."""
    answers = []
    for choice in completion.choices:
        message = choice.message
        extra = message.model_extra or {}
        calls = [Call(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]
        answers.append(
            Answer(message.content or "", extra.get("reasoning_content") or "", calls, choice.finish_reason)
        )
    return answers


def without_missing_ids(answers: list[Answer], reference: list[Answer]) -> list[Answer]:
    """``answers`` with the ids blanked where ``reference`` has none (the shim derives those)."""
    out = []
    for answer, ref in zip(answers, reference, strict=False):
        calls = [
            Call(None if r.id is None else c.id, c.name, c.arguments)
            for c, r in zip(answer.calls, ref.calls, strict=False)
        ] + answer.calls[len(ref.calls) :]
        out.append(Answer(answer.text, answer.reasoning, calls, answer.finish_reason))
    return out + answers[len(reference) :]
