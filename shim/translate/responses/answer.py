"""Mistral's chat answer → OpenAI's ``Response``, through chat's own answer translation.

Chat's translation (``shim.translate.chat.answer``) already makes every decision about Mistral's answer
(finish reasons, thinking split from text, missing tool-call ids, usage, a failed generation raised as a
502). This module only rearranges OpenAI's chat answer into Responses output items, in the order a model
produces them: its reasoning, then its message, then its function calls. A message item is there when the
model said something, or when it called nothing (an empty answer is an empty message, not no output).

Function-call ids: ``call_id`` is Mistral's own tool-call id (nine alphanumerics), so when a client sends it
back in a ``function_call_output`` chat's id rules find it already in Mistral's shape. Ids a client made up
(``call_abc`` from an OpenAI history) are mapped by chat's translation to stable nine-character images, the
same on every turn.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from shim.translate.chat.answer import translate_chat_response
from shim.translate.context import ChatContext
from shim.translate.responses import ids, objects
from shim.translate.responses.objects import ResponseContext

CHAT = ChatContext()


def output_items(
    context: ResponseContext,
    *,
    reasoning: str | None,
    text: str | None,
    calls: Sequence[Mapping[str, Any]],
    logprobs: Sequence[Mapping[str, Any]],
    status: str,
) -> list[dict[str, Any]]:
    """The output items of an answer; the last one carries the response's status when it was cut short."""
    kept = list(calls)[: context.max_tool_calls] if context.max_tool_calls is not None else list(calls)
    plan: list[tuple[str, Any]] = []
    if reasoning is not None:
        plan.append(("reasoning", reasoning))
    if text or not kept:
        plan.append(("message", text or ""))
    plan.extend(("function_call", call) for call in kept)
    items = []
    for index, (kind, value) in enumerate(plan):
        item_status = status if index == len(plan) - 1 and status == "incomplete" else "completed"
        item_id = ids.item_id(kind, context.response_id, "output", index)
        if kind == "reasoning":
            items.append(objects.reasoning_item(item_id, item_status, value))
        elif kind == "message":
            part = objects.output_text(value, logprobs if context.logprobs else ())
            items.append(objects.message_item(item_id, item_status, [part]))
        else:
            function = value.get("function") or {}
            items.append(
                objects.function_call_item(
                    item_id,
                    item_status,
                    value.get("id") or "",
                    function.get("name") or "",
                    function.get("arguments") or "",
                )
            )
    return items


def translate_answer(
    mistral: Mapping[str, Any], context: ResponseContext, completed_at: int
) -> dict[str, Any]:
    """The Response of Mistral's non-stream chat answer; raises ``OpenAIError`` as chat's translation does."""
    completion = translate_chat_response(mistral, CHAT)
    choices = completion.get("choices") or [{}]
    choice = choices[0]
    message = choice.get("message") or {}
    status, reason = objects.status_of(choice.get("finish_reason"))
    text = message.get("content")
    items = output_items(
        context,
        reasoning=message.get("reasoning_content"),
        text=text if isinstance(text, str) else None,
        calls=[call for call in message.get("tool_calls") or [] if isinstance(call, Mapping)],
        logprobs=objects.log_probs(choice.get("logprobs")),
        status=status,
    )
    return objects.response(
        context,
        status,
        items,
        usage=objects.usage(completion.get("usage")),
        model=completion.get("model"),
        incomplete_reason=reason,
        completed_at=completed_at if status == "completed" else None,
    )
