"""Mistral's SSE chat chunks → OpenAI's ``chat.completion.chunk`` events, one chunk at a time.

Streams are never buffered: each Mistral chunk is translated and handed back at once. The only state kept
is what later chunks depend on: whether a choice has sent its role yet, which tool call each id (or
upstream index) belongs to, and the usage Mistral attaches to its last chunk.

Why the tool-call bookkeeping: the openai SDK's accumulator does ``tool_calls[delta.index]``, and Mistral's
older streams have no ``index`` (``TypeError: list indices must be integers ...``, catalogue 31), its SDK
defaults a missing one to 0 (merging parallel calls), and GLM models relayed by Mistral fragment arguments
and send the id only on the first fragment. So indexes are assigned here, 0..n per choice, by tool-call id
in order of first appearance; a fragment without an id continues the call it belongs to.

Usage: OpenAI sends it only with ``stream_options.include_usage``, as a final ``choices: []`` chunk;
Mistral always attaches it to its last content chunk (catalogue 35). It is removed there and re-sent by
``finish()`` when the client asked for it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shim.translate.chat.answer import (
    MISTRAL_ONLY_MESSAGE_KEYS,
    arguments_text,
    fallback_call_id,
    finish_reason,
    logprobs,
    order_usage,
    split_content,
)
from shim.translate.context import ChatContext
from shim.translate.problem import OpenAIError, server_error

CHUNK = "chat.completion.chunk"
# Top-level keys of a Mistral chunk that are rebuilt or removed: ``p`` is padding, ``usage`` moves.
_HANDLED_CHUNK_KEYS = frozenset({"id", "object", "created", "model", "choices", "usage", "p"})
_HANDLED_CHOICE_KEYS = frozenset({"index", "delta", "logprobs", "finish_reason"})
_HANDLED_DELTA_KEYS = frozenset({"role", "content", "tool_calls", *MISTRAL_ONLY_MESSAGE_KEYS})


@dataclass
class _Choice:
    """What one choice of the stream has said so far."""

    started: bool = False
    said: bool = False  # some text or a tool call was sent (an empty answer still ends with content "")
    calls: int = 0
    by_id: dict[str, int] = field(default_factory=dict)
    by_upstream_index: dict[int, int] = field(default_factory=dict)
    last: int | None = None

    def place(self, call: Mapping[str, Any]) -> tuple[int, bool]:
        """``(index, is_first_fragment)`` of a tool-call delta.

        An id seen before, or else an upstream index seen before, continues that call; a fragment with
        neither an id nor a name continues the last call; anything else starts a new one.
        """
        call_id = call.get("id") or None
        upstream = call.get("index") if isinstance(call.get("index"), int) else None
        function = call.get("function") or {}
        if call_id is not None and call_id in self.by_id:
            index, first = self.by_id[call_id], False
        elif call_id is None and upstream is not None and upstream in self.by_upstream_index:
            index, first = self.by_upstream_index[upstream], False
        elif call_id is None and not function.get("name") and self.last is not None:
            index, first = self.last, False
        else:
            index, first = self.calls, True
            self.calls += 1
            if call_id is not None:
                self.by_id[call_id] = index
        if upstream is not None:
            self.by_upstream_index[upstream] = index
        self.last = index
        return index, first


class StreamTranslator:
    """Translates one Mistral chat stream for one OpenAI client request."""

    def __init__(self, context: ChatContext) -> None:
        self.context = context
        self._choices: dict[int, _Choice] = {}
        self._usage: dict[str, Any] | None = None
        self._header: dict[str, Any] | None = None

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The OpenAI chunks for one Mistral chunk (none for a chunk that only carries usage).

        Raises ``OpenAIError`` (502) when a choice finishes with ``error`` or Mistral sends an error object
        inside the stream; the caller then sends ``error_event`` and closes.
        """
        if event.get("object") == "error" or event.get("error"):
            raise _stream_error(event)
        header = {
            "id": event.get("id"),
            "object": CHUNK,
            "created": event.get("created"),
            "model": event.get("model"),
        }
        self._header = header
        if isinstance(event.get("usage"), dict):
            self._usage = dict(event["usage"])
        choices = [self._choice(choice, event) for choice in event.get("choices") or []]
        if not choices:
            return []
        endings = _split_endings(choices)
        out: dict[str, Any] = {**header, "choices": choices}
        out.update(
            (key, value)
            for key, value in event.items()
            if key not in _HANDLED_CHUNK_KEYS and value is not None
        )
        return [out, {**header, "choices": endings}] if endings else [out]

    def finish(self) -> list[dict[str, Any]]:
        """What follows Mistral's ``[DONE]``: OpenAI's usage chunk, only when the client asked for it."""
        if not self.context.include_usage or self._usage is None or self._header is None:
            return []
        return [{**self._header, "choices": [], "usage": order_usage(self._usage)}]

    def _choice(self, choice: Mapping[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
        index = choice.get("index", 0)
        state = self._choices.setdefault(index, _Choice())
        reason = finish_reason(choice.get("finish_reason"), self.context, event.get("model"))
        delta = self._delta(choice.get("delta") or {}, state, event.get("id"), index)
        if reason is not None and not state.said:
            delta.setdefault("content", "")  # an empty answer: the non-stream translation says "" too
        out: dict[str, Any] = {
            "index": index,
            "delta": delta,
            "logprobs": logprobs(choice.get("logprobs")),
            "finish_reason": reason,
        }
        out.update(
            (key, value)
            for key, value in choice.items()
            if key not in _HANDLED_CHOICE_KEYS and value is not None
        )
        return out

    def _delta(
        self, delta: Mapping[str, Any], state: _Choice, completion_id: Any, choice: int
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not state.started:
            # OpenAI names the role once, on the first chunk of each choice (Mistral's 2024 streams repeated
            # ``"role": null`` on every chunk, which OpenAI's schema rejects).
            out["role"] = delta.get("role") or "assistant"
            state.started = True
        content = delta.get("content")
        reasoning = None
        if isinstance(content, list):
            content, reasoning = split_content(content)
        # Empty text carries nothing, and sent early it would make the SDK's accumulated message say
        # content "" where the non-stream answer has null beside tool calls (catalogue 33). Mistral opens
        # every stream with ``content: ""`` before it knows whether text or tool calls follow.
        if isinstance(content, str) and content:
            out["content"] = content
            state.said = True
        if reasoning is not None:
            out["reasoning_content"] = reasoning
        calls = [call for call in delta.get("tool_calls") or [] if isinstance(call, dict)]
        if calls:
            state.said = True
            fragments = [self._tool_call(call, state, completion_id, choice) for call in calls]
            if self.context.legacy_functions:
                legacy = _function_call(fragments)
                if legacy is not None:
                    out["function_call"] = legacy
            else:
                out["tool_calls"] = fragments
        out.update(
            (key, value)
            for key, value in delta.items()
            if key not in _HANDLED_DELTA_KEYS and value is not None
        )
        return out

    @staticmethod
    def _tool_call(
        call: Mapping[str, Any], state: _Choice, completion_id: Any, choice: int
    ) -> dict[str, Any]:
        index, first = state.place(call)
        function = call.get("function") or {}
        arguments = arguments_text(function.get("arguments"))
        if not first:
            return {"index": index, "type": "function", "function": {"arguments": arguments}}
        return {
            "index": index,
            "id": call.get("id") or fallback_call_id(completion_id, choice, index),
            "type": "function",
            "function": {"name": function.get("name") or "", "arguments": arguments},
        }


def _split_endings(choices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Move each finish_reason that shares a chunk with text or tool calls to a chunk of its own.

    Mistral ends a choice on the chunk that carries its last delta; OpenAI ends it with an empty delta
    after it, and the SDK's stream helper relies on that: it announces a tool call's arguments as done
    only when a later chunk says the choice finished, so the last call of a Mistral-framed stream was
    never announced. Returns the ending choices; ``choices`` keep their delta with no finish_reason.
    """
    endings = []
    for choice in choices:
        if choice["finish_reason"] is not None and choice["delta"]:
            endings.append(
                {
                    "index": choice["index"],
                    "delta": {},
                    "logprobs": None,
                    "finish_reason": choice["finish_reason"],
                }
            )
            choice["finish_reason"] = None
    return endings


def _function_call(fragments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Legacy ``delta.function_call`` from the first call's fragments; other calls have no place there."""
    name: str | None = None
    arguments: list[str] = []
    for fragment in fragments:
        if fragment["index"] != 0:
            continue
        name = fragment["function"].get("name", name)
        arguments.append(fragment["function"]["arguments"])
    if name is None and not arguments:
        return None
    out: dict[str, Any] = {} if name is None else {"name": name}
    out["arguments"] = "".join(arguments)
    return out


def _stream_error(event: Mapping[str, Any]) -> OpenAIError:
    """An error object Mistral sent as a stream event (not observed yet; shape as its error envelope)."""
    error = event.get("error")
    inner: Mapping[str, Any] = error if isinstance(error, dict) else event
    message = inner.get("message")
    text = message if isinstance(message, str) and message else "Mistral reported an error inside the stream."
    return server_error(502, text, "upstream_stream_error")
