"""Every field of OpenAI's ``CreateChatCompletionRequest`` and its fate on Mistral's chat endpoint.

The opposite failure of sending what Mistral refuses, dropping what it accepts (Portkey and new-api lose
``stop`` and ``response_format``, LiteLLM the named ``tool_choice``), is ruled out by ``keep`` rows, each
with a test. Mistral's own fields (``safe_prompt``, ``random_seed``, ``prompt_mode``, ``guardrails``...)
pass, because ``MISTRAL_ONLY`` is derived from Mistral's request model, the one the mock validates with.
"""

from collections.abc import Mapping
from typing import Any, Final

from mistral_wire.contract.catalogue import lookup
from mistral_wire.contract.requests import ChatCompletionRequest
from mistral_wire.contract.tools import FUNCTION_KEYS
from shim.translate import table
from shim.translate.chat import messages as message_translation
from shim.translate.context import ChatContext, Options, Translated
from shim.translate.schemas import clean_schema
from shim.translate.table import (
    ARRAY,
    BOOLEAN,
    CHOICE,
    INTEGER,
    NUMBER,
    OBJECT,
    OMIT,
    STRING,
    TEXTS,
    Draft,
    Field,
    Table,
)

ENDPOINT = "chat completions"
PATH = "/v1/chat/completions"
EMPTY_PARAMETERS: Final[dict[str, Any]] = {"type": "object", "properties": {}}

# OpenAI's service tiers → Mistral's. "flex", "scale", "priority" and "fast" have no Mistral counterpart.
SERVICE_TIERS = {"auto": "auto", "default": "standard_only"}


# --- converters ------------------------------------------------------------------------------------------


def _response_format(value: Any, draft: Draft, options: Options) -> Any:
    if isinstance(value, dict) and isinstance(value.get("json_schema"), dict):
        inner = dict(value["json_schema"])
        if isinstance(inner.get("schema"), dict):
            inner["schema"] = clean_schema(inner["schema"])
        value = {**value, "json_schema": inner}
    return value


