"""JSON schemas (tool parameters, structured output) cleaned of what Mistral's grammar compiler refuses.

Two repairs, each answering a refusal seen from the live API:

* ``$schema`` and ``$id`` anywhere in the schema make Mistral answer ``Grammar error: at L(C): failed to
  compile JSON schema`` (litellm PR #13389). They only identify the document, so removing them changes
  nothing about what the schema accepts.
* Draft-4 boolean ``exclusiveMinimum: true`` / ``exclusiveMaximum: true`` (next to ``minimum`` /
  ``maximum``) fail mistral-common's Draft-7 check: "Invalid tool schema: … is not valid under any of the
  given schemas" (pdf-reader-mcp #63). Draft 7 spells the same bound as a number, so it is rewritten.

Keywords whose values are data rather than schemas (``enum``, ``const``, ``default``, ``examples``) are
copied untouched, and the names of properties and definitions are never mistaken for keywords, so a
property that happens to be called ``$id`` survives.
"""

import copy
from typing import Any

REFUSED_KEYWORDS = frozenset({"$schema", "$id"})
"""Keywords Mistral's grammar compiler refuses, removed at every depth."""

_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples", "example"})
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_BOUNDS = (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum"))


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A cleaned deep copy of ``schema``; the input is never modified."""
    cleaned = _clean(schema)
    return cleaned if isinstance(cleaned, dict) else {}


def _clean(node: Any) -> Any:
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return copy.deepcopy(node)
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in REFUSED_KEYWORDS:
            continue
        if key in _DATA_KEYWORDS:
            result[key] = copy.deepcopy(value)
        elif key in _NAMED_SCHEMAS and isinstance(value, dict):
            result[key] = {name: _clean(sub) for name, sub in value.items()}
        else:
            result[key] = _clean(value)
    _draft7_bounds(result)
    return result


def _draft7_bounds(node: dict[str, Any]) -> None:
    """Rewrite draft-4 boolean exclusive bounds in place (on the copy) to draft-7 numbers."""
    for exclusive, inclusive in _BOUNDS:
        flag = node.get(exclusive)
        if not isinstance(flag, bool):
            continue
        del node[exclusive]
        # ``true`` turns the inclusive bound into an exclusive one; ``false`` (or no bound) meant nothing.
        if flag and isinstance(node.get(inclusive), int | float) and not isinstance(node[inclusive], bool):
            node[exclusive] = node.pop(inclusive)
