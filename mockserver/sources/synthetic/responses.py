"""Synthetic answers of Mistral's native Responses API, rendered from the chat generator's answer.

The request is read as the chat request it amounts to (``mistral_wire.contract.responses_chat``), the chat
generator answers that, and the answer is rendered in the shapes of mistralai 3.7.0's
``CreateResponseResponse`` and stream events: a ``reasoning`` item first when the model thought
(``summary: []``, its text as one ``reasoning_text`` part), then a ``message`` item with one
``output_text`` part (``annotations: []``, ``logprobs: []``: the endpoint has ``top_logprobs`` 0 only), or
one ``function_call`` item per call (Mistral's nine-character ``call_id``). A cut by ``max_output_tokens``
is ``status: "incomplete"`` with ``incomplete_details.reason: "max_output_tokens"``. So the same
conversation gets the same text on ``/v1/chat/completions`` and ``/v1/responses``.

Ids: Mistral's SDK says nothing of their form, so OpenAI's prefixes are used (``resp_``, ``msg_``,
``fc_``, ``rs_``) on 32 hex characters derived from the request, deterministic like every synthetic id.

A stream is the 16 event types the SDK knows and no others: ``response.created``, ``response.in_progress``,
per item ``output_item.added``, its content events, ``output_item.done``, then ``response.completed`` (or
``response.incomplete``), every one with ``sequence_number`` from 0 and named by an ``event:`` line; no
``[DONE]`` (the SDK would fail on it).
"""

import dataclasses
import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mistral_wire.contract.catalogue import Family
from mistral_wire.contract.responses import CountResponseInputTokensRequest, CreateResponseRequest
from mistral_wire.contract.responses_chat import as_chat, chat_payload, functions
from mockserver.sources.synthetic import chat as chat_synth
from mockserver.sources.synthetic import seeds
from mockserver.sources.synthetic.prompt import prompt_tokens

Item = dict[str, Any]
Event = tuple[str, dict[str, Any]]
# Fields of the request that decide how an answer is sent, not what it says (``seeds`` leaves out chat's).
_DELIVERY = frozenset({"stream", "max_output_tokens"})


@dataclass(frozen=True)
class Reply:
    """A Responses answer: the chat answer, and what the response echoes of the request."""

    id: str
    answer: chat_synth.Answer
    echo: dict[str, Any]
    # The namespace of each function offered inside one (its calls name it).
    namespaces: dict[str, str]

    @property
    def choice(self) -> chat_synth.Choice:
        return self.answer.choices[0]

    @property
    def status(self) -> str:
        return "incomplete" if self.choice.finish_reason == "length" else "completed"

    @property
    def usage(self) -> dict[str, Any]:
        usage = self.answer.usage
        return {
            "input_tokens": usage["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": len(self.choice.thinking)},
            "total_tokens": usage["total_tokens"],
        }


def _hex(*salt: object) -> str:
    return hashlib.sha256(repr(salt).encode()).hexdigest()[:32]


def _echo(request: CreateResponseRequest, family: Family, payload: dict[str, Any]) -> dict[str, Any]:
    """The request's settings as the response states them (defaults where the request left them out)."""
    text = payload.get("text") if isinstance(payload.get("text"), dict) else {}
    assert isinstance(text, dict)
    echoed_text: dict[str, Any] = {"format": text.get("format") or {"type": "text"}}
    if text.get("verbosity") is not None:
        echoed_text["verbosity"] = text["verbosity"]
    effort = request.reasoning.effort if request.reasoning is not None else None
    return {
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "max_tool_calls": request.max_tool_calls,
        "parallel_tool_calls": request.parallel_tool_calls,
        "prompt_cache_key": request.prompt_cache_key,
        "reasoning": {"effort": effort},
        "temperature": request.temperature if request.temperature is not None else family.temperature,
        "text": echoed_text,
        "tool_choice": payload.get("tool_choice", "auto"),
        "tools": payload.get("tools") or [],
        "top_p": request.top_p if request.top_p is not None else 1.0,
        "metadata": request.metadata or {},
    }


def reply(request: CreateResponseRequest, family: Family, payload: Any) -> Reply:
    """The whole answer, computed once (``created`` is added when it is sent)."""
    chat = as_chat(request)
    seed_material = chat_payload(request)
    # Sampling fields count in the seed, as they do on chat (they are left out of the chat view itself).
    for name in ("temperature", "top_p"):
        if getattr(request, name) is not None:
            seed_material[name] = getattr(request, name)
    answer = chat_synth.answer(chat, family, seed_material)
    choice = answer.choices[0]
    if request.max_tool_calls is not None and choice.tool_calls:
        capped = dataclasses.replace(choice, tool_calls=choice.tool_calls[: request.max_tool_calls])
        answer = dataclasses.replace(answer, choices=[capped])
    delivered = (
        {k: v for k, v in payload.items() if k not in _DELIVERY} if isinstance(payload, dict) else payload
    )
    seed = seeds.request_seed("responses", delivered)
    namespaces = {tool.name: namespace for namespace, tool in functions(request) if namespace is not None}
    return Reply(
        id=f"resp_{seeds.hex_id(seed)}",
        answer=answer,
        echo=_echo(request, family, payload if isinstance(payload, dict) else {}),
        namespaces=namespaces,
    )


# --- items --------------------------------------------------------------------------------------------------


