"""Every field of OpenAI's ``CreateResponse`` and its fate, on the way to Mistral's chat endpoint.

The Responses API is translated onto Mistral's chat completions in two steps. The table below turns a
Responses request into an OpenAI *chat* request (input items into messages, ``text.format`` into
``response_format``, flat function tools into chat's, ``max_output_tokens`` into ``max_tokens``...), and
chat's own translation (``shim.translate.chat``) then makes that Mistral-acceptable, so every rule of chat
(ids, roles, schemas, sampling ranges, Mistral's own fields) holds here too without being repeated. A field
whose fate is the same as on chat (``user``, ``temperature``, ``service_tier``...) says so and leaves the
decision to chat's row.

What the Responses API adds and Mistral's chat lacks is decided here: ``store`` and ``previous_response_id``
are the shim's own store (``shim.store``), ``instructions`` a leading system turn (never inherited from a
previous response, OpenAI's rule), OpenAI's hosted tools are dropped and named (or refused under
``--unsupported error``: never silently ignored), and the objects OpenAI hosts and the shim does not keep
(``conversation``, ``prompt``) or the jobs it does not run (``background``) are refused with a 400 that says
what to do instead.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from mistral_wire.contract.catalogue import Family, lookup
from shim.translate import table
from shim.translate.chat import request as chat
from shim.translate.context import Options
from shim.translate.responses import items as item_translation
from shim.translate.responses.objects import ResponseContext
from shim.translate.table import (
    ANY,
    ARRAY,
    BOOLEAN,
    CHOICE,
    INTEGER,
    OBJECT,
    OMIT,
    STRING,
    TEXTS,
    Draft,
    Field,
    Table,
)

ENDPOINT = "responses"
PATH = chat.PATH
"""The Mistral endpoint the Responses API is translated onto (one seam: a native adapter would change it)."""

LOGPROBS: Final = "message.output_text.logprobs"

HOSTED_TOOLS: Final[dict[str, str]] = {
    "file_search": "OpenAI's vector stores",
    "web_search": "web search",
    "web_search_2025_08_26": "web search",
    "web_search_preview": "web search",
    "web_search_preview_2025_03_11": "web search",
    "computer": "computer use",
    "computer_use": "computer use",
    "computer_use_preview": "computer use",
    "code_interpreter": "a code interpreter",
    "image_generation": "image generation",
    "mcp": "remote MCP servers",
    "local_shell": "a shell tool",
    "shell": "a shell tool",
    "apply_patch": "a patch tool",
    "tool_search": "tool search",
    "programmatic_tool_calling": "programmatic tool calling",
}
"""OpenAI's hosted tools, none of which Mistral's chat API runs."""


# --- converters ---------------------------------------------------------------------------------------------


def _note(name: str) -> table.Converter:
    """A field the shim handles itself (the store, the items): noted for later, nothing sent as it is."""

    def convert(value: Any, draft: Draft, options: Options) -> Any:
        draft.notes[name] = value
        return OMIT

    return convert


def _hosted(kind: str, where: str, draft: Draft, options: Options) -> None:
    reason = f"Mistral's chat API has no hosted {HOSTED_TOOLS.get(kind, kind)} tool; define a function tool"
    table.unsupported(f"{where}.{kind}", reason, ENDPOINT, options, draft)


def _function(tool: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            key: tool[key] for key in ("name", "description", "parameters", "strict") if key in tool
        },
    }


def _tools(value: Any, draft: Draft, options: Options) -> Any:
    """Flat function tools as chat's; hosted tools dropped and named; echoed as the client sent them."""
    if not isinstance(value, list):
        return value
    kept: list[Any] = []
    echoed: list[dict[str, Any]] = []
    for tool in value:
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function" and isinstance(tool, dict):
            kept.append(_function(tool))
            echoed.append(
                {
                    "type": "function",
                    "name": tool.get("name"),
                    "description": tool.get("description"),
                    "parameters": tool.get("parameters"),
                    "strict": tool.get("strict"),
                }
            )
        elif kind in ("custom", "namespace"):
            raise table.refuse(
                f"{kind.capitalize()} tools are not supported by Mistral; "
                "define each function as a function tool.",
                "tools",
                "unsupported_value",
            )
        elif isinstance(kind, str):
            _hosted(kind, "tools", draft, options)
        else:
            kept.append(tool)  # malformed: chat's translation sends it, and Mistral names the problem
    draft.notes["tools"] = echoed
    return kept


