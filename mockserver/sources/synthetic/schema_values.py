"""A JSON value that validates against a JSON schema: tool-call arguments and structured outputs.

Deterministic for a given seed. Property names steer the values (``city`` gets a city, ``email`` an
address), and words the user wrote are reused where a name or place is expected, so arguments look like
what a model would extract from the conversation.

The schema comes from the client, and structured-output schemas are not validated against a metaschema
before they get here, so every keyword is read defensively: a keyword of the wrong type (``"minItems":
"3"``, ``"properties": []``, ``"pattern": "("``) is ignored, as a lenient grammar compiler would, and sizes
are capped (``"minItems": 10**9`` gets ``MAX_ITEMS`` items; at most ``MAX_VALUES`` values in all, and
combinators and references are followed ``MAX_HOPS`` deep), as a real model stops at its token limit. A
bad schema must never cost the mock a 500 or a hung event loop. Well-formed schemas of sensible size are
unaffected: the caps are far above what a model would write.
"""

import contextlib
import math
import random
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, overload

from faker import Faker

_FAKE = Faker("en_US")
_MAX_DEPTH = 6
MAX_ITEMS = 256
MAX_LENGTH = 8192
MAX_VALUES = 4096
MAX_HOPS = 32
D = TypeVar("D")


def _int(schema: dict[str, Any], key: str, default: D) -> int | D:
    """An integer keyword, or ``default`` where it is absent or not an integer."""
    value = schema.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@overload
def _size(schema: dict[str, Any], key: str, default: int, cap: int) -> int: ...
@overload
def _size(schema: dict[str, Any], key: str, default: None, cap: int) -> int | None: ...
def _size(schema: dict[str, Any], key: str, default: int | None, cap: int) -> int | None:
    """A size keyword (``minItems``, ``maxLength``), non-negative and capped."""
    value = _int(schema, key, default)
    return None if value is None else min(max(value, 0), cap)


def _number(schema: dict[str, Any], key: str) -> float | None:
    """A numeric keyword that is a finite number, else None."""
    value = schema.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return value if math.isfinite(value) else None
    except OverflowError:  # an integer too large for a float
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


_PLACE_HINTS = ("city", "location", "place", "town", "destination", "origin", "country", "region", "address")
_NAME_HINTS = ("name", "person", "user", "author", "customer")


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 16:
        ref = schema["$ref"]
        target: Any = root
        if isinstance(ref, str) and ref.startswith("#"):
            for part in ref.lstrip("#/").split("/"):
                if not part:
                    continue
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part, {}) if isinstance(target, dict) else {}
        else:
            target = {}
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **rest} if isinstance(target, dict) else rest
        seen += 1
    return schema


