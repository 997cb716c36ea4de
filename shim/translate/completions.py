"""Legacy ``POST /v1/completions`` → Mistral's FIM or chat endpoint, and the answers back.

Mistral has no plain text-completion endpoint. Code completion clients (editor plugins, Continue, Tabby)
still call OpenAI's legacy one with a ``prompt`` and often a ``suffix``; that is exactly Mistral's
fill-in-the-middle endpoint, served by codestral. Every other prompt becomes one user message on the chat
endpoint, which is what an instruct model makes of a bare prompt anyway. The answer is rebuilt as OpenAI's
``text_completion``, whichever endpoint produced it.

Each field's fate is in ``FIELDS``, one row per field of OpenAI's ``CreateCompletionRequest``, varied on the
FIM route where FIM accepts fewer parameters than chat; ``route`` picks the route before any field moves.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mistral_wire.contract.catalogue import lookup
from mistral_wire.contract.requests import ChatCompletionRequest, FIMCompletionRequest
from shim.translate import table
from shim.translate.chat.answer import generation_failed, order_usage, split_content
from shim.translate.context import Options
from shim.translate.plan import Plan, StreamTranslation
from shim.translate.table import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    OBJECT,
    OMIT,
    STRING,
    TEXTS,
    Draft,
    Field,
    Table,
    refuse,
)

Route = Literal["fim", "chat"]
ENDPOINTS: dict[str, str] = {"fim": "fill-in-the-middle", "chat": "chat"}

FIM_PATH = "/v1/fim/completions"
CHAT_PATH = "/v1/chat/completions"
PATHS: dict[str, str] = {"fim": FIM_PATH, "chat": CHAT_PATH}


def _prompt(value: Any) -> str:
    """The one prompt text, or a 400: Mistral completes one text per request and knows no token ids."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        raise refuse(
            f"Only one prompt per request is supported (Mistral completes one text), got {len(value)}. "
            "Send one request per prompt.",
            "prompt",
            "unsupported_value",
        )
    if isinstance(value, list) and value and all(isinstance(item, int | list) for item in value):
        raise refuse(
            "prompt must be text: Mistral does not accept token ids. Send the text itself.",
            "prompt",
            "unsupported_value",
        )
    raise refuse("prompt must be a string, or an array holding one string.", "prompt")


def route(body: Mapping[str, Any], options: Options) -> str:
    """FIM for a suffix or a FIM model, chat otherwise.

    A suffix for a model Mistral lists as unable to fill in the middle is refused here: sent to the FIM
    endpoint, it would come back as "Invalid model", which reads as if the model did not exist, and sent
    to chat the suffix would be silently lost. A model the catalogue does not know (a fine-tune, a new
    release) goes to FIM, and Mistral decides. The prompt is checked first, as a client reads its errors.
    """
    _prompt(body.get("prompt"))
    model = table.model(body.get("model"), Draft(), options)
    suffix = body.get("suffix")
    if suffix is not None and not isinstance(suffix, str):
        raise refuse("suffix must be a string.", "suffix")
    family = lookup(model) if isinstance(model, str) else None
    fim = family is not None and family.can("completion_fim")
    if suffix and family is not None and not fim:
        raise refuse(
            f"suffix needs a fill-in-the-middle model such as codestral-latest; {model} cannot complete "
            "between a prompt and a suffix.",
            "suffix",
            "unsupported_value",
        )
    return "fim" if suffix or fim else "chat"


def _user_turn(value: Any, draft: Draft, options: Options) -> Any:
    return [{"role": "user", "content": _prompt(value)}]


def _fim_prompt(value: Any, draft: Draft, options: Options) -> Any:
    return _prompt(value)


