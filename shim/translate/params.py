"""THE table: every field of OpenAI's ``CreateChatCompletionRequest`` and its fate on Mistral's chat endpoint.

Mistral answers any key it does not know with a 422, so nothing is forwarded by default: a field reaches
Mistral only through its row (keep, rename, convert) or because Mistral's own request model declares it
(``mistral_wire.contract.ChatCompletionRequest``, the one source of truth for what Mistral accepts, so
``safe_prompt``, ``random_seed``, ``prompt_mode`` and ``guardrails`` sent through ``extra_body`` pass). The
opposite failure, dropping what Mistral accepts (Portkey and new-api lose ``stop`` and ``response_format``,
LiteLLM the named ``tool_choice``), is ruled out by ``keep`` rows, each with a test.

Converters repair what they recognise and pass on what they do not: a value of the wrong type reaches
Mistral, whose 422 becomes an OpenAI 400 that names the field. So the shim never answers 500 for a strange
body, and never guesses.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mistral_wire.contract.catalogue import lookup
from mistral_wire.contract.requests import ChatCompletionRequest
from shim.translate import messages as message_translation
from shim.translate import table
from shim.translate.context import ChatContext, Options, Translated
from shim.translate.models import resolve_model
from shim.translate.schemas import clean_schema
from shim.translate.table import Row

ENDPOINT = "chat completions"
EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}

# OpenAI's service tiers → Mistral's. "flex", "scale", "priority" and "fast" have no Mistral counterpart.
SERVICE_TIERS = {"auto": "auto", "default": "standard_only"}
# OpenAI's reasoning efforts Mistral does not name → the nearest one it does.
REASONING_EFFORTS = {"max": "xhigh"}

FIELDS: dict[str, Row] = {
    # --- sent as they are: Mistral accepts them with the same meaning (many shims wrongly drop these)
    "stream": Row("keep", "same SSE framing; each chunk is translated as it arrives"),
    "stop": Row("keep", "same meaning; Mistral has no limit of four"),
    "n": Row("keep", "accepted since 2024-11; every choice is translated, streams included"),
    "max_tokens": Row("keep", "same meaning (OpenAI's deprecated name is Mistral's only one)"),
    "presence_penalty": Row("keep", "same meaning and range, accepted since 2024-11"),
    "frequency_penalty": Row("keep", "same meaning and range, accepted since 2024-11"),
    "parallel_tool_calls": Row("keep", "same meaning, accepted since 2025-03"),
    "prompt_cache_key": Row("keep", "same meaning, accepted since 2026-05"),
    "metadata": Row("keep", "accepted since 2025-12"),
    # --- renamed or rewritten
    "model": Row("convert", "configured aliases resolve to the Mistral model", "model"),
    "messages": Row("convert", "roles, keys, parts, tool-call ids and order repaired (messages.py)"),
    "temperature": Row("convert", "clamped to Mistral's maximum of 1.5 (OpenAI allows 2)"),
    "top_p": Row("convert", "0 becomes a tiny positive nucleus: Mistral wants > 0, the meaning is kept"),
    "seed": Row("rename", "Mistral's random_seed (>= 0): negatives keep their low 32 bits", "random_seed"),
    "max_completion_tokens": Row("rename", "Mistral's max_tokens; wins over max_tokens", "max_tokens"),
    "stream_options": Row("convert", "Mistral refuses it (422); include_usage is honoured by the shim"),
    "response_format": Row("convert", "same shapes; $schema and $id removed from json_schema.schema"),
    "tools": Row("convert", "function tools rebuilt, parameters filled in, schemas cleaned; [] omitted"),
    "tool_choice": Row("convert", "every string and the named form kept; allowed_tools narrows tools"),
    "functions": Row("convert", "legacy functions become tools (answers come back as function_call)"),
    "function_call": Row("convert", "legacy function_call becomes tool_choice"),
    "prediction": Row("convert", "text parts are joined: Mistral's prediction content is one string"),
    "reasoning_effort": Row("convert", "same values; 'max' becomes Mistral's highest, 'xhigh'"),
    "service_tier": Row("convert", "'auto' kept, 'default' is 'standard_only'; other tiers are dropped"),
    # --- OpenAI-only: dropped and named in x-shim-dropped-params, or refused under --unsupported error
    "user": Row("drop", "no Mistral equivalent; it only labels the request for abuse monitoring"),
    "safety_identifier": Row("drop", "no Mistral equivalent; it only labels the end user"),
    "store": Row("drop", "Mistral does not store completions for distillation", harmless=(False,)),
    "logit_bias": Row("drop", "Mistral has no logit bias", harmless=({},)),
    "logprobs": Row("drop", "not in Mistral's published API (it answers 422)", harmless=(False,)),
    "top_logprobs": Row("drop", "not in Mistral's published API (it answers 422)", harmless=(0,)),
    "modalities": Row("drop", "Mistral answers text only", harmless=(["text"],)),
    "audio": Row("drop", "Mistral's chat endpoint does not speak"),
    "verbosity": Row("drop", "Mistral has no verbosity control", harmless=("medium",)),
    "web_search_options": Row("drop", "Mistral's web search is an agent tool, not a chat option"),
    "moderation": Row("drop", "Mistral's guardrails take another shape; send them as guardrails"),
    "prompt_cache_retention": Row("drop", "Mistral chooses how long its prompt cache lives"),
    "prompt_cache_options": Row("drop", "Mistral chooses how its prompt cache works"),
}

MISTRAL_ONLY = frozenset(ChatCompletionRequest.model_fields) - frozenset(FIELDS) - {"random_seed"}
"""Mistral's own fields that no OpenAI field produces (``safe_prompt``, ``prompt_mode``, ``guardrails``...):
a client that knows Mistral sends them through ``extra_body``, and they pass. ``random_seed`` is handled
with ``seed``; ``stream_options`` has its own row."""

UNKNOWN_REASON = "it is neither an OpenAI nor a Mistral chat parameter"


@dataclass
class _Draft:
    """The Mistral body being built, and what the conversion of one field tells the others."""

    body: dict[str, Any] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    include_usage: bool = False
    legacy_functions: bool = False
    allowed_tools: list[str] | None = None  # tool_choice allowed_tools: only these may be called
    messages: Any = None


# --- converters: (value, draft) → None, writing into draft.body --------------------------------------


def _model(value: Any, draft: _Draft, options: Options) -> None:
    draft.body["model"] = resolve_model(value, options.aliases) if isinstance(value, str) else value


def _temperature(value: Any, draft: _Draft, options: Options) -> None:
    draft.body["temperature"] = table.temperature(value)


def _top_p(value: Any, draft: _Draft, options: Options) -> None:
    draft.body["top_p"] = table.top_p(value)


def _seed(value: Any, draft: _Draft, options: Options) -> None:
    draft.body["random_seed"] = table.random_seed(value)


def _max_completion_tokens(value: Any, draft: _Draft, options: Options) -> None:
    draft.body["max_tokens"] = value


def _stream_options(value: Any, draft: _Draft, options: Options) -> None:
    draft.include_usage = isinstance(value, dict) and bool(value.get("include_usage"))


def _response_format(value: Any, draft: _Draft, options: Options) -> None:
    if isinstance(value, dict) and isinstance(value.get("json_schema"), dict):
        inner = dict(value["json_schema"])
        if isinstance(inner.get("schema"), dict):
            inner["schema"] = clean_schema(inner["schema"])
        value = {**value, "json_schema": inner}
    draft.body["response_format"] = value


def _function(function: Mapping[str, Any]) -> dict[str, Any]:
    """A function definition with Mistral's keys only, and the parameters Mistral requires."""
    out = {key: function[key] for key in ("name", "description", "strict") if function.get(key) is not None}
    parameters = function.get("parameters")
    out["parameters"] = clean_schema(parameters) if isinstance(parameters, dict) else dict(EMPTY_PARAMETERS)
    return out


