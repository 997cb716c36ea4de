"""Legacy ``POST /v1/completions`` → Mistral's FIM or chat endpoint, and the answers back.

Mistral has no plain text-completion endpoint. Code completion clients (editor plugins, Continue, Tabby)
still call OpenAI's legacy one with a ``prompt`` and often a ``suffix``; that is exactly Mistral's
fill-in-the-middle endpoint, served by codestral. Every other prompt becomes one user message on the chat
endpoint, which is what an instruct model makes of a bare prompt anyway. The answer is rebuilt as OpenAI's
``text_completion``, whichever endpoint produced it.

Each field's fate is in ``FIELDS``, one row per field of OpenAI's ``CreateCompletionRequest``, with a fate
per route because FIM accepts fewer parameters than chat.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mistral_wire.contract.catalogue import lookup
from mistral_wire.contract.requests import ChatCompletionRequest, FIMCompletionRequest
from shim.translate.context import Options
from shim.translate.models import resolve_model
from shim.translate.problem import OpenAIError
from shim.translate.responses import generation_failed, order_usage, split_content
from shim.translate.table import random_seed, refuse, temperature, unsupported

Action = Literal["keep", "rename", "convert", "drop", "reject", "route"]
Route = Literal["fim", "chat"]
ENDPOINTS: dict[Route, str] = {"fim": "fill-in-the-middle", "chat": "chat"}

FIM_PATH = "/v1/fim/completions"
CHAT_PATH = "/v1/chat/completions"
PATHS: dict[Route, str] = {"fim": FIM_PATH, "chat": CHAT_PATH}


@dataclass(frozen=True)
class Row:
    """The fate of one OpenAI field on each route, and the values that are the same as leaving it out."""

    chat: Action
    fim: Action
    reason: str
    target: str | None = None  # the Mistral field (rename)
    # OpenAI's defaults: sending one changes nothing, so it is removed silently, never named or refused.
    # (An explicit null is always treated as absent.)
    harmless: tuple[Any, ...] = ()


FIELDS: dict[str, Row] = {
    "model": Row("route", "route", "aliases resolve; a codestral model selects fill-in-the-middle"),
    "prompt": Row("route", "route", "one text: the FIM prompt, or the one user message on chat"),
    "suffix": Row("route", "route", "given, it selects fill-in-the-middle, whatever the model"),
    "max_tokens": Row("keep", "keep", "same meaning"),
    "temperature": Row("convert", "convert", "clamped to Mistral's 0..1.5"),
    "top_p": Row("keep", "keep", "same meaning"),
    "stop": Row("keep", "keep", "same meaning (Mistral has no limit of four)"),
    "stream": Row("keep", "keep", "same SSE framing; chunks are rebuilt as text_completion"),
    "stream_options": Row("convert", "convert", "Mistral refuses it; include_usage is honoured by the shim"),
    "seed": Row("rename", "rename", "Mistral's random_seed, which must be >= 0", "random_seed"),
    "n": Row("keep", "reject", "FIM answers one completion per request", harmless=(1,)),
    "presence_penalty": Row("keep", "drop", "the FIM endpoint has no penalties", harmless=(0,)),
    "frequency_penalty": Row("keep", "drop", "the FIM endpoint has no penalties", harmless=(0,)),
    "echo": Row(
        "reject", "reject", "Mistral cannot return the prompt's log probabilities", harmless=(False,)
    ),
    "logprobs": Row("drop", "drop", "Mistral's published API returns no log probabilities"),
    "best_of": Row("drop", "drop", "Mistral does not rank candidates server-side", harmless=(1,)),
    "logit_bias": Row("drop", "drop", "Mistral has no logit bias", harmless=({},)),
    "user": Row("drop", "drop", "no Mistral equivalent; it only labels the request for abuse monitoring"),
}

# Mistral's own fields on each endpoint that no OpenAI field produces (e.g. min_tokens, metadata,
# prompt_cache_key, safe_prompt): a client that knows Mistral may send them, and Mistral accepts them.
_BUILT = frozenset({"model", "prompt", "suffix", "messages"})
MISTRAL_ONLY: dict[Route, frozenset[str]] = {
    "fim": frozenset(FIMCompletionRequest.model_fields) - frozenset(FIELDS) - _BUILT,
    "chat": frozenset(ChatCompletionRequest.model_fields) - frozenset(FIELDS) - _BUILT,
}

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

    route: Route
    path: str
    body: dict[str, Any]
    # OpenAI parameters removed (for the x-shim-dropped-params header).
    dropped: tuple[str, ...] = ()
    # stream_options.include_usage: end the stream with OpenAI's ``choices: []`` usage chunk.
    include_usage: bool = False


def _prompt(value: Any) -> str:
    """The one prompt text, or a 400: Mistral completes one text per request and knows no token ids."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    if isinstance(value, str):
        return value
    if value is None:
        raise refuse("you must provide a prompt parameter.", "prompt")
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