def _logprobs(value: Any, draft: Draft, options: Options) -> Any:
    """``logprobs: N`` (the N most likely tokens at each position) is Mistral's ``logprobs`` and
    ``top_logprobs``; 0 asks for the chosen tokens' log probabilities alone."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        draft.put("top_logprobs", value)
        return True
    return value  # Mistral names what is wrong with it


def _suffix(value: Any, draft: Draft, options: Options) -> Any:
    return value if value else OMIT


FIELDS: dict[str, Field] = {
    "model": Field(
        "route",
        "aliases resolve; a codestral model selects fill-in-the-middle",
        STRING,
        convert=table.model,
        required=True,
    ),
    "prompt": Field(
        "route",
        "one text: the FIM prompt, or the one user message on chat",
        TEXTS,
        target="messages",
        convert=_user_turn,
        required=True,
    ).varied("fim", target="prompt", convert=_fim_prompt),
    "suffix": Field(
        "route", "given, it selects fill-in-the-middle, whatever the model", STRING, convert=_suffix
    ),
    "max_tokens": Field("keep", "same meaning: the most tokens to generate", INTEGER),
    "temperature": Field("convert", "clamped to Mistral's 0..1.5", NUMBER, convert=table.temperature),
    "top_p": Field("keep", "same meaning: the nucleus of likeliest tokens", NUMBER),
    "stop": Field("keep", "same meaning (Mistral has no limit of four)", TEXTS),
    "stream": Field("keep", "same SSE framing; chunks are rebuilt as text_completion", BOOLEAN),
    "stream_options": Field(
        "convert",
        "Mistral refuses it; include_usage is honoured by the shim",
        OBJECT,
        convert=table.include_usage,
    ),
    "seed": Field(
        "rename",
        "Mistral's random_seed, which must be >= 0",
        INTEGER,
        target="random_seed",
        convert=table.random_seed,
    ),
    "n": Field("keep", "FIM answers one completion per request", INTEGER, harmless=(1,)).varied(
        "fim", fate="reject"
    ),
    "presence_penalty": Field("keep", "the FIM endpoint has no penalties", NUMBER, harmless=(0,)).varied(
        "fim", fate="drop"
    ),
    "frequency_penalty": Field("keep", "the FIM endpoint has no penalties", NUMBER, harmless=(0,)).varied(
        "fim", fate="drop"
    ),
    "echo": Field(
        "reject",
        "the shim does not write the prompt back into the completion's text",
        BOOLEAN,
        harmless=(False,),
    ),
    "logprobs": Field(
        "convert",
        "N alternatives per token: Mistral's logprobs and top_logprobs (FIM returns none)",
        INTEGER,
        target="logprobs",
        convert=_logprobs,
    ).varied("fim", fate="drop"),
    "best_of": Field("drop", "Mistral does not rank candidates server-side", INTEGER, harmless=(1,)),
    "logit_bias": Field("drop", "Mistral has no logit bias", OBJECT, harmless=({},)),
    "user": Field("drop", "no Mistral equivalent; it only labels the request for abuse monitoring", STRING),
}

# Mistral's own fields on each endpoint that no OpenAI field produces (e.g. min_tokens, metadata,
# prompt_cache_key, safe_prompt): a client that knows Mistral may send them, and Mistral accepts them.
_BUILT = frozenset({"model", "prompt", "suffix", "messages"})
MISTRAL_ONLY: dict[str | None, frozenset[str]] = {
    "fim": frozenset(FIMCompletionRequest.model_fields) - frozenset(FIELDS) - _BUILT,
    "chat": frozenset(ChatCompletionRequest.model_fields) - frozenset(FIELDS) - _BUILT,
}

TABLE = Table(
    endpoint="legacy completions",
    fields=FIELDS,
    mistral_only=MISTRAL_ONLY,
    router=route,
    route_names=ENDPOINTS,
    unknown_reason="it is neither an OpenAI nor a Mistral parameter",
)

# Mistral's finish reasons → the legacy enum (stop, length, content_filter). ``error`` raises instead.
FINISH_REASONS: dict[str, str] = {
    "stop": "stop",
    "length": "length",
    "model_length": "length",  # the context window was hit: for the client, the text was cut short
    "content_filter": "content_filter",
}
UNKNOWN_FINISH = "stop"  # tool_calls and reasons added later: the text is complete as far as it goes


@dataclass(frozen=True)
class LegacyPlan:
    """The one Mistral request for a legacy completion, and what the answer's translation must know."""

    route: str
    path: str
    body: dict[str, Any]
    # OpenAI parameters removed (for the x-shim-dropped-params header).
    dropped: tuple[str, ...] = ()
    # stream_options.include_usage: end the stream with OpenAI's ``choices: []`` usage chunk.
    include_usage: bool = False


def translate_completion_request(body: Mapping[str, Any], options: Options) -> LegacyPlan:
    """The Mistral request for an OpenAI ``CreateCompletionRequest``, and which endpoint takes it.

    Raises ``OpenAIError`` (400) for what cannot be honoured (several prompts, token ids, ``echo``, ``n``
    on FIM) and, under ``unsupported="error"``, for OpenAI-only parameters.
    """
    draft = table.apply(TABLE, body, options)
    route = draft.route or "chat"
    include_usage = bool(draft.notes.get("include_usage"))
    return LegacyPlan(route, PATHS[route], draft.body, tuple(draft.dropped), include_usage)