class _Generator:
    def __init__(self, seed: int, root: dict[str, Any], context: str) -> None:
        self.rng = random.Random(seed)
        self.root = root
        # Capitalised words the user wrote, the likeliest values for names and places.
        self.proper: list[str] = [
            w for w in re.findall(r"\b[A-Z][a-zA-Z\-]{2,}\b", context) if w.lower() not in _COMMON
        ]
        _FAKE.seed_instance(seed)
        # Values made so far, and combinators or references being followed (see the module docstring).
        self.made = 0
        self.hops = 0

    @property
    def spent(self) -> bool:
        return self.made >= MAX_VALUES

    def value(self, schema: Any, name: str = "", depth: int = 0) -> Any:
        self.made += 1
        schema = _resolve(schema, self.root)
        if schema is True or not isinstance(schema, dict) or not schema or self.hops >= MAX_HOPS:
            return self._string(name, {})
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if enum and isinstance(enum, list):
            return self.rng.choice(enum)
        for key in ("allOf", "anyOf", "oneOf"):
            if schema.get(key) and isinstance(schema[key], list):
                self.hops += 1
                try:
                    return self.value(_COMBINE[key](self, schema), name, depth)
                finally:
                    self.hops -= 1
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        if depth >= _MAX_DEPTH and kind in ("object", "array"):
            return {} if kind == "object" else []
        make = _KINDS.get(kind, _Generator._string) if isinstance(kind, str) else _Generator._string
        return make(self, name, schema, depth)

    def _all_of(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The ``allOf`` parts merged into one schema (properties and required lists joined)."""
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part = _resolve(part, self.root)
            if isinstance(part, dict):
                for key, val in part.items():
                    if key == "properties" and key in merged:
                        merged[key] = {**_dict(merged[key]), **_dict(val)}
                    elif key == "required" and key in merged:
                        merged[key] = [*_list(merged[key]), *_list(val)]
                    else:
                        merged[key] = val
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return {**merged, **rest}

    def _one_option(self, schema: dict[str, Any], key: str) -> dict[str, Any]:
        """The schema with ``anyOf``/``oneOf`` replaced by its first option that is not null."""
        options = [o for o in schema[key] if _resolve(o, self.root) not in ({"type": "null"},)]
        option = _resolve(options[0] if options else schema[key][0], self.root)
        rest = {k: v for k, v in schema.items() if k != key}
        return {**rest, **option} if isinstance(option, dict) else rest

    def _object(self, name: str, schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        properties = _dict(schema.get("properties"))
        # In the schema's order (a set's order changes from one process to the next).
        required = list(dict.fromkeys(k for k in _list(schema.get("required")) if isinstance(k, str)))
        out: dict[str, Any] = {}
        for key, sub in properties.items():
            if self.spent:
                break
            if key in required or self._known(key) or self.rng.random() < 0.5:
                out[key] = self.value(sub, key, depth + 1)
        for key in required:
            if key not in out:
                out[key] = self._string(key, {})
        minimum = _size(schema, "minProperties", 0, MAX_ITEMS)
        extra = schema.get("additionalProperties", True)
        index = 0
        while len(out) < minimum and extra is not False and not self.spent:
            out[f"field_{index}"] = self.value(extra if isinstance(extra, dict) else {}, "", depth + 1)
            index += 1
        return out

    def _known(self, name: str) -> bool:
        """Whether the conversation says what this property should hold (a place or a name it mentions)."""
        lowered = name.lower()
        return bool(self.proper) and any(hint in lowered for hint in (*_PLACE_HINTS, *_NAME_HINTS))

    def _array(self, name: str, schema: dict[str, Any], depth: int = 0) -> list[Any]:
        low = _size(schema, "minItems", 1, MAX_ITEMS)
        high = _size(schema, "maxItems", max(low, 3), MAX_ITEMS)
        count = self.rng.randint(low, max(low, min(high, low + 2)))
        prefix = _list(schema.get("prefixItems"))
        items = schema.get("items", {})
        out = [self.value(sub, name, depth + 1) for sub in prefix[:count]]
        while len(out) < count and not self.spent:
            out.append(self.value(items if isinstance(items, dict) else {}, name.rstrip("s"), depth + 1))
        if schema.get("uniqueItems"):
            unique: list[Any] = []
            for item in out:
                if item not in unique:
                    unique.append(item)
            out = unique
        return out

    def _number(self, name: str, schema: dict[str, Any], depth: int = 0) -> float:
        low, high = self._bounds(schema, 0.0, 100.0)
        value = round(self.rng.uniform(low, high), 2)
        step = _number(schema, "multipleOf")
        if step:
            # A step so small that the quotient is infinite is ignored.
            with contextlib.suppress(OverflowError):
                value = round(round(value / step) * step, 10)
        return min(max(value, low), high)

    def _integer(self, name: str, schema: dict[str, Any], depth: int = 0) -> int:
        low, high = self._bounds(schema, 1, 100)
        low_i, high_i = int(-(-low // 1)), int(high // 1)
        if low_i > high_i:
            return low_i
        value = self.rng.randint(low_i, high_i)
        step = _int(schema, "multipleOf", None)
        if step and step > 0:
            value = value - value % step
            if value < low:
                value += step
        return value

    def _bounds(self, schema: dict[str, Any], low: float, high: float) -> tuple[float, float]:
        minimum, maximum = _number(schema, "minimum"), _number(schema, "maximum")
        low = low if minimum is None else minimum
        high = max(high, low + 1) if maximum is None else maximum
        exclusive_low = _number(schema, "exclusiveMinimum")
        exclusive_high = _number(schema, "exclusiveMaximum")
        if exclusive_low is not None:
            low = exclusive_low + 1
        if exclusive_high is not None:
            high = exclusive_high - 1
        if high < low:
            high = low
        return low, high

    def _boolean(self, name: str, schema: dict[str, Any], depth: int = 0) -> bool:
        return self.rng.random() < 0.5

    def _null(self, name: str, schema: dict[str, Any], depth: int = 0) -> None:
        return None

    def _string(self, name: str, schema: dict[str, Any], depth: int = 0) -> str:
        fmt = schema.get("format")
        value = self._hinted(name.lower(), fmt if isinstance(fmt, str) else None)
        low = _size(schema, "minLength", 0, MAX_LENGTH)
        high = _size(schema, "maxLength", None, MAX_LENGTH)
        if len(value) < low:
            value = value + "x" * (low - len(value))
        if high is not None and len(value) > high:
            value = value[:high]
        pattern = schema.get("pattern")
        if pattern and isinstance(pattern, str) and not _matches(pattern, value):
            value = _string_for_pattern(pattern, value, self.rng.randrange(1 << 30))
        return value

    def _hinted(self, name: str, fmt: str | None) -> str:
        base = date(2026, 1, 1) + timedelta(days=self.rng.randrange(365))
        if fmt == "date":
            return base.isoformat()
        if fmt == "date-time":
            return datetime(base.year, base.month, base.day, self.rng.randrange(24), 0).isoformat() + "Z"
        if fmt == "time":
            return f"{self.rng.randrange(24):02d}:{self.rng.randrange(60):02d}:00"
        if fmt == "email" or "email" in name:
            return _FAKE.email()
        if fmt in ("uri", "url") or name.endswith("url") or name == "link":
            return _FAKE.url()
        if fmt == "uuid" or (name.endswith("_id") and fmt == "uuid"):
            return str(_FAKE.uuid4())
        if fmt == "ipv4":
            return _FAKE.ipv4()
        if any(h in name for h in _PLACE_HINTS):
            if self.proper:
                return self.proper[0]
            return _FAKE.country() if "country" in name else _FAKE.city()
        if any(h in name for h in _NAME_HINTS):
            return self.proper[0] if self.proper else _FAKE.name()
        if "date" in name or "day" in name:
            return base.isoformat()
        if "unit" in name:
            return "celsius"
        if "query" in name or "search" in name or "question" in name or "text" in name:
            return " ".join(_FAKE.words(3))
        if name in ("id", "key") or name.endswith("_id"):
            return _FAKE.bothify("??######").lower()
        return _FAKE.word()


_KINDS = {
    "object": _Generator._object,
    "array": _Generator._array,
    "number": _Generator._number,
    "integer": _Generator._integer,
    "boolean": _Generator._boolean,
    "null": _Generator._null,
    "string": _Generator._string,
}
_COMBINE: dict[str, Callable[[_Generator, dict[str, Any]], dict[str, Any]]] = {
    "allOf": _Generator._all_of,
    "anyOf": lambda generator, schema: generator._one_option(schema, "anyOf"),
    "oneOf": lambda generator, schema: generator._one_option(schema, "oneOf"),
}


def _matches(pattern: str, value: str) -> bool:
    """Whether ``value`` matches; a pattern Python cannot compile matches nothing."""
    try:
        return re.search(pattern, value) is not None
    except (re.error, RecursionError, OverflowError):
        return False


def _string_for_pattern(pattern: str, fallback: str, seed: int = 0) -> str:
    """A string matching ``pattern``, built from Python's own parse of the regular expression."""
    try:
        tree = re._parser.parse(pattern)  # type: ignore[attr-defined]  # typeshed has no stub for re._parser
        candidate = _from_tree(tree, random.Random(seed))
    except Exception:
        return fallback
    return candidate if _matches(pattern, candidate) else fallback


_CATEGORIES = {
    "CATEGORY_DIGIT": "0123456789",
    "CATEGORY_WORD": "abcdefghijklmnopqrstuvwxyz0123456789",
    "CATEGORY_SPACE": " ",
}


class _TooLong(Exception):
    """A pattern whose shortest match is longer than any string the mock will write."""


def _from_tree(tree: Any, rng: random.Random, left: list[int] | None = None) -> str:
    # ``left``: characters the whole candidate may still take, shared by the recursive calls.
    left = [MAX_LENGTH] if left is None else left
    out: list[str] = []
    for op, arg in tree:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            high = low + 2 if high > low + 2 else high
            count = rng.randint(low, max(low, high))
            if count > left[0]:
                raise _TooLong
            out.extend(_from_tree(sub, rng, left) for _ in range(count))
            continue
        if name == "SUBPATTERN":
            out.append(_from_tree(arg[-1], rng, left))
            continue
        if name == "BRANCH":
            out.append(_from_tree(arg[1][0], rng, left))
            continue
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_from_class(arg, rng))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
        else:
            continue
        left[0] -= 1
        if left[0] < 0:
            raise _TooLong
    return "".join(out)


def _from_class(items: Any, rng: random.Random) -> str:
    choices: list[str] = []
    negate = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            choices.append(chr(arg))
        elif name == "RANGE":
            choices.extend(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 25) + 1))
        elif name == "CATEGORY":
            choices.extend(_CATEGORIES.get(str(arg), "a"))
    if negate:
        allowed = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789" if c not in choices]
        return allowed[0] if allowed else "_"
    return rng.choice(choices) if choices else "a"


_COMMON = frozenset(
    """what the please can could would use call tell give how when where why who which and get find show
    make help hello thanks i'm is""".split()
)


def generate(schema: dict[str, Any], seed: int, context: str = "") -> Any:
    """A value valid against ``schema`` (JSON Schema draft 7 / 2020-12, common keywords)."""
    return _Generator(seed, schema if isinstance(schema, dict) else {}, context).value(schema)