def _tool_choice(value: Any, draft: Draft, options: Options) -> Any:
    """Every form of ``tool_choice`` as chat's: the strings, a named function, ``allowed_tools``."""
    draft.notes["tool_choice"] = value
    if not isinstance(value, dict):
        return value
    kind = value.get("type")
    if kind == "function":
        return {"type": "function", "function": {"name": value.get("name")}}
    if kind == "allowed_tools":
        names = [
            tool.get("name")
            for tool in value.get("tools") or []
            if isinstance(tool, dict) and tool.get("type") == "function"
        ]
        allowed = [{"type": "function", "function": {"name": name}} for name in names]
        return {
            "type": "allowed_tools",
            "allowed_tools": {"mode": value.get("mode") or "auto", "tools": allowed},
        }
    if kind == "custom":
        raise table.refuse("Custom tools are not supported by Mistral.", "tool_choice", "unsupported_value")
    if isinstance(kind, str):
        _hosted(kind, "tool_choice", draft, options)
        draft.notes["tool_choice"] = "auto"
        return OMIT
    return value


def _text(value: Any, draft: Draft, options: Options) -> Any:
    """``text.format`` (flat) as chat's ``response_format`` (wrapped); ``verbosity`` as on chat."""
    if not isinstance(value, dict):
        return value
    verbosity = value.get("verbosity")
    if verbosity is not None and verbosity != "medium":
        reason = chat.FIELDS["verbosity"].reason
        table.unsupported("text.verbosity", reason, ENDPOINT, options, draft)
    form = value.get("format")
    if not isinstance(form, dict) or form.get("type") == "text":
        return OMIT
    if form.get("type") == "json_schema":
        inner = {
            key: form[key] for key in ("name", "description", "schema", "strict") if form.get(key) is not None
        }
        return {"type": "json_schema", "json_schema": inner}
    return form


def _include(value: Any, draft: Draft, options: Options) -> Any:
    if isinstance(value, list) and LOGPROBS in value:
        draft.notes["logprobs"] = True
    return OMIT


def _top_logprobs(value: Any, draft: Draft, options: Options) -> Any:
    draft.notes["logprobs"] = True
    return value


def _like_chat(name: str) -> Field:
    """A field whose fate is chat's: sent under the same name, chat's row decides (a drop is made here)."""
    row = chat.FIELDS[name]
    return Field(row.fate, f"as on chat: {row.reason}", row.kinds, harmless=row.harmless)


# --- the table ----------------------------------------------------------------------------------------------

FIELDS: dict[str, Field] = {
    "model": chat.FIELDS["model"],
    "input": Field(
        "convert",
        "items become chat messages: messages, function calls and their outputs, reasoning, item references",
        TEXTS,
        convert=_note("input"),
    ),
    "instructions": Field(
        "convert",
        "a leading system turn, not inherited through previous_response_id",
        STRING,
        convert=_note("instructions"),
    ),
    "previous_response_id": Field(
        "convert",
        "the stored responses before it (inputs, then outputs, oldest first) become the history",
        STRING,
        convert=_note("previous_response_id"),
    ),
    "store": Field(
        "convert",
        "kept in the shim's store (--responses-store) for retrieval and previous_response_id; "
        "Mistral keeps nothing",
        BOOLEAN,
        convert=_note("store"),
    ),
    "stream": Field(
        "keep", "chat's stream; each chunk becomes the Responses API's events as it arrives", BOOLEAN
    ),
    "stream_options": Field(
        "convert",
        "accepted; no obfuscation padding is added to the events (usage always comes with the last one)",
        OBJECT,
        convert=_note("stream_options"),
    ),
    "background": Field(
        "reject",
        "background responses need a job queue the shim does not run; call without it (the client waits)",
        BOOLEAN,
        harmless=(False,),
    ),
    "conversation": Field(
        "reject",
        "conversations are objects OpenAI hosts; chain responses with previous_response_id instead",
        CHOICE,
    ),
    "prompt": Field(
        "reject", "prompt templates are objects OpenAI hosts; send the instructions and input instead", OBJECT
    ),
    "tools": Field(
        "convert",
        "function tools become chat's; OpenAI's hosted tools (web_search, file_search, ...) are dropped "
        "and named",
        ARRAY,
        convert=_tools,
    ),
    "tool_choice": Field(
        "convert",
        "every string, a named function and allowed_tools become chat's; a hosted tool is dropped and named",
        CHOICE,
        convert=_tool_choice,
    ),
    "parallel_tool_calls": _like_chat("parallel_tool_calls"),
    "max_tool_calls": Field(
        "convert",
        "honoured by the shim: calls beyond it are left out of the answer (0 asks for none)",
        INTEGER,
        convert=_note("max_tool_calls"),
    ),
    "max_output_tokens": Field(
        "rename", "Mistral's max_tokens, which counts the reasoning too", INTEGER, target="max_tokens"
    ),
    "temperature": _like_chat("temperature"),
    "top_p": _like_chat("top_p"),
    "top_logprobs": Field(
        "convert",
        "chat's top_logprobs, with logprobs asked for; they come back on output_text",
        INTEGER,
        convert=_top_logprobs,
        harmless=(0,),
    ),
    "include": Field(
        "convert",
        f"{LOGPROBS} asks Mistral for log probabilities; the other values concern hosted tools, "
        "which never run",
        ARRAY,
        convert=_include,
        harmless=([],),
    ),
    "text": Field(
        "convert",
        "format becomes response_format (json_schema, json_object); verbosity as on chat",
        OBJECT,
        target="response_format",
        convert=_text,
    ),
    "reasoning": Field(
        "convert",
        "effort becomes reasoning_effort on models that reason; Mistral does not summarise its reasoning",
        OBJECT,
        convert=_note("reasoning"),
    ),
    "truncation": Field(
        "convert",
        "'auto' drops the oldest items to fit the model's context (counted with Mistral's tokenizer)",
        STRING,
        convert=_note("truncation"),
        harmless=("disabled",),
    ),
    "metadata": Field("keep", "stored and echoed; Mistral accepts it on chat since 2025-12", OBJECT),
    "prompt_cache_key": _like_chat("prompt_cache_key"),
    "service_tier": _like_chat("service_tier"),
    "user": _like_chat("user"),
    "safety_identifier": _like_chat("safety_identifier"),
    "prompt_cache_retention": _like_chat("prompt_cache_retention"),
    "prompt_cache_options": _like_chat("prompt_cache_options"),
    "moderation": _like_chat("moderation"),
    "context_management": Field(
        "drop", "Mistral has no server-side compaction; truncation 'auto' keeps a long history in bounds", ANY
    ),
}


