"""The translation tables' one row type and one interpreter, for every endpoint the shim translates.

Each endpoint (chat, legacy completions, embeddings, and the Responses API and batch lines on top of chat)
is a ``Table``: one ``Field`` row per OpenAI request field, saying what happens to it on its way to Mistral
and why, its JSON type in OpenAI's schema, the Mistral field it becomes, the converter that rewrites it,
OpenAI's defaults that change nothing, which field wins when two become the same Mistral field, and how
its fate differs on another route (legacy completions go to fill-in-the-middle or to chat). What no row can
say, a rule across fields says, by name. ``apply(table, body, options)`` is the only code that walks a
body: adding a field is adding a row, and the README's tables are rendered from the rows.

Mistral answers any key it does not know with a 422, so nothing is forwarded by default: a field reaches
Mistral through its row, or because it is Mistral's own (``Table.mistral_only``, derived from the contract
models in ``mistral_wire``: a client that knows Mistral sends ``safe_prompt`` or ``random_seed`` through
``extra_body``, and they pass). Converters repair what they recognise and pass on what they do not: a
value of an unexpected shape reaches Mistral, whose 422 names the field to the client.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Final, Literal

from mistral_wire.contract import limits
from shim.translate.context import Options
from shim.translate.models import resolve_model
from shim.translate.problem import OpenAIError

Fate = Literal["keep", "rename", "convert", "drop", "reject", "route"]
"""keep: sent as is. rename: sent under Mistral's name. convert: rewritten (see the row's reason). drop:
Mistral has no equivalent; removed and named, or refused under ``--unsupported error``. reject: cannot be
honoured and cannot be ignored either; always a 400. route: chooses the Mistral endpoint, and is converted
for it."""

Kind = Literal["string", "integer", "number", "boolean", "object", "array"]
"""A JSON type as OpenAI's schema names it; an integral number is an integer."""

STRING: Final[tuple[Kind, ...]] = ("string",)
INTEGER: Final[tuple[Kind, ...]] = ("integer",)
NUMBER: Final[tuple[Kind, ...]] = ("number",)
BOOLEAN: Final[tuple[Kind, ...]] = ("boolean",)
OBJECT: Final[tuple[Kind, ...]] = ("object",)
ARRAY: Final[tuple[Kind, ...]] = ("array",)
TEXTS: Final[tuple[Kind, ...]] = ("string", "array")
CHOICE: Final[tuple[Kind, ...]] = ("object", "string")
ANY: Final[tuple[Kind, ...]] = ("string", "integer", "number", "boolean", "object", "array")


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT: Final = _Omit()
"""What a converter returns to send nothing for its field (it may have noted something for a rule)."""

MISTRAL_PRECEDENCE = -1
"""Mistral's own fields, passed through, lose to any OpenAI field translated onto the same name."""


@dataclass
class Draft:
    """The Mistral body being built, and what converting one field tells the rules and the answer."""

    route: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    # Facts for rules and for the answer's translation (include_usage, legacy_functions, ...).
    notes: dict[str, Any] = field(default_factory=dict)
    _owners: dict[str, int] = field(default_factory=dict)

    def put(self, target: str, value: Any, precedence: int = 0) -> None:
        """Set a Mistral field unless a field of higher precedence already set it."""
        if self._owners.get(target, MISTRAL_PRECEDENCE - 1) > precedence:
            return
        self._owners[target] = precedence
        self.body[target] = value

    def repair(self, name: str) -> None:
        if name not in self.repairs:
            self.repairs.append(name)


Converter = Callable[[Any, Draft, Options], Any]
"""``(value, draft, options) -> the value for the row's target``, or ``OMIT``."""


