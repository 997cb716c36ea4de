"""Which recording answers a request: a key from method, path, query and canonical body.

Key order, whitespace and equal numbers (1 and 1.0) do not change the key, and neither do fields sent with
the value Mistral would assume anyway (``"stream": false``, a tool's ``"type": "function"``), at any
depth: Mistral's SDK adds some of those and other clients do not. The defaults come from the contract
models. ``--ignore-field`` paths (dotted, ``*`` for any key or index) are left out, for volatile fields. On
a miss, ``differences`` says what differs from the closest recording.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from functools import cache
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel

from mockserver.recording.format import Body
from mockserver.validation import MODELS as CONTRACTS

# A message's role says what it is; it is kept even where the contract gives it a default.
DISCRIMINATORS = frozenset({"role"})
Tree = dict[str, Any]


def _merge(a: Tree, b: Tree) -> Tree:
    out = dict(a)
    for key, value in b.items():
        if key == "" and "" in out:
            # Where union members disagree (a chunk's ``type``), the first member's default is the one the
            # spec applies to an object without the key.
            out[""] = {**value, **out[""]}
        elif key in out and key != "":
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _annotation_tree(annotation: Any) -> Tree:
    """Defaults by position for whatever an annotation may hold: models, lists of them, unions."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_tree(annotation)
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin in (list, tuple):
        child = _annotation_tree(arguments[0]) if arguments else {}
        return {"*": child} if child else {}
    if origin is Annotated:
        return _annotation_tree(arguments[0])
    if origin in (Union, UnionType):
        tree: Tree = {}
        for argument in arguments:
            tree = _merge(tree, _annotation_tree(argument))
        return tree
    return {}


@cache
def _model_tree(model: type[BaseModel]) -> Tree:
    defaults: dict[str, Any] = {}
    tree: Tree = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if not info.is_required() and key not in DISCRIMINATORS:
            default = info.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):
                default = default.model_dump(mode="json", by_alias=True)
            defaults[key] = _normalise(default)
        child = _annotation_tree(info.annotation)
        if child:
            tree[key] = child
    tree[""] = defaults
    return tree


def _normalise(value: Any, tree: Tree | None = None) -> Any:
    """Equal numbers made equal, and values that equal the contract's default left out."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        defaults = tree.get("", {}) if tree else {}
        out = {}
        for key, item in value.items():
            item = _normalise(item, tree.get(key) if tree else None)
            if key in defaults and item == defaults[key]:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        child = tree.get("*") if tree else None
        return [_normalise(item, child) for item in value]
    return value


def _drop(value: Any, path: Sequence[str]) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if head in ("*", key):
                if rest:
                    out[key] = _drop(item, rest)
            else:
                out[key] = item
        return out
    if isinstance(value, list):
        out_list = []
        for index, item in enumerate(value):
            if head in ("*", str(index)):
                if rest:
                    out_list.append(_drop(item, rest))
            else:
                out_list.append(item)
        return out_list
    return value


def canonical(path: str, body: Body, ignore: Iterable[str] = ()) -> Any:
    """The body as matching sees it: JSON without defaults or ignored fields, or the exact text."""
    value = body.parsed()
    if value is None:
        return {"text": body.text or ""}
    contract = CONTRACTS.get(path)
    value = _normalise(value, _model_tree(contract) if contract else None)
    for field in ignore:
        value = _drop(value, field.split("."))
    return value


def request_key(method: str, path: str, query: str, body: Body, ignore: Iterable[str] = ()) -> str:
    sorted_query = urlencode(sorted(parse_qsl(query, keep_blank_values=True)))
    text = json.dumps(
        canonical(path, body, ignore), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    # surrogatepass: a body with a lone surrogate (a ``\ud800`` escape) still has a key, the same each time.
    key = f"{method.upper()} {path}?{sorted_query}\n{text}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(key).hexdigest()


MISSING: Any = type("Missing", (), {"__repr__": lambda self: "(absent)"})()
"""Where a field is in one body and not in the other."""

Difference = tuple[str, Any, Any]
"""A dotted path where two bodies differ, the value asked for there, and the value recorded (or MISSING)."""


def differences(wanted: Any, recorded: Any, prefix: str = "") -> list[str]:
    """Dotted paths where two canonical bodies differ (missing, extra or changed)."""
    return [where for where, _, _ in compare(wanted, recorded, prefix)]


def compare(wanted: Any, recorded: Any, prefix: str = "") -> list[Difference]:
    """Each place two canonical bodies differ, with both values, so a miss can show what changed."""
    if isinstance(wanted, dict) and isinstance(recorded, dict):
        found: list[Difference] = []
        for key in list(wanted) + [k for k in recorded if k not in wanted]:
            where = f"{prefix}.{key}" if prefix else str(key)
            if key not in recorded or key not in wanted:
                found.append((where, wanted.get(key, MISSING), recorded.get(key, MISSING)))
            else:
                found.extend(compare(wanted[key], recorded[key], where))
        return found
    if isinstance(wanted, list) and isinstance(recorded, list) and len(wanted) == len(recorded):
        found = []
        for index, (a, b) in enumerate(zip(wanted, recorded, strict=True)):
            found.extend(compare(a, b, f"{prefix}.{index}" if prefix else str(index)))
        return found
    return [] if wanted == recorded else [(prefix or "(body)", wanted, recorded)]


def shown(value: Any, limit: int = 40) -> str:
    """A value as a miss message shows it: JSON, shortened in the middle past ``limit`` characters."""
    text = repr(value) if value is MISSING else json.dumps(value, ensure_ascii=False)
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-half:]}"