# --- rules across fields ------------------------------------------------------------------------------------


def family_of(draft: Draft) -> Family | None:
    model = draft.body.get("model")
    return lookup(model) if isinstance(model, str) else None


def reasoning_for_model(draft: Draft, options: Options) -> None:
    """``reasoning.effort`` becomes ``reasoning_effort`` on a model that reasons (or one the catalogue does
    not know, for Mistral to judge); elsewhere it is dropped and named, since Mistral refuses it there."""
    reasoning = draft.notes.get("reasoning")
    draft.notes["effort"] = None
    if not isinstance(reasoning, dict):
        return
    for key in ("summary", "generate_summary"):
        if reasoning.get(key) is not None:
            reason = "Mistral returns its reasoning as it is (reasoning_text content), never summarised"
            table.unsupported(f"reasoning.{key}", reason, ENDPOINT, options, draft)
    effort = reasoning.get("effort")
    if effort is None:
        return
    family = family_of(draft)
    if family is None or family.can("reasoning"):
        draft.put("reasoning_effort", effort)
        draft.notes["effort"] = effort
    elif effort != "none":
        reason = f"{draft.body.get('model')} does not reason (Mistral refuses reasoning_effort for it)"
        table.unsupported("reasoning.effort", reason, ENDPOINT, options, draft)


def logprobs_asked(draft: Draft, options: Options) -> None:
    """Log probabilities, asked for by ``include`` or ``top_logprobs``, are chat's ``logprobs``."""
    if draft.notes.get("logprobs"):
        draft.put("logprobs", True)


def no_calls_when_capped_at_zero(draft: Draft, options: Options) -> None:
    """``max_tool_calls: 0`` leaves no room for a call: the model is told to call none."""
    if draft.notes.get("max_tool_calls") == 0 and draft.body.get("tools"):
        draft.put("tool_choice", "none", precedence=2)
        draft.notes["tool_choice"] = "none"


TABLE = Table(
    endpoint=ENDPOINT,
    fields=FIELDS,
    mistral_only={None: chat.MISTRAL_ONLY | {"random_seed"}},
    rules=(
        ("reasoning-for-model", reasoning_for_model),
        ("logprobs-asked", logprobs_asked),
        ("no-calls-when-capped-at-zero", no_calls_when_capped_at_zero),
    ),
    unknown_reason="it is neither a Responses nor a Mistral parameter",
)