def function(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A function definition with Mistral's keys only, and the parameters Mistral requires."""
    out = {key: definition[key] for key in FUNCTION_KEYS - {"parameters"} if definition.get(key) is not None}
    parameters = definition.get("parameters")
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
    definition = tool.get("function")
    if not isinstance(definition, dict):
        return tool
    return {"type": "function", "function": function(definition)}


def _tools(value: Any, draft: Draft, options: Options) -> Any:
    return [_tool(tool) for tool in value] if isinstance(value, list) else value


def _functions(value: Any, draft: Draft, options: Options) -> Any:
    draft.notes["legacy_functions"] = True
    if isinstance(value, list):
        value = [{"type": "function", "function": function(f)} if isinstance(f, dict) else f for f in value]
    draft.notes["legacy_tools"] = value
    return OMIT


def _tool_choice(value: Any, draft: Draft, options: Options) -> Any:
    if isinstance(value, dict) and value.get("type") == "allowed_tools":
        allowed = value.get("allowed_tools")
        if isinstance(allowed, dict):
            names = [
                (tool.get("function") or {}).get("name")
                for tool in allowed.get("tools") or []
                if isinstance(tool, dict)
            ]
            draft.notes["allowed_tools"] = [name for name in names if isinstance(name, str)]
            return allowed.get("mode") or "auto"
    if isinstance(value, dict) and value.get("type") == "custom":
        raise table.refuse(
            "Custom (free-form text) tools are not supported by Mistral.", "tool_choice", "unsupported_value"
        )
    if isinstance(value, dict) and isinstance(value.get("function"), dict):
        return {"type": "function", "function": {"name": value["function"].get("name")}}
    return value


def _function_call(value: Any, draft: Draft, options: Options) -> Any:
    draft.notes["legacy_functions"] = True
    if isinstance(value, dict):
        return {"type": "function", "function": {"name": value.get("name")}}
    return value


def _prediction(value: Any, draft: Draft, options: Options) -> Any:
    if isinstance(value, dict) and isinstance(value.get("content"), list):
        parts = value["content"]
        if all(isinstance(part, dict) and isinstance(part.get("text"), str) for part in parts):
            return {**value, "content": "".join(part["text"] for part in parts)}
    return value


def _service_tier(value: Any, draft: Draft, options: Options) -> Any:
    if isinstance(value, str) and value not in SERVICE_TIERS and value not in SERVICE_TIERS.values():
        reason = f"Mistral has no '{value}' tier (only 'auto' and 'default')"
        table.unsupported("service_tier", reason, ENDPOINT, options, draft)
        return OMIT
    return SERVICE_TIERS.get(value, value) if isinstance(value, str) else value


def _messages(value: Any, draft: Draft, options: Options) -> Any:
    draft.notes["messages"] = value  # translated by a rule, once the model is known
    return OMIT


# --- the table --------------------------------------------------------------------------------------------

FIELDS: dict[str, Field] = {
    # --- sent as they are: Mistral accepts them with the same meaning (many shims wrongly drop these)
    "stream": Field("keep", "same SSE framing; each chunk is translated as it arrives", BOOLEAN),
    "stop": Field("keep", "same meaning; Mistral has no limit of four", TEXTS),
    "n": Field("keep", "accepted since 2024-11; every choice is translated, streams included", INTEGER),
    "max_tokens": Field("keep", "same meaning (OpenAI's deprecated name is Mistral's only one)", INTEGER),
    "presence_penalty": Field("keep", "same meaning and range, accepted since 2024-11", NUMBER),
    "frequency_penalty": Field("keep", "same meaning and range, accepted since 2024-11", NUMBER),
    "parallel_tool_calls": Field("keep", "same meaning, accepted since 2025-03", BOOLEAN),
    "prompt_cache_key": Field("keep", "same meaning, accepted since 2026-05", STRING),
    "metadata": Field("keep", "accepted since 2025-12", OBJECT),
    "logprobs": Field(
        "keep", "same meaning (mistralai 3.x); the answer's entries come back in OpenAI's shape", BOOLEAN
    ),
    "top_logprobs": Field("keep", "same meaning and range, 0 to 20 alternatives per token", INTEGER),
    "reasoning_effort": Field("keep", "same values, 'max' included (mistralai 3.7)", STRING),
    # --- renamed or rewritten
    "model": Field("convert", "configured aliases resolve to the Mistral model", STRING, convert=table.model),
    "messages": Field(
        "convert",
        "roles, keys, parts, tool-call ids and order repaired (messages.py)",
        ARRAY,
        convert=_messages,
    ),
    "temperature": Field(
        "convert", "clamped to Mistral's maximum of 1.5 (OpenAI allows 2)", NUMBER, convert=table.temperature
    ),
    "top_p": Field(
        "convert",
        "0 becomes a tiny positive nucleus: Mistral wants > 0, the meaning is kept",
        NUMBER,
        convert=table.top_p,
    ),
    "seed": Field(
        "rename",
        "Mistral's random_seed (>= 0): negatives keep their low 32 bits",
        INTEGER,
        target="random_seed",
        convert=table.random_seed,
    ),
    "max_completion_tokens": Field(
        "rename", "Mistral's max_tokens; wins over max_tokens", INTEGER, target="max_tokens", precedence=1
    ),
    "stream_options": Field(
        "convert",
        "Mistral refuses it (422); include_usage is honoured by the shim",
        OBJECT,
        convert=table.include_usage,
    ),
    "response_format": Field(
        "convert",
        "same shapes; $schema and $id removed from json_schema.schema",
        OBJECT,
        convert=_response_format,
    ),
    "tools": Field(
        "convert",
        "function tools rebuilt, parameters filled in, schemas cleaned; [] omitted",
        ARRAY,
        convert=_tools,
    ),
    "tool_choice": Field(
        "convert",
        "every string and the named form kept; allowed_tools narrows tools",
        CHOICE,
        convert=_tool_choice,
        precedence=1,
    ),
    "functions": Field(
        "convert",
        "legacy functions become tools (answers come back as function_call)",
        ARRAY,
        convert=_functions,
    ),
    "function_call": Field(
        "convert",
        "legacy function_call becomes tool_choice",
        CHOICE,
        target="tool_choice",
        convert=_function_call,
    ),
    "prediction": Field(
        "convert",
        "text parts are joined: Mistral's prediction content is one string",
        OBJECT,
        convert=_prediction,
    ),
    "service_tier": Field(
        "convert",
        "'auto' kept, 'default' is 'standard_only'; other tiers are dropped",
        STRING,
        convert=_service_tier,
    ),
    # --- OpenAI-only: dropped and named in x-shim-dropped-params, or refused under --unsupported error
    "user": Field("drop", "no Mistral equivalent; it only labels the request for abuse monitoring", STRING),
    "safety_identifier": Field("drop", "no Mistral equivalent; it only labels the end user", STRING),
    "store": Field("drop", "Mistral does not store completions for distillation", BOOLEAN, harmless=(False,)),
    "logit_bias": Field("drop", "Mistral has no logit bias", OBJECT, harmless=({},)),
    "modalities": Field("drop", "Mistral answers text only", ARRAY, harmless=(["text"],)),
    "audio": Field("drop", "Mistral's chat endpoint does not speak", OBJECT),
    "verbosity": Field("drop", "Mistral has no verbosity control", STRING, harmless=("medium",)),
    "web_search_options": Field("drop", "Mistral's web search is an agent tool, not a chat option", OBJECT),
    "moderation": Field("drop", "Mistral's guardrails take another shape; send them as guardrails", OBJECT),
    "prompt_cache_retention": Field("drop", "Mistral chooses how long its prompt cache lives", STRING),
    "prompt_cache_options": Field("drop", "Mistral chooses how its prompt cache works", OBJECT),
}

MISTRAL_ONLY = frozenset(ChatCompletionRequest.model_fields) - frozenset(FIELDS) - {"random_seed"}
"""Mistral's own fields that no OpenAI field produces (``safe_prompt``, ``prompt_mode``, ``guardrails``...):
a client that knows Mistral sends them through ``extra_body``, and they pass. ``random_seed`` is handled
with ``seed`` (and passes too); ``stream_options`` has its own row."""


# --- rules across fields ----------------------------------------------------------------------------------


def legacy_functions_first(draft: Draft, options: Options) -> None:
    """Legacy ``functions`` become tools, listed before the ``tools`` sent beside them."""
    legacy = draft.notes.get("legacy_tools")
    if legacy is None:
        return
    tools = draft.body.get("tools")
    if isinstance(legacy, list) and isinstance(tools, list):
        draft.body["tools"] = [*legacy, *tools]
    elif tools is None:
        draft.body["tools"] = legacy  # malformed functions: Mistral names them


def allowed_tools_narrow(draft: Draft, options: Options) -> None:
    """``tool_choice: {type: allowed_tools}`` keeps only the tools it names (Mistral has no such form)."""
    allowed = draft.notes.get("allowed_tools")
    tools = draft.body.get("tools")
    if allowed is not None and isinstance(tools, list):
        draft.body["tools"] = [
            tool
            for tool in tools
            if not isinstance(tool, dict) or (tool.get("function") or {}).get("name") in allowed
        ]


def empty_tools_omitted(draft: Draft, options: Options) -> None:
    """``tools: []`` is refused by Mistral (422, code 3001); no tools, no ``tool_choice`` (catalogue 10)."""
    if draft.body.get("tools") == []:
        del draft.body["tools"]
        draft.repair("empty-tools-omitted")
    if "tools" not in draft.body:
        draft.body.pop("tool_choice", None)


def messages_repaired(draft: Draft, options: Options) -> None:
    """The conversation, translated once the model is known (whether it accepts a user turn after a tool
    result depends on its family)."""
    if "messages" not in draft.notes:
        return
    model = draft.body.get("model")
    family = lookup(model) if isinstance(model, str) else None
    translated, repairs = message_translation.translate_messages(
        draft.notes["messages"], user_after_tool=family is not None and family.user_after_tool
    )
    draft.body["messages"] = translated
    draft.repairs[:0] = [name for name in repairs if name not in draft.repairs]


TABLE = Table(
    endpoint=ENDPOINT,
    fields=FIELDS,
    mistral_only={None: MISTRAL_ONLY | {"random_seed"}},
    rules=(
        ("legacy-functions-first", legacy_functions_first),
        ("allowed-tools-narrow", allowed_tools_narrow),
        ("empty-tools-omitted", empty_tools_omitted),
        ("messages-repaired", messages_repaired),
    ),
    unknown_reason="it is neither an OpenAI nor a Mistral chat parameter",
)


def context(draft: Draft) -> ChatContext:
    """What the answer's translation must know about the request."""
    return ChatContext(
        include_usage=bool(draft.notes.get("include_usage")),
        legacy_functions=bool(draft.notes.get("legacy_functions")),
    )


def translate_chat_request(body: Mapping[str, Any], options: Options) -> Translated:
    """The Mistral request for an OpenAI ``CreateChatCompletionRequest`` (``table.apply`` on ``TABLE``).

    Raises ``OpenAIError`` (400) for what cannot be honoured (custom tools, a non-integer seed) and, under
    ``unsupported="error"``, for OpenAI-only parameters.
    """
    draft = table.apply(TABLE, body, options)
    return Translated(draft.body, tuple(draft.dropped), context(draft), tuple(draft.repairs))
