"""Mistral's and OpenAI's published OpenAPI specs, as oracles for tests.

The specs live in ``../shared`` (reference material that is never copied into the project), so every helper
here either finds them or skips the calling test with the reason. Response bodies are validated with
``jsonschema`` against the spec's own component schemas; Mistral's spec gets exactly three documented
forgivenesses (see ``MISTRAL_FORGIVEN``), OpenAI's none.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from testkit.paths import require_shared

MISTRAL_SPEC = Path("specs/mistral-openapi.yaml")
OPENAI_SPEC = Path("specs/openai-openapi.yaml")
SCHEMAS_POINTER = "#/components/schemas/"

MISTRAL_FORGIVEN: dict[str, str] = {
    "additionalProperties: false on response objects": (
        "real responses carry keys the spec omits (usage.prompt_tokens_details, usage.service_tier, the "
        "stream padding key p), so closed objects are opened in the copy used for responses"
    ),
    "data in ChatCompletionResponse.required": (
        "no chat or FIM completion has a data key; it is dropped from that one required list"
    ),
    "enum values newer evidence adds": (
        "SampleType gains ocr_input (an OCR upload's live answer, ruby_llm 2026-08) and FilePurpose "
        "agentic_safety (mistralai 3.7.0's FilePurpose); see NEWER_ENUM_VALUES"
    ),
}
"""The only spec defects the Mistral response oracle forgives, and why."""

NEWER_ENUM_VALUES: dict[str, tuple[str, ...]] = {
    "SampleType": ("ocr_input",),
    "FilePurpose": ("agentic_safety",),
}
"""Values live traffic or Mistral's newest SDK shows for an enum the spec snapshot closes."""

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAX_MESSAGE = 300


@functools.cache
def _load_spec(relative: Path) -> dict[str, Any]:
    path = require_shared() / relative
    if not path.is_file():
        pytest.skip(f"../shared is present but {relative} is missing from it ({path})")
    with path.open("rb") as handle:
        return yaml.load(handle, Loader=_Loader)


def mistral_spec() -> dict[str, Any]:
    """Mistral's official OpenAPI document, parsed once per session. Treat it as read-only."""
    return _load_spec(MISTRAL_SPEC)


def openai_spec() -> dict[str, Any]:
    """OpenAI's official OpenAPI document, parsed once per session. Treat it as read-only."""
    return _load_spec(OPENAI_SPEC)