@dataclass(frozen=True)
class Field:
    """The fate of one OpenAI request field."""

    fate: Fate
    reason: str
    kinds: tuple[Kind, ...]
    target: str | None = None  # the Mistral field; the OpenAI name when None
    convert: Converter | None = None
    # OpenAI's defaults: sending one changes nothing, so it is removed silently, never named or refused.
    # (An explicit null is always treated as absent.)
    harmless: tuple[Any, ...] = ()
    precedence: int = 0
    required: bool = False
    # The row on another route, where the field's fate differs (legacy completions on FIM).
    routes: Mapping[str, "Field"] = field(default_factory=dict)

    def on(self, route: str | None) -> "Field":
        return self.routes.get(route, self) if route is not None else self

    def is_harmless(self, value: Any) -> bool:
        """Whether ``value`` is one of OpenAI's defaults, in value and type (``echo: 0`` is not ``False``)."""
        return any(value == default and type(value) is type(default) for default in self.harmless)

    def varied(self, route: str, **changes: Any) -> "Field":
        """This row, with its fate on ``route`` changed (``keep``, but ``drop`` on FIM)."""
        return replace(self, routes={**self.routes, route: replace(self, routes={}, **changes)})


Rule = Callable[[Draft, Options], None]
Router = Callable[[Mapping[str, Any], Options], str]


@dataclass(frozen=True)
class Table:
    """One endpoint's rows, the Mistral fields that pass unchanged, and the rules across fields."""

    endpoint: str  # as the client reads it in a refusal: "chat completions"
    fields: Mapping[str, Field]
    # Mistral's own fields that no OpenAI field produces, per route (None: the only route).
    mistral_only: Mapping[str | None, frozenset[str]]
    # Named rules, run in order after every field was converted.
    rules: tuple[tuple[str, Rule], ...] = ()
    # Chooses the route before any field is converted (legacy completions: FIM or chat).
    router: Router | None = None
    # How a refusal names the endpoint of each route ("fill-in-the-middle"); ``endpoint`` otherwise.
    route_names: Mapping[str, str] = field(default_factory=dict)
    unknown_reason: str = "it is neither an OpenAI nor a Mistral parameter"

    def passes(self, key: str, route: str | None) -> bool:
        return key in self.mistral_only.get(route, frozenset())

    @cached_property
    def required(self) -> tuple[str, ...]:
        """The fields a request must carry, found once: ``apply`` checks them on every request."""
        return tuple(key for key, row in self.fields.items() if row.required)


# --- the interpreter ---------------------------------------------------------------------------------------


def refuse(message: str, param: str | None, code: str | None = None) -> OpenAIError:
    """OpenAI's 400 for a request the shim cannot send."""
    return OpenAIError(400, message, param=param, code=code)


def unsupported(key: str, reason: str, endpoint: str, options: Options, draft: Draft) -> None:
    """Drop ``key`` and name it (in ``x-shim-dropped-params``), or refuse it under ``--unsupported error``."""
    if options.unsupported == "error":
        message = f"{key} is not supported by Mistral's {endpoint} endpoint: {reason}."
        raise refuse(message, key, "unsupported_parameter")
    draft.dropped.append(key)


def apply(table: Table, body: Mapping[str, Any], options: Options) -> Draft:
    """The Mistral request for an OpenAI request ``body``, by ``table``'s rows and rules.

    In order: required fields, the route, every field in the client's order, then the rules. Raises
    ``OpenAIError`` (400) for what cannot be honoured and, under ``unsupported="error"``, for fields Mistral
    has no use for. OpenAI's types are ``check_types``'s, which a request from a client passes first.
    """
    for key in table.required:
        if body.get(key) is None:
            raise refuse(f"you must provide a {key} parameter.", key)
    draft = Draft(route=table.router(body, options) if table.router is not None else None)
    for key, value in body.items():
        row = table.fields.get(key)
        if row is None:
            if table.passes(key, draft.route):
                draft.put(key, value, MISTRAL_PRECEDENCE)
            else:
                unsupported(key, table.unknown_reason, _endpoint(table, draft), options, draft)
            continue
        row = row.on(draft.route)
        if value is None or row.is_harmless(value):
            continue
        if row.fate == "drop":
            unsupported(key, row.reason, _endpoint(table, draft), options, draft)
        elif row.fate == "reject":
            raise refuse(f"{key} cannot be honoured: {row.reason}.", key, "unsupported_parameter")
        else:
            converted = row.convert(value, draft, options) if row.convert is not None else value
            if converted is not OMIT:
                draft.put(row.target or key, converted, row.precedence)
    for _name, rule in table.rules:
        rule(draft, options)
    return draft


