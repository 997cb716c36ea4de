"""A JSON value that validates against a JSON schema: tool-call arguments and structured outputs.

Deterministic for a given seed. Property names steer the values (``city`` gets a city, ``email`` an
address), and words the user wrote are reused where a name or place is expected, so arguments look like
what a model would extract from the conversation.
"""

import random
import re
from datetime import date, datetime, timedelta
from typing import Any

from faker import Faker

_FAKE = Faker("en_US")
_MAX_DEPTH = 6

_PLACE_HINTS = ("city", "location", "place", "town", "destination", "origin", "country", "region", "address")
_NAME_HINTS = ("name", "person", "user", "author", "customer")


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 16:
        ref = schema["$ref"]
        target: Any = root
        if ref.startswith("#"):
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
        self.proper = [w for w in re.findall(r"\b[A-Z][a-zA-Z\-]{2,}\b", context) if w.lower() not in _COMMON]
        _FAKE.seed_instance(seed)

    def value(self, schema: Any, name: str = "", depth: int = 0) -> Any:
        schema = _resolve(schema, self.root)
        if schema is True or not isinstance(schema, dict) or not schema:
            return self._string(name, {})
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.rng.choice(schema["enum"])
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                part = _resolve(part, self.root)
                if isinstance(part, dict):
                    for key, val in part.items():
                        if key in ("properties",) and key in merged:
                            merged[key] = {**merged[key], **val}
                        elif key == "required" and key in merged:
                            merged[key] = [*merged[key], *val]
                        else:
                            merged[key] = val
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.value({**merged, **rest}, name, depth)
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                options = [o for o in schema[key] if _resolve(o, self.root) not in ({"type": "null"},)]
                option = options[0] if options else schema[key][0]
                rest = {k: v for k, v in schema.items() if k != key}
                return self.value({**rest, **_resolve(option, self.root)}, name, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        if depth >= _MAX_DEPTH and kind in ("object", "array"):
            return {} if kind == "object" else []
        return getattr(self, f"_{kind}", self._string)(name, schema, depth)

    def _object(self, name: str, schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        out: dict[str, Any] = {}
        for key, sub in properties.items():
            if key in required or self._known(key) or self.rng.random() < 0.5:
                out[key] = self.value(sub, key, depth + 1)
        for key in required - out.keys():
            out[key] = self._string(key, {})
        minimum = schema.get("minProperties", 0)
        extra = schema.get("additionalProperties", True)
        index = 0
        while len(out) < minimum and extra is not False:
            out[f"field_{index}"] = self.value(extra if isinstance(extra, dict) else {}, "", depth + 1)
            index += 1
        return out

    def _known(self, name: str) -> bool:
        """Whether the conversation says what this property should hold (a place or a name it mentions)."""
        lowered = name.lower()
        return bool(self.proper) and any(hint in lowered for hint in (*_PLACE_HINTS, *_NAME_HINTS))

    def _array(self, name: str, schema: dict[str, Any], depth: int = 0) -> list[Any]:
        low = schema.get("minItems", 1)
        high = schema.get("maxItems", max(low, 3))
        count = self.rng.randint(low, max(low, min(high, low + 2)))
        prefix = schema.get("prefixItems") or []
        items = schema.get("items", {})
        out = [self.value(sub, name, depth + 1) for sub in prefix[:count]]
        while len(out) < count:
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
        step = schema.get("multipleOf")
        if step:
            value = round(round(value / step) * step, 10)
        return min(max(value, low), high)

    def _integer(self, name: str, schema: dict[str, Any], depth: int = 0) -> int:
        low, high = self._bounds(schema, 1, 100)
        low_i, high_i = int(-(-low // 1)), int(high // 1)
        if low_i > high_i:
            return low_i
        value = self.rng.randint(low_i, high_i)
        step = schema.get("multipleOf")
        if step and isinstance(step, int) and step > 0:
            value = value - value % step
            if value < low:
                value += step
        return value

    def _bounds(self, schema: dict[str, Any], low: float, high: float) -> tuple[float, float]:
        low = schema.get("minimum", low)
        high = schema.get("maximum", max(high, low + 1))
        exclusive_low = schema.get("exclusiveMinimum")
        exclusive_high = schema.get("exclusiveMaximum")
        if isinstance(exclusive_low, int | float) and not isinstance(exclusive_low, bool):
            low = exclusive_low + 1
        if isinstance(exclusive_high, int | float) and not isinstance(exclusive_high, bool):
            high = exclusive_high - 1
        if high < low:
            high = low
        return low, high

    def _boolean(self, name: str, schema: dict[str, Any], depth: int = 0) -> bool:
        return self.rng.random() < 0.5

    def _null(self, name: str, schema: dict[str, Any], depth: int = 0) -> None:
        return None

    def _string(self, name: str, schema: dict[str, Any], depth: int = 0) -> str:
        value = self._hinted(name.lower(), schema.get("format"))
        low = schema.get("minLength", 0)
        high = schema.get("maxLength")
        if len(value) < low:
            value = value + "x" * (low - len(value))
        if high is not None and len(value) > high:
            value = value[:high]
        pattern = schema.get("pattern")
        if pattern and not re.search(pattern, value):
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


def _string_for_pattern(pattern: str, fallback: str, seed: int = 0) -> str:
    """A string matching ``pattern``, built from Python's own parse of the regular expression."""
    try:
        tree = re._parser.parse(pattern)  # type: ignore[attr-defined]
        candidate = _from_tree(tree, random.Random(seed))
    except Exception:
        return fallback
    return candidate if re.search(pattern, candidate) else fallback


_CATEGORIES = {
    "CATEGORY_DIGIT": "0123456789",
    "CATEGORY_WORD": "abcdefghijklmnopqrstuvwxyz0123456789",
    "CATEGORY_SPACE": " ",
}


def _from_tree(tree: Any, rng: random.Random) -> str:
    out = []
    for op, arg in tree:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_from_class(arg, rng))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            high = low + 2 if high > low + 2 else high
            out.extend(_from_tree(sub, rng) for _ in range(rng.randint(low, max(low, high))))
        elif name == "SUBPATTERN":
            out.append(_from_tree(arg[-1], rng))
        elif name == "BRANCH":
            out.append(_from_tree(arg[1][0], rng))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
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