def component_schemas(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The ``components.schemas`` table of an OpenAPI document."""
    return spec["components"]["schemas"]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping inside a JSON-like tree, the root included."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def reachable_schemas(spec: Mapping[str, Any], root: str) -> set[str]:
    """Names of the component schemas ``root`` reaches through ``$ref`` (``root`` included)."""
    schemas = component_schemas(spec)
    seen = {root}
    pending = [root]
    while pending:
        for node in _walk(schemas[pending.pop()]):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMAS_POINTER):
                name = ref.removeprefix(SCHEMAS_POINTER)
                if name not in seen:
                    seen.add(name)
                    pending.append(name)
    return seen


def _opened(schema: Any) -> Any:
    """A deep copy of ``schema`` with every ``additionalProperties: false`` removed."""
    opened = copy.deepcopy(schema)
    for node in _walk(opened):
        if node.get("additionalProperties") is False:
            del node["additionalProperties"]
    return opened


def _drop_required(schema: Any, name: str) -> None:
    """Remove ``name`` from every ``required`` list in ``schema``, in place (``$ref`` targets untouched)."""
    for node in _walk(schema):
        required = node.get("required")
        if isinstance(required, list) and name in required:
            node["required"] = [item for item in required if item != name]


def _forgive_mistral(spec: Mapping[str, Any], root: str) -> dict[str, Any]:
    """Patched copies of the component schemas ``root`` reaches: the two ``MISTRAL_FORGIVEN`` defects."""
    schemas = component_schemas(spec)
    patched = {name: _opened(schemas[name]) for name in reachable_schemas(spec, root)}
    if "ChatCompletionResponse" in patched:  # FIMCompletionResponse reaches it through allOf
        _drop_required(patched["ChatCompletionResponse"], "data")
    for name, values in NEWER_ENUM_VALUES.items():
        if name in patched:
            patched[name]["enum"] = [*patched[name]["enum"], *values]
    return patched


def _describe(error: ValidationError) -> str:
    """One line per error: where in the body, what is wrong, and for anyOf/oneOf the closest branch."""
    message = error.message
    closest = best_match([error])
    if closest is not None and closest is not error:
        message = f"{message} (closest branch: {closest.json_path}: {closest.message})"
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return f"{error.json_path}: {message}"


def compile_validator(
    spec: Mapping[str, Any],
    schema_name: str,
    patched: Mapping[str, Any] | None = None,
    uri: str = "urn:openapi-spec",
) -> Callable[[Any], list[str]]:
    """A function returning readable errors (empty = valid) for one component schema of ``spec``.

    ``patched`` replaces component schemas by name; the spec itself is never modified. Draft 2020-12 is
    OpenAPI 3.1's dialect; ``format`` is not asserted, as JSON Schema specifies.
    """
    schemas = component_schemas(spec)
    if schema_name not in schemas:
        title = spec.get("info", {}).get("title", "the spec")
        raise KeyError(f"{schema_name!r} is not a component schema of {title}")
    document = {
        **spec,
        "components": {**spec["components"], "schemas": {**schemas, **(patched or {})}},
    }
    resource = Resource(contents=document, specification=DRAFT202012)
    registry: Registry = Registry().with_resource(uri, resource)
    validator = Draft202012Validator({"$ref": f"{uri}{SCHEMAS_POINTER}{schema_name}"}, registry=registry)

    def validate(body: Any) -> list[str]:
        errors = sorted(validator.iter_errors(body), key=lambda error: error.json_path)
        return [_describe(error) for error in errors]

    return validate


@functools.cache
def mistral_response_validator(schema_name: str) -> Callable[[Any], list[str]]:
    """Validate a Mistral response body (or one SSE event's data) against ``schema_name`` of its spec.

    E.g. ``ChatCompletionResponse``, ``FIMCompletionResponse``, ``CompletionChunk``. Forgives exactly the
    defects in ``MISTRAL_FORGIVEN``, only in a copy of the schemas that ``schema_name`` reaches.
    """
    spec = mistral_spec()
    if schema_name not in component_schemas(spec):
        raise KeyError(f"{schema_name!r} is not a component schema of Mistral's spec")
    return compile_validator(spec, schema_name, _forgive_mistral(spec, schema_name), "urn:mistral-openapi")


@functools.cache
def openai_response_validator(schema_name: str) -> Callable[[Any], list[str]]:
    """Validate an OpenAI response body against ``schema_name`` of OpenAI's spec, forgiving nothing."""
    return compile_validator(openai_spec(), schema_name, uri="urn:openai-openapi")


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema: ``anyOf: [<the schema>, {type: null}]``."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable(value) for key, value in node.items() if key != "nullable"}
    return {"anyOf": [out, {"type": "null"}]} if node.get("nullable") is True else out


@functools.cache
def openai_wire_validator(schema_name: str) -> Callable[[Any], list[str]]:
    """Validate what OpenAI's servers send against ``schema_name``, reading ``nullable: true`` as null-or.

    The spec is OpenAPI 3.1 but still uses 3.0's ``nullable`` in over a hundred places, among them the
    stream chunk's ``finish_reason`` and ``logprobs``, which OpenAI itself sends as null on every chunk but
    the last; JSON Schema 2020-12 ignores the keyword, so read strictly the spec refuses OpenAI's own streams.
    """
    spec = openai_spec()
    schemas = component_schemas(spec)
    patched = {name: _nullable(copy.deepcopy(schemas[name])) for name in reachable_schemas(spec, schema_name)}
    return compile_validator(spec, schema_name, patched, "urn:openai-openapi-nullable")