def _endpoint(table: Table, draft: Draft) -> str:
    return table.route_names.get(draft.route, table.endpoint) if draft.route else table.endpoint


# --- OpenAI's types ----------------------------------------------------------------------------------------

_KIND_NAMES: dict[Kind, str] = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
}


def kind_of(value: Any) -> Kind | Literal["null"]:
    """The JSON type of a parsed value; an integral number is an integer, as JSON Schema has it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _accepts(kinds: tuple[Kind, ...], kind: str) -> bool:
    return kind in kinds or (kind == "integer" and "number" in kinds)


def check_types(table: Table, body: Mapping[str, Any]) -> None:
    """OpenAI's 400 ``invalid_type`` for the first field whose value has a type OpenAI refuses.

    OpenAI refuses ``"temperature": "0.5"`` or ``"stream": "true"``; Mistral's pydantic models would coerce
    both and answer, and the shim, which picks a JSON answer or a stream by ``stream is True``, must not
    guess either. Only the top level is checked, and ``null`` always passes (it is treated as absent).
    """
    for name, value in body.items():
        row = table.fields.get(name)
        kind = kind_of(value)
        if row is None or kind == "null":
            continue
        if not _accepts(row.kinds, kind):
            expected = " or ".join(_KIND_NAMES[k] for k in row.kinds)
            got = "a decimal number" if kind == "number" else _KIND_NAMES[kind]
            raise OpenAIError(
                400,
                f"Invalid type for '{name}': expected {expected}, but got {got} instead.",
                param=name,
                code="invalid_type",
            )


# --- conversions several tables share --------------------------------------------------------------------

MIN_TOP_P = 1e-9
"""Mistral wants ``top_p`` > 0; OpenAI's ``top_p: 0`` means "only the most likely token", which a tiny
positive nucleus also means."""

SEED_MASK = 0xFFFFFFFF
"""OpenAI seeds are signed 64-bit; Mistral's ``random_seed`` must be >= 0. A negative seed keeps its low
32 bits (two's complement), so -1 becomes 4294967295: deterministic, and distinct seeds in the usual
32-bit range stay distinct."""


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def model(value: Any, draft: Draft, options: Options) -> Any:
    """A configured alias resolves to its Mistral model (one level: an alias never names another)."""
    return resolve_model(value, options.aliases) if isinstance(value, str) else value


def temperature(value: Any, draft: Draft, options: Options) -> Any:
    """OpenAI's temperature (up to 2) clamped to Mistral's ceiling: both mean "as random as allowed"."""
    return min(value, limits.TEMPERATURE_MAX) if is_number(value) else value


def top_p(value: Any, draft: Draft, options: Options) -> Any:
    return MIN_TOP_P if is_number(value) and value == 0 else value


def random_seed(value: Any, draft: Draft, options: Options) -> int:
    """Mistral's ``random_seed`` for OpenAI's ``seed`` (see ``SEED_MASK``)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise refuse("seed must be an integer.", "seed", "invalid_type")
    return value & SEED_MASK if value < 0 else value


def include_usage(value: Any, draft: Draft, options: Options) -> Any:
    """``stream_options``: Mistral refuses it (422); ``include_usage`` is honoured by the shim instead."""
    draft.notes["include_usage"] = isinstance(value, dict) and bool(value.get("include_usage"))
    return OMIT
