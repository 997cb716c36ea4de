"""OpenAI's chat completions on Mistral's: the request table (``request``), the conversation's repairs
(``messages``), the answer (``answer``) and the stream's state machine (``stream``)."""

from collections.abc import Mapping, Sequence
from typing import Any

from shim.translate.chat.answer import translate_chat_response
from shim.translate.chat.request import PATH, TABLE, translate_chat_request
from shim.translate.chat.stream import StreamTranslator
from shim.translate.context import Options
from shim.translate.plan import Plan, StreamTranslation
from shim.translate.table import check_types


def plan(body: Mapping[str, Any], options: Options) -> Plan:
    """The chat request for Mistral, and how its answer or stream becomes OpenAI's."""
    check_types(TABLE, body)
    translated = translate_chat_request(body, options)
    chat_context = translated.context

    def answer(answers: Sequence[Any]) -> Any:
        return translate_chat_response(answers[0], chat_context)

    def stream() -> StreamTranslation:
        return StreamTranslator(chat_context)

    return Plan(
        PATH,
        (translated.body,),
        answer,
        stream=stream if translated.body.get("stream") is True else None,
        dropped=translated.dropped,
        repairs=translated.repairs,
    )
