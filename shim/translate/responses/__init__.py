"""OpenAI's Responses API on Mistral's chat completions: the request table (``request``), input items into
chat messages (``items``), the answer (``answer``) and the stream's state machine (``stream``), the Response
object they share (``objects``), and token counts for ``truncation`` and ``input_tokens`` (``count``).

Everything here is pure. The store behind ``previous_response_id``, ``item_reference`` and the retrieval
routes is the app's (``shim.responses``): it looks up what a request needs, hands it to ``translate_request``
as plain items, and writes what ``Outcome`` holds once the answer is complete.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shim.translate.context import Options
from shim.translate.plan import EVENT_FRAMING, Plan, StreamTranslation
from shim.translate.responses import ids
from shim.translate.responses.answer import translate_answer
from shim.translate.responses.request import PATH, ResponsesRequest, translate_request
from shim.translate.responses.stream import ResponsesStream


class Outcome:
    """Where a plan leaves the final Response: from the JSON answer, or from the stream once it ended."""

    def __init__(self) -> None:
        self._answer: dict[str, Any] | None = None
        self._stream: ResponsesStream | None = None

    @property
    def response(self) -> dict[str, Any] | None:
        if self._answer is not None:
            return self._answer
        return self._stream.final if self._stream is not None else None


def planned(translated: ResponsesRequest, clock: Callable[[], float] = time.time) -> tuple[Plan, Outcome]:
    """The pipeline's plan for a translated request, and the outcome it fills in."""
    outcome = Outcome()
    context = translated.context

    def answer(answers: Sequence[Any]) -> Any:
        outcome._answer = translate_answer(answers[0], context, int(clock()))
        return outcome._answer

    def stream() -> StreamTranslation:
        outcome._stream = ResponsesStream(context, clock)
        return outcome._stream

    made = Plan(
        PATH,
        (translated.body,),
        answer,
        stream=stream if translated.stream else None,
        dropped=translated.dropped,
        repairs=translated.repairs,
        framing=EVENT_FRAMING,
    )
    return made, outcome


def plan(body: Mapping[str, Any], options: Options) -> Plan:
    """The plan of a request that needs nothing stored (no ``previous_response_id``, no item references)."""
    translated = translate_request(
        body, options, response_id=ids.new_response_id(), created_at=int(time.time())
    )
    return planned(translated)[0]