def _tool(tool: Any) -> Any:
    if not isinstance(tool, dict) or tool.get("type", "function") != "function":
        if isinstance(tool, dict) and tool.get("type") == "custom":
            raise table.refuse(
                "Custom (free-form text) tools are not supported by Mistral; define a function tool.",
                "tools",
                "unsupported_value",
            )
        return tool  # Mistral's built-in tools, or something malformed: Mistral decides
    function = tool.get("function")
    if not isinstance(function, dict):
        return tool
    return {"type": "function", "function": _function(function)}


def _tools(value: Any, draft: _Draft, options: Options) -> None:
    converted = [_tool(tool) for tool in value] if isinstance(value, list) else value
    if isinstance(converted, list) and isinstance(draft.body.get("tools"), list):
        converted = draft.body["tools"] + converted  # legacy functions came first
    draft.body["tools"] = converted


def _functions(value: Any, draft: _Draft, options: Options) -> None:
    draft.legacy_functions = True
    if not isinstance(value, list):
        draft.body["tools"] = value
        return
    tools = [{"type": "function", "function": _function(f)} if isinstance(f, dict) else f for f in value]
    draft.body["tools"] = [*tools, *(draft.body.get("tools") or [])]


def _tool_choice(value: Any, draft: _Draft, options: Options) -> None:
    if isinstance(value, dict) and value.get("type") == "allowed_tools":
        allowed = value.get("allowed_tools")
        if isinstance(allowed, dict):
            names = [
                (tool.get("function") or {}).get("name")
                for tool in allowed.get("tools") or []
                if isinstance(tool, dict)
            ]
            draft.allowed_tools = [name for name in names if isinstance(name, str)]
            draft.body["tool_choice"] = allowed.get("mode") or "auto"
            return
    if isinstance(value, dict) and value.get("type") == "custom":
        raise table.refuse(
            "Custom (free-form text) tools are not supported by Mistral.", "tool_choice", "unsupported_value"
        )
    if isinstance(value, dict) and isinstance(value.get("function"), dict):
        value = {"type": "function", "function": {"name": value["function"].get("name")}}
    draft.body["tool_choice"] = value


