"""Synthetic chat answers: computed once, then rendered as one JSON body or as a stream of chunks.

The shapes and key orders are the live API's of 2026 (real-traffic OBSERVATIONS §4, §5): top-level
``id, created, model, usage, object, choices``; a choice ``index, finish_reason, message``; a message
``role, tool_calls, content``; ``tool_calls: null`` when there are none and ``content: ""`` beside them;
usage ``prompt_tokens, total_tokens, completion_tokens, prompt_tokens_details, service_tier``.
"""

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mistral_wire import tokens
from mistral_wire.contract import messages
from mistral_wire.contract.catalogue import Family, lookup
from mistral_wire.contract.requests import ChatCompletionRequest
from mockserver.sources.synthetic import logprobs as logprobs_synth
from mockserver.sources.synthetic import prose, schema_values, seeds, tool_plan
from mockserver.sources.synthetic.prompt import prompt_tokens

PADDING_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class Choice:
    index: int
    pieces: list[str]
    finish_reason: str
    thinking: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] | None = None
    prefix: str = ""
    # One entry per text piece (the prefix first, as one piece), when the request asked for logprobs.
    logprobs: list[logprobs_synth.Entry] | None = None

    @property
    def text_pieces(self) -> list[str]:
        """The content as it is streamed: the prefix whole, then each generated piece."""
        return [self.prefix, *self.pieces] if self.prefix else list(self.pieces)

    @property
    def text(self) -> str:
        return self.prefix + "".join(self.pieces)

    @property
    def completion_tokens(self) -> int:
        calls = 0
        for call in self.tool_calls or []:
            calls += (
                2
                + len(tokens.encode(call["function"]["name"]))
                + len(tokens.encode(call["function"]["arguments"]))
            )
        return len(self.pieces) + len(self.thinking) + calls


@dataclass
class Answer:
    """Everything a chat or FIM answer says, independent of how it is sent."""

    id: str
    model: str
    choices: list[Choice]
    prompt_tokens: int
    fim: bool = False
    # The prompt's logprob entries, when the request asked for prompt_logprobs.
    prompt_logprobs: list[logprobs_synth.Entry] | None = None

    @property
    def usage(self) -> dict[str, Any]:
        completion = sum(choice.completion_tokens for choice in self.choices)
        return {
            "prompt_tokens": self.prompt_tokens,
            "total_tokens": self.prompt_tokens + completion,
            "completion_tokens": completion,
            "prompt_tokens_details": {"cached_tokens": 0},
            "service_tier": "standard",
        }


def served_model(requested: str, family: Family) -> str:
    """The model a response names: the one asked for, or its replacement once it is retired."""
    if family.deprecated_now() and family.replacement and lookup(family.replacement) is not None:
        return family.replacement
    return requested


def apply_limits(
    pieces: list[str], stop: str | list[str] | None, max_tokens: int | None
) -> tuple[list[str], str]:
    """Cut the generated pieces at the first stop sequence, then at ``max_tokens``."""
    finish = "stop"
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    stops = [s for s in stops if s]
    if stops:
        text = "".join(pieces)
        cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
        if cut >= 0:
            kept, length = [], 0
            for piece in pieces:
                if length + len(piece) >= cut:
                    if cut > length:
                        kept.append(piece[: cut - length])
                    break
                kept.append(piece)
                length += len(piece)
            pieces = kept
    if max_tokens is not None and len(pieces) > max_tokens:
        pieces, finish = pieces[:max_tokens], "length"
    return pieces, finish


def _reasons(request: ChatCompletionRequest, family: Family) -> bool:
    if request.reasoning_effort is not None and request.reasoning_effort != "none":
        return family.can("reasoning")
    return request.prompt_mode == "reasoning" and family.prompt_mode


def _text_pieces(request: ChatCompletionRequest, seed: int, family: Family) -> list[str]:
    rf = request.response_format
    context = tool_plan.last_user_text(request)
    if rf.type == "json_schema" and rf.json_schema is not None:
        value = schema_values.generate(rf.json_schema.schema_, seed, context)
        return tokens.pieces(json.dumps(value, ensure_ascii=False), family.tokenizer)
    if rf.type == "json_object":
        value = schema_values.generate(_FREE_OBJECT, seed, context)
        return tokens.pieces(json.dumps(value, ensure_ascii=False), family.tokenizer)
    # min_tokens: the answer is at least that long (stop and max_tokens still cut it afterwards).
    return prose.compose(seed, max(18 + seed % 55, request.min_tokens or 0), family.tokenizer)


_FREE_OBJECT = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number", "maximum": 1}, "topic": {}},
    "required": ["answer", "confidence"],
}


def _choice(request: ChatCompletionRequest, family: Family, seed: int, index: int) -> Choice:
    calls = tool_plan.plan(request, seed)
    if calls:
        return Choice(
            index,
            pieces=[],
            finish_reason="tool_calls",
            tool_calls=[
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                    "index": i,
                }
                for i, c in enumerate(calls)
            ],
        )
    thinking: list[str] = []
    if _reasons(request, family):
        thinking = prose.compose(seeds.derive(seed, "thinking"), 20 + seed % 41, family.tokenizer)
    budget = request.max_tokens
    if budget is not None and thinking:
        # Reasoning tokens count against max_tokens, as on the live API.
        thinking = thinking[:budget]
        budget -= len(thinking)
    pieces, finish = apply_limits(_text_pieces(request, seed, family), request.stop, budget)
    last = request.messages[-1]
    prefix = ""
    if isinstance(last, messages.AssistantMessage) and last.prefix:
        # The answer repeats the prefix and continues it (Mistral's prefix docs).
        prefix = tool_plan.text_of(last.content)
        if prefix and not prefix.endswith((" ", "\n")) and pieces:
            pieces[0] = " " + pieces[0].lstrip(" ")
    choice = Choice(index, pieces, finish, thinking=thinking, prefix=prefix)
    if request.logprobs:
        top = request.top_logprobs
        seed_of = seeds.derive(seed, "logprobs")
        given = 1 if prefix else 0
        choice.logprobs = logprobs_synth.entries(
            choice.text_pieces, seed_of, family.tokenizer, top, given=given
        )
    return choice