def _route(model: Any, suffix: Any) -> Route:
    """FIM for a suffix or a FIM model, chat otherwise.

    A suffix for a model Mistral lists as unable to fill in the middle is refused here: sent to the FIM
    endpoint, it would come back as "Invalid model", which reads as if the model did not exist, and sent
    to chat the suffix would be silently lost. A model the catalogue does not know (a fine-tune, a new
    release) goes to FIM, and Mistral decides.
    """
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


def _convert(key: str, value: Any) -> tuple[str, Any] | None:
    """The Mistral field and value for a converted or renamed OpenAI field (None: nothing to send)."""
    if key == "temperature":
        return key, temperature(value)
    if key == "seed":
        return "random_seed", random_seed(value)
    if key == "stream_options":
        return None  # remembered by the caller, never sent: Mistral answers it with a 422
    raise AssertionError(f"no conversion for {key}")


def _harmless(value: Any, defaults: tuple[Any, ...]) -> bool:
    """Whether ``value`` is one of OpenAI's defaults, in value and type (``echo: 0`` is not ``False``)."""
    return any(value == default and type(value) is type(default) for default in defaults)


def _rejected(key: str, reason: str) -> OpenAIError:
    return refuse(f"{key} cannot be honoured: {reason}.", key, "unsupported_parameter")


def translate_completion_request(body: Mapping[str, Any], options: Options) -> LegacyPlan:
    """The plan for an OpenAI ``CreateCompletionRequest``: which Mistral endpoint, and the body to send.

    Raises ``OpenAIError`` (400) for what cannot be honoured (several prompts, token ids, ``echo``, ``n``
    on FIM) and, under ``unsupported="error"``, for OpenAI-only parameters.
    """
    model = body.get("model")
    if not isinstance(model, str):
        raise refuse("you must provide a model parameter.", "model")
    model = resolve_model(model, options.aliases)
    prompt = _prompt(body.get("prompt"))
    suffix = body.get("suffix")
    route = _route(model, suffix)
    out: dict[str, Any] = {"model": model}
    if route == "fim":
        out["prompt"] = prompt
        if suffix:
            out["suffix"] = suffix
    else:
        out["messages"] = [{"role": "user", "content": prompt}]
    dropped: list[str] = []
    include_usage = False
    passthrough: dict[str, Any] = {}
    for key, value in body.items():
        row = FIELDS.get(key)
        if row is None:
            if key in MISTRAL_ONLY[route]:
                passthrough[key] = value
            else:
                reason = "it is neither an OpenAI nor a Mistral parameter"
                unsupported(key, reason, ENDPOINTS[route], options, dropped)
            continue
        action = row.chat if route == "chat" else row.fim
        if action == "route" or value is None or _harmless(value, row.harmless):
            continue
        if key == "stream_options" and isinstance(value, dict):
            include_usage = bool(value.get("include_usage"))
        if action == "keep":
            out[key] = value
        elif action in ("rename", "convert"):
            converted = _convert(key, value)
            if converted is not None:
                out[converted[0]] = converted[1]
        elif action == "drop":
            unsupported(key, row.reason, ENDPOINTS[route], options, dropped)
        else:
            raise _rejected(key, row.reason)
    # Mistral's own names lose to the OpenAI fields translated onto them (seed beats random_seed).
    out.update((key, value) for key, value in passthrough.items() if key not in out)
    return LegacyPlan(route, PATHS[route], out, tuple(dropped), include_usage)


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


def _head(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": body.get("id"),
        "object": "text_completion",
        "created": body.get("created"),
        "model": body.get("model"),
    }


def translate_completion_response(body: Mapping[str, Any], plan: LegacyPlan) -> dict[str, Any]:
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
            "logprobs": None,
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

    def __init__(self, plan: LegacyPlan) -> None:
        self.plan = plan
        self._head: dict[str, Any] | None = None
        self._usage: dict[str, Any] | None = None

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
                entry = {"text": text, "index": choice.get("index") or 0, "logprobs": None}
                out.append({**head, "choices": [{**entry, "finish_reason": finish}]})
        return out

    def finish(self) -> list[dict[str, Any]]:
        """What follows Mistral's ``[DONE]``: the usage chunk, only when the client asked for it."""
        if not self.plan.include_usage or self._usage is None or self._head is None:
            return []
        return [{**self._head, "choices": [], "usage": self._usage}]