def _function_call(value: Any, draft: _Draft, options: Options) -> None:
    draft.legacy_functions = True
    if isinstance(value, dict):
        value = {"type": "function", "function": {"name": value.get("name")}}
    draft.body.setdefault("tool_choice", value)  # a modern tool_choice in the same request wins


def _prediction(value: Any, draft: _Draft, options: Options) -> None:
    if isinstance(value, dict) and isinstance(value.get("content"), list):
        parts = value["content"]
        if all(isinstance(part, dict) and isinstance(part.get("text"), str) for part in parts):
            value = {**value, "content": "".join(part["text"] for part in parts)}
    draft.body["prediction"] = value


def _reasoning_effort(value: Any, draft: _Draft, options: Options) -> None:
    draft.body["reasoning_effort"] = REASONING_EFFORTS.get(value, value) if isinstance(value, str) else value


def _service_tier(value: Any, draft: _Draft, options: Options) -> None:
    if isinstance(value, str) and value not in SERVICE_TIERS and value not in SERVICE_TIERS.values():
        reason = f"Mistral has no '{value}' tier (only 'auto' and 'default')"
        table.unsupported("service_tier", reason, ENDPOINT, options, draft.dropped)
        return
    draft.body["service_tier"] = SERVICE_TIERS.get(value, value) if isinstance(value, str) else value


def _messages(value: Any, draft: _Draft, options: Options) -> None:
    draft.messages = value  # translated last, once the model is known


Converter = Callable[[Any, _Draft, Options], None]
CONVERTERS: dict[str, Converter] = {
    "model": _model,
    "messages": _messages,
    "temperature": _temperature,
    "top_p": _top_p,
    "seed": _seed,
    "max_completion_tokens": _max_completion_tokens,
    "stream_options": _stream_options,
    "response_format": _response_format,
    "tools": _tools,
    "tool_choice": _tool_choice,
    "functions": _functions,
    "function_call": _function_call,
    "prediction": _prediction,
    "reasoning_effort": _reasoning_effort,
    "service_tier": _service_tier,
}
# Processed first, so the fields that map onto the same Mistral field after them take precedence.
_FIRST = ("functions", "max_tokens")


# --- the whole request ---------------------------------------------------------------------------------


def _apply(key: str, value: Any, draft: _Draft, options: Options) -> None:
    row = FIELDS.get(key)
    if row is None:
        if key in MISTRAL_ONLY or key == "random_seed":
            draft.body.setdefault(key, value)  # an OpenAI field translated onto the same name wins
        else:
            table.unsupported(key, UNKNOWN_REASON, ENDPOINT, options, draft.dropped)
        return
    if value is None or (row.harmless and row.is_harmless(value)):
        return
    if row.action == "keep":
        draft.body[key] = value
    elif row.action in ("rename", "convert"):
        CONVERTERS[key](value, draft, options)
    elif row.action == "drop":
        table.unsupported(key, row.reason, ENDPOINT, options, draft.dropped)
    else:
        raise table.refuse(f"{key} cannot be honoured: {row.reason}.", key, "unsupported_parameter")


def _settle_tools(draft: _Draft) -> None:
    """Rules across fields: allowed_tools narrows ``tools``; no tools, no ``tool_choice`` (catalogue 10)."""
    body = draft.body
    tools = body.get("tools")
    if draft.allowed_tools is not None and isinstance(tools, list):
        body["tools"] = tools = [
            tool
            for tool in tools
            if not isinstance(tool, dict) or (tool.get("function") or {}).get("name") in draft.allowed_tools
        ]
    if tools == []:
        del body["tools"]
        draft.repairs.append("empty-tools-omitted")
    if "tools" not in body and "tool_choice" in body:
        del body["tool_choice"]


def translate_chat_request(body: Mapping[str, Any], options: Options) -> Translated:
    """The Mistral request for an OpenAI ``CreateChatCompletionRequest``, and what the answer must know.

    Raises ``OpenAIError`` (400) for what cannot be honoured (custom tools, a non-integer seed) and, under
    ``unsupported="error"``, for OpenAI-only parameters.
    """
    draft = _Draft()
    for key in _FIRST:
        if key in body:
            _apply(key, body[key], draft, options)
    for key, value in body.items():
        if key not in _FIRST:
            _apply(key, value, draft, options)
    _settle_tools(draft)
    if draft.messages is not None:
        model = draft.body.get("model")
        family = lookup(model) if isinstance(model, str) else None
        translated, repairs = message_translation.translate_messages(
            draft.messages, user_after_tool=family is not None and family.user_after_tool
        )
        draft.body["messages"] = translated
        draft.repairs[:0] = repairs
    context = ChatContext(include_usage=draft.include_usage, legacy_functions=draft.legacy_functions)
    return Translated(draft.body, tuple(draft.dropped), context, tuple(draft.repairs))