def _reasoning(reply: Reply, status: str) -> Item:
    text = "".join(reply.choice.thinking)
    return {
        "id": f"rs_{_hex(reply.id, 'reasoning')}",
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": text}],
        "status": status,
    }


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message(reply: Reply, status: str) -> Item:
    return {
        "id": f"msg_{_hex(reply.id, 'message')}",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [_output_text(reply.choice.text)],
    }


def _function_call(reply: Reply, index: int, call: dict[str, Any]) -> Item:
    name = call["function"]["name"]
    item: Item = {
        "id": f"fc_{_hex(reply.id, 'call', index)}",
        "type": "function_call",
        "status": "completed",
        "call_id": call["id"],
        "name": name,
        "arguments": call["function"]["arguments"],
    }
    if name in reply.namespaces:
        item["namespace"] = reply.namespaces[name]
    return item


def items(reply: Reply) -> list[Item]:
    """The output: reasoning first, then the message (unless the model only called tools), then the calls."""
    choice = reply.choice
    final = "incomplete" if reply.status == "incomplete" else "completed"
    found: list[Item] = []
    if choice.thinking:
        found.append(_reasoning(reply, final))
    if choice.text or not choice.tool_calls:
        found.append(_message(reply, final))
    found.extend(_function_call(reply, i, call) for i, call in enumerate(choice.tool_calls or []))
    return found


def _response(reply: Reply, created: int, status: str, output: list[Item], usage: Any) -> dict[str, Any]:
    echo = reply.echo
    return {
        "id": reply.id,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": False,
        "completed_at": created if status == "completed" else None,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": echo["instructions"],
        "max_output_tokens": echo["max_output_tokens"],
        "max_tool_calls": echo["max_tool_calls"],
        "model": reply.answer.model,
        "output": output,
        "parallel_tool_calls": echo["parallel_tool_calls"],
        "previous_response_id": None,
        "prompt_cache_key": echo["prompt_cache_key"],
        "reasoning": echo["reasoning"],
        "temperature": echo["temperature"],
        "text": echo["text"],
        "tool_choice": echo["tool_choice"],
        "tools": echo["tools"],
        "top_logprobs": 0,
        "top_p": echo["top_p"],
        "truncation": "disabled",
        "usage": usage,
        "metadata": echo["metadata"],
    }


def render(reply: Reply, created: int) -> dict[str, Any]:
    """The non-streaming body."""
    return _response(reply, created, reply.status, items(reply), reply.usage)


# --- the stream ---------------------------------------------------------------------------------------------


def _opened(item: Item) -> Item:
    """An item as ``output_item.added`` announces it: in progress, with nothing in it yet."""
    opened = {**item, "status": "in_progress"}
    if item["type"] == "function_call":
        opened["arguments"] = ""
    else:
        opened["content"] = []
    return opened


def _content_events(reply: Reply, item: Item, index: int) -> Iterator[Event]:
    """What fills one item between its ``added`` and ``done`` events."""
    where = {"item_id": item["id"], "output_index": index}
    if item["type"] == "function_call":
        arguments = item["arguments"]
        # Mistral sends a tool call whole, in one chunk: its arguments are one delta here.
        yield "response.function_call_arguments.delta", {**where, "delta": arguments}
        yield "response.function_call_arguments.done", {**where, "name": item["name"], "arguments": arguments}
        return
    part = {**where, "content_index": 0}
    if item["type"] == "reasoning":
        text = item["content"][0]["text"]
        yield "response.content_part.added", {**part, "part": {"type": "reasoning_text", "text": ""}}
        for piece in reply.choice.thinking:
            yield "response.reasoning_text.delta", {**part, "delta": piece}
        yield "response.reasoning_text.done", {**part, "text": text}
        yield "response.content_part.done", {**part, "part": item["content"][0]}
        return
    text = item["content"][0]["text"]
    yield "response.content_part.added", {**part, "part": _output_text("")}
    for piece in reply.choice.text_pieces:
        yield "response.output_text.delta", {**part, "delta": piece, "logprobs": []}
    yield "response.output_text.done", {**part, "text": text, "logprobs": []}
    yield "response.content_part.done", {**part, "part": item["content"][0]}


def events(reply: Reply, created: int) -> list[Event]:
    """Every event of the stream, in order, as ``(type, data)`` with ``sequence_number`` from 0."""
    output = items(reply)
    started = _response(reply, created, "in_progress", [], None)
    final = "response.incomplete" if reply.status == "incomplete" else "response.completed"

    def body() -> Iterator[tuple[str, dict[str, Any]]]:
        yield "response.created", {"response": started}
        yield "response.in_progress", {"response": started}
        for index, item in enumerate(output):
            yield "response.output_item.added", {"output_index": index, "item": _opened(item)}
            yield from _content_events(reply, item, index)
            yield "response.output_item.done", {"output_index": index, "item": item}
        yield final, {"response": render(reply, created)}

    numbers = itertools.count()
    return [(name, {"type": name, "sequence_number": next(numbers), **data}) for name, data in body()]


# --- input tokens -------------------------------------------------------------------------------------------


def input_tokens(request: CountResponseInputTokensRequest, family: Family) -> dict[str, Any]:
    """What ``/v1/responses/input_tokens`` answers: the prompt as ``/v1/responses`` would count it."""
    return {
        "object": "response.input_tokens",
        "input_tokens": prompt_tokens(as_chat(request), family.tokenizer),
    }