# --- the translation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponsesRequest:
    """A Responses request translated: the Mistral chat body, and what the answer and the store need."""

    body: dict[str, Any]
    context: ResponseContext
    # This request's own input items, as stored and listed (ids assigned, references resolved).
    input_items: list[dict[str, Any]] = field(default_factory=list)
    dropped: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    store: bool = True
    truncation: str = "disabled"
    stream: bool = False


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any, default: Any) -> Any:
    return value if table.is_number(value) else default


def _echo(body: Mapping[str, Any], draft: Draft, family: Family | None, options: Options) -> dict[str, Any]:
    """The Response's keys that say what was asked for (see ``objects.response``). A model asked for by its
    alias is answered as the alias (``aliased``), as chat answers are; the Mistral model is the header's."""
    requested = body.get("model")
    aliased = isinstance(requested, str) and requested in options.aliases
    given = body.get("text")
    text: Mapping[str, Any] = given if isinstance(given, dict) else {}
    form = text.get("format") if isinstance(text.get("format"), dict) else {"type": "text"}
    return {
        "instructions": body.get("instructions") if isinstance(body.get("instructions"), str) else None,
        "max_output_tokens": _int(body.get("max_output_tokens")),
        "max_tool_calls": _int(body.get("max_tool_calls")),
        "model": requested if aliased else draft.body.get("model"),
        "aliased": aliased,
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": draft.notes.get("effort"), "summary": None},
        "safety_identifier": body.get("safety_identifier"),
        "store": body.get("store") is not False,
        "temperature": _number(body.get("temperature"), family.temperature if family else None),
        "text": {"format": form, "verbosity": text.get("verbosity") or "medium"},
        "tool_choice": draft.notes.get("tool_choice") or "auto",
        "tools": draft.notes.get("tools") or [],
        "top_logprobs": _int(body.get("top_logprobs")),
        "top_p": _number(body.get("top_p"), 1.0),
        "truncation": body.get("truncation") or "disabled",
        "user": body.get("user") if isinstance(body.get("user"), str) else None,
        "metadata": body.get("metadata") if isinstance(body.get("metadata"), dict) else {},
    }


def conversation(
    body: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]] = (),
    found: Mapping[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every item the model reads, oldest first: the stored chain's, then this request's (references
    replaced by the items they name)."""
    own = item_translation.resolve(item_translation.parse_input(body.get("input")), found or {})
    return [*(dict(item) for item in history), *own]


def translate_request(
    body: Mapping[str, Any],
    options: Options,
    *,
    response_id: str,
    created_at: int,
    history: Sequence[Mapping[str, Any]] = (),
    found: Mapping[str, dict[str, Any]] | None = None,
    drop_first: int = 0,
) -> ResponsesRequest:
    """The Mistral chat request for a ``CreateResponse`` body.

    ``history`` holds the items of the stored chain behind ``previous_response_id`` (oldest first), ``found``
    the stored items the input's ``item_reference``\\ s name. ``drop_first`` leaves out that many of the
    oldest items of history and input together (``truncation: "auto"``). Raises ``OpenAIError`` (400) for
    what cannot be honoured and, under ``unsupported="error"``, for what Mistral has no use for.
    """
    table.check_types(TABLE, body)
    draft = table.apply(TABLE, body, options)
    family = family_of(draft)
    own = item_translation.resolve(item_translation.parse_input(body.get("input")), found or {})
    every = [*(dict(item) for item in history), *own][drop_first:]
    effort = draft.notes.get("effort")
    keep_thinking = family is not None and family.can("reasoning") and effort not in (None, "none")
    instructions = body.get("instructions") if isinstance(body.get("instructions"), str) else None
    messages, item_repairs = item_translation.to_messages(
        every, instructions=instructions, keep_thinking=keep_thinking
    )
    translated = chat.translate_chat_request({**draft.body, "messages": messages}, options)
    context = ResponseContext(
        response_id=response_id,
        created_at=created_at,
        echo=_echo(body, draft, family, options),
        logprobs=bool(draft.notes.get("logprobs")),
        max_tool_calls=_int(draft.notes.get("max_tool_calls")),
    )
    repairs = [*draft.repairs, *item_repairs, *translated.repairs]
    return ResponsesRequest(
        body=translated.body,
        context=context,
        input_items=item_translation.stored(own, response_id),
        dropped=(*draft.dropped, *translated.dropped),
        repairs=tuple(dict.fromkeys(repairs)),
        store=body.get("store") is not False,
        truncation=str(body.get("truncation") or "disabled"),
        stream=body.get("stream") is True,
    )