def _prompt_logprobs(request: ChatCompletionRequest, family: Family, seed: int) -> list[logprobs_synth.Entry]:
    """The prompt's texts, in order, cut as the model's tokenizer cuts them."""
    text = "".join(tool_plan.text_of(message.content) for message in request.messages)
    pieces = tokens.pieces(text, family.tokenizer)
    return logprobs_synth.entries(
        pieces, seeds.derive(seed, "prompt"), family.tokenizer, request.top_prompt_logprobs
    )


def answer(request: ChatCompletionRequest, family: Family, payload: Any) -> Answer:
    seed = seeds.request_seed("chat", payload)
    choices = [
        _choice(request, family, seeds.derive(seed, "choice", i) if i else seed, i)
        for i in range(request.n or 1)
    ]
    return Answer(
        id=seeds.hex_id(seed),
        model=served_model(request.model, family),
        choices=choices,
        prompt_tokens=prompt_tokens(request, family.tokenizer),
        prompt_logprobs=_prompt_logprobs(request, family, seed) if request.prompt_logprobs else None,
    )


def _message(choice: Choice, fim: bool) -> dict[str, Any]:
    content: Any = choice.text
    if choice.thinking:
        content = [
            {
                "type": "thinking",
                "thinking": [{"type": "text", "text": "".join(choice.thinking)}],
                "closed": True,
            },
            {"type": "text", "text": choice.text},
        ]
    message: dict[str, Any] = {"role": "assistant", "tool_calls": choice.tool_calls, "content": content}
    if fim:
        message["prefix"] = False
    return message


def _choice_body(choice: Choice, answer: Answer) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": choice.index,
        "finish_reason": choice.finish_reason,
        "message": _message(choice, answer.fim),
    }
    if choice.logprobs is not None:
        out["logprobs"] = logprobs_synth.block(choice.logprobs)
    if answer.prompt_logprobs is not None:
        out["prompt_logprobs"] = logprobs_synth.block(answer.prompt_logprobs)
    return out


def render(answer: Answer, created: int) -> dict[str, Any]:
    """The non-streaming body."""
    return {
        "id": answer.id,
        "created": created,
        "model": answer.model,
        "usage": answer.usage,
        "object": "chat.completion",
        "choices": [_choice_body(c, answer) for c in answer.choices],
    }


Delta = tuple[dict[str, Any], list[logprobs_synth.Entry] | None]


def _deltas(choice: Choice) -> Iterator[Delta]:
    """One choice's deltas after the role chunk, each with the logprobs of the text it carries (when asked
    for); the last one is sent with the finish reason."""
    texts = choice.text_pieces
    entries = list(choice.logprobs) if choice.logprobs is not None else None

    def carried() -> list[logprobs_synth.Entry] | None:
        return None if entries is None else [entries.pop(0)]

    for i, piece in enumerate(choice.thinking[:-1] if texts else choice.thinking):
        part: dict[str, Any] = {"type": "thinking", "thinking": [{"type": "text", "text": piece}]}
        if i:
            part["closed"] = True
        yield {"content": [part]}, None
    if choice.thinking and texts:
        last = {
            "type": "thinking",
            "thinking": [{"type": "text", "text": choice.thinking[-1]}],
            "closed": True,
        }
        yield {"content": [last, {"type": "text", "text": texts.pop(0)}]}, carried()
    for piece in texts:
        yield {"content": piece}, carried()
    if choice.tool_calls:
        yield {"tool_calls": choice.tool_calls}, None


def chunks(answer: Answer, created: int, padding: random.Random | None = None) -> list[dict[str, Any]]:
    """The stream: a role chunk per choice, token-sized deltas, then finish_reason and usage on the last."""

    def chunk(
        index: int,
        delta: dict[str, Any],
        finish: str | None,
        entries: list[logprobs_synth.Entry] | None = None,
        *,
        first: bool = False,
    ) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": finish}
        if entries is not None:
            choice["logprobs"] = logprobs_synth.block(entries)
        if first and answer.prompt_logprobs is not None:
            choice["prompt_logprobs"] = logprobs_synth.block(answer.prompt_logprobs)
        out: dict[str, Any] = {
            "id": answer.id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": answer.model,
            "choices": [choice],
        }
        if padding is not None and not first:
            out["p"] = PADDING_ALPHABET[: padding.randint(1, len(PADDING_ALPHABET))]
        return out

    events = [chunk(c.index, {"role": "assistant", "content": ""}, None, first=True) for c in answer.choices]
    empty: list[Delta] = [({"content": ""}, None)]
    streams = [(c, list(_deltas(c)) or empty) for c in answer.choices]
    for step in range(max(len(deltas) for _, deltas in streams)):
        for choice, deltas in streams:
            if step < len(deltas):
                finish = choice.finish_reason if step == len(deltas) - 1 else None
                delta, entries = deltas[step]
                events.append(chunk(choice.index, delta, finish, entries))
    last = events[-1]
    pad = last.pop("p", None)
    last["usage"] = answer.usage
    if pad is not None:
        last["p"] = pad
    return events