def plan(body: Mapping[str, Any], options: Options) -> Plan:
    """The legacy completion as one Mistral FIM or chat request, and its answer as ``text_completion``."""
    table.check_types(TABLE, body)
    legacy = translate_completion_request(body, options)

    def answer(answers: Sequence[Any]) -> Any:
        return translate_completion_response(answers[0])

    def stream() -> StreamTranslation:
        return CompletionStreamTranslator(legacy.include_usage)

    return Plan(
        legacy.path,
        (legacy.body,),
        answer,
        stream=stream if legacy.body.get("stream") is True else None,
        dropped=legacy.dropped,
    )


def _finish(value: Any, model: Any) -> str | None:
    """The legacy finish reason; None stays None (a stream chunk that does not finish)."""
    if value is None:
        return None
    if value == "error":
        raise generation_failed(model)
    return FINISH_REASONS.get(value, UNKNOWN_FINISH) if isinstance(value, str) else UNKNOWN_FINISH


def _text(content: Any) -> str:
    """The completion text of a message or delta; thinking has no place in a text completion."""
    text, _reasoning = split_content(content)
    return text or ""


def legacy_logprobs(value: Any, offset: int = 0) -> dict[str, Any] | None:
    """Mistral's ``logprobs.content`` entries as the legacy completion's four parallel lists.

    ``text_offset`` counts characters from the start of the completion: ``offset`` is where this part of
    it starts (a stream chunk's text follows the chunks before it).
    """
    content = value.get("content") if isinstance(value, dict) else None
    if not isinstance(content, list):
        return None
    entries = [entry for entry in content if isinstance(entry, dict)]
    texts = [token if isinstance(token := entry.get("token"), str) else "" for entry in entries]
    offsets = []
    for text in texts:
        offsets.append(offset)
        offset += len(text)
    return {
        "tokens": texts,
        "token_logprobs": [entry.get("logprob") for entry in entries],
        "top_logprobs": [
            {
                alt.get("token"): alt.get("logprob")
                for alt in entry.get("top_logprobs") or []
                if isinstance(alt, dict)
            }
            for entry in entries
        ],
        "text_offset": offsets,
    }


def _head(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": body.get("id"),
        "object": "text_completion",
        "created": body.get("created"),
        "model": body.get("model"),
    }


def translate_completion_response(body: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI's ``text_completion`` for Mistral's non-stream chat or FIM answer ``body``.

    Raises ``OpenAIError`` (502) when a choice finished with ``error``: a failed generation must not look
    like a complete text.
    """
    choices = sorted(
        (choice for choice in body.get("choices") or [] if isinstance(choice, dict)),
        key=lambda choice: choice.get("index") or 0,
    )
    out = _head(body)
    out["choices"] = [
        {
            "text": _text((choice.get("message") or {}).get("content")),
            "index": choice.get("index") or 0,
            "logprobs": legacy_logprobs(choice.get("logprobs")),
            "finish_reason": _finish(choice.get("finish_reason"), body.get("model")) or UNKNOWN_FINISH,
        }
        for choice in choices
    ]
    if isinstance(body.get("usage"), dict):
        out["usage"] = order_usage(body["usage"])
    return out


class CompletionStreamTranslator:
    """Mistral's chat or FIM SSE chunks → OpenAI's ``text_completion`` chunks, one event at a time.

    Nothing is buffered. The only state is the usage Mistral attaches to its last chunk, re-sent by
    ``finish()`` as OpenAI's ``choices: []`` chunk when the client asked for it (and never otherwise,
    as OpenAI does).
    """

    def __init__(self, include_usage: bool) -> None:
        self.include_usage = include_usage
        self._head: dict[str, Any] | None = None
        self._usage: dict[str, Any] | None = None
        # Characters of text each choice has sent so far (logprobs' text_offset counts from the start).
        self._sent: dict[int, int] = {}

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The OpenAI chunks for one Mistral chunk: one per choice with text or a finish reason."""
        self._head = head = _head(event)
        if isinstance(event.get("usage"), dict):
            self._usage = order_usage(event["usage"])
        out = []
        for choice in event.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            text = _text((choice.get("delta") or {}).get("content"))
            finish = _finish(choice.get("finish_reason"), event.get("model"))
            if text or finish is not None:  # the role-only opening chunk carries nothing for a client
                index = choice.get("index") or 0
                sent = self._sent.get(index, 0)
                logprobs = legacy_logprobs(choice.get("logprobs"), sent)
                self._sent[index] = sent + len(text)
                entry = {"text": text, "index": index, "logprobs": logprobs}
                out.append({**head, "choices": [{**entry, "finish_reason": finish}]})
        return out

    def finish(self) -> list[dict[str, Any]]:
        """What follows Mistral's ``[DONE]``: the usage chunk, only when the client asked for it."""
        if not self.include_usage or self._usage is None or self._head is None:
            return []
        return [{**self._head, "choices": [], "usage": self._usage}]
