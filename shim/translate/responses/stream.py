"""Mistral's chat stream → the Responses API's event stream, one upstream chunk at a time.

Each Mistral chunk goes through chat's stream translation first (``shim.translate.chat.stream``: thinking
split from text, tool-call fragments placed by id, a failed generation raised), and the OpenAI chat deltas
that come out drive the items here. Nothing is buffered: every delta becomes its events at once.

The sequence is OpenAI's (``response.created``, ``response.in_progress``, then per item
``output_item.added``, its parts and deltas, ``output_item.done``, and ``response.completed``), with what
the openai SDK's stream helper checks held to: one response id throughout, ``sequence_number`` from 0 up by
one, every content event after its item's ``output_item.added``, ``content_part.added`` before the first
``output_text.delta``, every item done before the response is, and the full output in
``response.completed`` (the helper and the Agents SDK take the final output from there). An answer cut by
its token limit ends with ``response.incomplete``; a stream that fails once started ends with an ``error``
event and ``response.failed`` (a failure before it started is a plain HTTP error, sent by the pipeline).

Items are made exactly as the JSON answer makes them (``answer.output_items``): reasoning, then the message,
then the function calls, with the same derived ids, so a client switching ``stream`` on and off gets the
same output. ``replay`` turns a stored Response back into the events of a stream (``GET
/v1/responses/{id}?stream=true``).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shim.translate.chat.stream import StreamTranslator as ChatStream
from shim.translate.context import ChatContext
from shim.translate.problem import OpenAIError
from shim.translate.responses import ids, objects
from shim.translate.responses.objects import ResponseContext

CHAT = ChatContext(include_usage=True)  # the usage comes with the chat stream's last chunk


@dataclass
class _Item:
    """One output item as it grows: its kind, place, id, text (or arguments) so far."""

    kind: str
    index: int
    id: str
    text: list[str] = field(default_factory=list)
    call_id: str = ""
    name: str = ""
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False

    def final(self, status: str) -> dict[str, Any]:
        joined = "".join(self.text)
        if self.kind == "message":
            return objects.message_item(self.id, status, [objects.output_text(joined, self.logprobs)])
        if self.kind == "reasoning":
            return objects.reasoning_item(self.id, status, joined)
        return objects.function_call_item(self.id, status, self.call_id, self.name, joined)

    def opening(self) -> dict[str, Any]:
        """The item as ``output_item.added`` shows it: in progress, with nothing said yet."""
        if self.kind == "message":
            return objects.message_item(self.id, "in_progress", [])
        if self.kind == "reasoning":
            return objects.reasoning_item(self.id, "in_progress", None)
        return objects.function_call_item(self.id, "in_progress", self.call_id, self.name, "")


class Events:
    """Numbers events: ``sequence_number`` from 0, one up per event, across the whole stream."""

    def __init__(self) -> None:
        self.next = 0

    def __call__(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"type": kind, "sequence_number": self.next, **fields}
        self.next += 1
        return event


def _part_added(event: Events, item: _Item) -> dict[str, Any]:
    """The event that opens a message's or a reasoning item's one content part."""
    where = {"item_id": item.id, "output_index": item.index, "content_index": 0}
    part = objects.output_text("", ()) if item.kind == "message" else {"type": "reasoning_text", "text": ""}
    return event("response.content_part.added", **where, part=part)


def _delta_event(
    event: Events, item: _Item, delta: str, logprobs: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    if item.kind == "message":
        where = {"item_id": item.id, "output_index": item.index, "content_index": 0}
        return event(
            "response.output_text.delta", **where, delta=delta, logprobs=objects.delta_log_probs(logprobs)
        )
    if item.kind == "reasoning":
        where = {"item_id": item.id, "output_index": item.index, "content_index": 0}
        return event("response.reasoning_text.delta", **where, delta=delta)
    return event(
        "response.function_call_arguments.delta", item_id=item.id, output_index=item.index, delta=delta
    )


def _closing_events(event: Events, item: _Item, status: str) -> list[dict[str, Any]]:
    """What ends an item: its text (or arguments) done, its part done, the item done with ``status``."""
    final = item.final(status)
    text = "".join(item.text)
    out = []
    if item.kind == "message":
        where = {"item_id": item.id, "output_index": item.index, "content_index": 0}
        part = final["content"][0]
        out.append(event("response.output_text.done", **where, text=text, logprobs=part["logprobs"]))
        out.append(event("response.content_part.done", **where, part=part))
    elif item.kind == "reasoning":
        where = {"item_id": item.id, "output_index": item.index, "content_index": 0}
        out.append(event("response.reasoning_text.done", **where, text=text))
        out.append(
            event("response.content_part.done", **where, part={"type": "reasoning_text", "text": text})
        )
    else:
        out.append(
            event(
                "response.function_call_arguments.done",
                item_id=item.id,
                output_index=item.index,
                name=item.name,
                arguments=text,
            )
        )
    out.append(event("response.output_item.done", output_index=item.index, item=final))
    item.done = True
    return out


class ResponsesStream:
    """Translates one Mistral chat stream for one Responses client request (see the module docstring)."""

    def __init__(self, context: ResponseContext, clock: Callable[[], float] | None = None) -> None:
        self.context = context
        self._clock = clock
        self._chat = ChatStream(CHAT)
        self._event = Events()
        self._items: list[_Item] = []
        self._text: _Item | None = None
        self._reasoning: _Item | None = None
        self._calls: dict[int, _Item] = {}
        self._skipped: set[int] = set()  # calls past max_tool_calls
        self._finish: Any = None
        self._model: Any = None
        self._usage: Any = None
        self._started = False
        self.final: dict[str, Any] | None = None
        """The Response as ``response.completed`` (or ``.incomplete``) carries it, once the stream is done."""

    # --- the StreamTranslation protocol -------------------------------------------------------------------

    def start(self) -> list[dict[str, Any]]:
        """``response.created`` and ``response.in_progress``, sent before Mistral's first chunk arrives."""
        if self._started:
            return []
        self._started = True
        opening = objects.response(self.context, "in_progress")
        return [
            self._event("response.created", response=opening),
            self._event("response.in_progress", response=opening),
        ]

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        out = self.start()
        for chunk in self._chat.feed(event):
            out.extend(self._chunk(chunk))
        return out

    def finish(self) -> list[dict[str, Any]]:
        out = self.start()
        for chunk in self._chat.finish():
            out.extend(self._chunk(chunk))
        status, reason = objects.status_of(self._finish)
        if not any(item.kind in ("message", "function_call") for item in self._items):
            out.extend(self._open("message"))  # nothing said and nothing called: an empty message, as in JSON
        open_items = [item for item in self._items if not item.done]
        for item in open_items:
            last = item is self._items[-1]
            out.extend(
                _closing_events(self._event, item, status if last and status == "incomplete" else "completed")
            )
        completed_at = int(self._clock()) if self._clock is not None and status == "completed" else None
        self.final = objects.response(
            self.context,
            status,
            [item.final(self._status_of(item, status)) for item in self._items],
            usage=objects.usage(self._usage),
            model=self._model,
            incomplete_reason=reason,
            completed_at=completed_at,
        )
        kind = "response.completed" if status == "completed" else "response.incomplete"
        out.append(self._event(kind, response=self.final))
        return out

    def fail(self, error: OpenAIError) -> list[dict[str, Any]]:
        """An ``error`` event and ``response.failed``, the items so far in its output, left as they were."""
        out = self.start()
        out.append(
            self._event("error", code=error.code or error.type, message=error.message, param=error.param)
        )
        failed = objects.response(
            self.context,
            "failed",
            [item.final("completed" if item.done else "incomplete") for item in self._items],
            model=self._model,
            error={"code": "server_error", "message": error.message},
        )
        out.append(self._event("response.failed", response=failed))
        return out

    # --- chat deltas → items ------------------------------------------------------------------------------

    def _status_of(self, item: _Item, status: str) -> str:
        return status if status == "incomplete" and item is self._items[-1] else "completed"

    def _chunk(self, chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
        self._model = chunk.get("model") or self._model
        if isinstance(chunk.get("usage"), Mapping):
            self._usage = chunk["usage"]
        out: list[dict[str, Any]] = []
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue  # the Responses API has one answer; other choices (n > 1) have no place
            delta = choice.get("delta") or {}
            thinking = delta.get("reasoning_content")
            if isinstance(thinking, str) and thinking:
                out.extend(self._say("reasoning", thinking, ()))
            text = delta.get("content")
            if isinstance(text, str) and text:
                logprobs = objects.log_probs(choice.get("logprobs")) if self.context.logprobs else []
                out.extend(self._say("message", text, logprobs))
            for call in delta.get("tool_calls") or []:
                if isinstance(call, Mapping):
                    out.extend(self._call(call))
            if choice.get("finish_reason") is not None:
                self._finish = choice["finish_reason"]
        return out

    def _open(self, kind: str, call_id: str = "", name: str = "") -> list[dict[str, Any]]:
        """A new item at the next output index; the text and reasoning items before it are done."""
        out = []
        for current in (self._text, self._reasoning):
            if current is not None and not current.done:
                out.extend(_closing_events(self._event, current, "completed"))
        index = len(self._items)
        item = _Item(
            kind,
            index,
            ids.item_id(kind, self.context.response_id, "output", index),
            call_id=call_id,
            name=name,
        )
        self._items.append(item)
        if kind == "message":
            self._text = item
        elif kind == "reasoning":
            self._reasoning = item
        out.append(self._event("response.output_item.added", output_index=index, item=item.opening()))
        if kind != "function_call":
            out.append(_part_added(self._event, item))
        return out

    def _say(self, kind: str, text: str, logprobs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        current = self._text if kind == "message" else self._reasoning
        out = []
        if current is None or current.done:
            out.extend(self._open(kind))
            current = self._items[-1]
        current.text.append(text)
        current.logprobs.extend(dict(entry) for entry in logprobs)
        out.append(_delta_event(self._event, current, text, logprobs))
        return out

    def _call(self, fragment: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A tool-call fragment from chat's stream (``index`` 0.. per answer; id and name on the first)."""
        index = fragment.get("index", 0)
        function = fragment.get("function") or {}
        arguments = function.get("arguments") or ""
        if index in self._skipped:
            return []
        out: list[dict[str, Any]] = []
        item = self._calls.get(index)
        if item is None:
            cap = self.context.max_tool_calls
            if cap is not None and len(self._calls) >= cap:
                self._skipped.add(index)
                return []
            out.extend(self._open("function_call", fragment.get("id") or "", function.get("name") or ""))
            item = self._items[-1]
            self._calls[index] = item
        if arguments and not item.done:
            item.text.append(arguments)
            out.append(_delta_event(self._event, item, arguments, ()))
        return out


def replay(stored: Mapping[str, Any], starting_after: int | None = None) -> list[dict[str, Any]]:
    """The events of a stream that would have produced the stored Response ``stored``: each item whole, in
    one delta. Events numbered ``starting_after`` or lower are left out, as OpenAI's replay does."""
    event = Events()
    opening = {**stored, "status": "in_progress", "output": [], "completed_at": None}
    opening.pop("usage", None)
    out = [event("response.created", response=opening), event("response.in_progress", response=opening)]
    for index, item in enumerate(stored.get("output") or []):
        out.extend(_replayed_item(event, index, item))
    terminal = {
        "completed": "response.completed",
        "incomplete": "response.incomplete",
        "failed": "response.failed",
    }
    out.append(event(terminal.get(str(stored.get("status")), "response.completed"), response=dict(stored)))
    return [e for e in out if starting_after is None or e["sequence_number"] > starting_after]


def _replayed_item(event: Events, index: int, item: Mapping[str, Any]) -> list[dict[str, Any]]:
    kind = str(item.get("type"))
    opening: dict[str, Any] = {**item, "status": "in_progress"}
    where = {"item_id": item.get("id"), "output_index": index, "content_index": 0}
    out = []
    if kind == "message":
        opening["content"] = []
        out.append(event("response.output_item.added", output_index=index, item=opening))
        for number, part in enumerate(item.get("content") or []):
            where["content_index"] = number
            if not isinstance(part, Mapping) or part.get("type") != "output_text":
                continue
            text = str(part.get("text") or "")
            out.append(event("response.content_part.added", **where, part=objects.output_text("", ())))
            out.append(event("response.output_text.delta", **where, delta=text, logprobs=[]))
            out.append(
                event("response.output_text.done", **where, text=text, logprobs=part.get("logprobs") or [])
            )
            out.append(event("response.content_part.done", **where, part=dict(part)))
    elif kind == "reasoning":
        opening["content"] = []
        out.append(event("response.output_item.added", output_index=index, item=opening))
        for number, part in enumerate(item.get("content") or []):
            where["content_index"] = number
            text = str(part.get("text") or "") if isinstance(part, Mapping) else ""
            out.append(
                event("response.content_part.added", **where, part={"type": "reasoning_text", "text": ""})
            )
            out.append(event("response.reasoning_text.delta", **where, delta=text))
            out.append(event("response.reasoning_text.done", **where, text=text))
            out.append(
                event("response.content_part.done", **where, part={"type": "reasoning_text", "text": text})
            )
    else:
        opening["arguments"] = ""
        arguments = str(item.get("arguments") or "")
        call = {"item_id": item.get("id"), "output_index": index}
        out.append(event("response.output_item.added", output_index=index, item=opening))
        out.append(event("response.function_call_arguments.delta", **call, delta=arguments))
        out.append(
            event("response.function_call_arguments.done", **call, name=item.get("name"), arguments=arguments)
        )
    out.append(event("response.output_item.done", output_index=index, item=dict(item)))
    return out
