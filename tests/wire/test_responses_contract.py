"""The Responses contract models agree with mistralai's own models, model by model and field by field.

Mistral's spec snapshot has no ``/v1/responses``, so the installed SDK (its models are generated from
Mistral's current API) is what ``mistral_wire.contract.responses`` mirrors: the same fields in the same
order (pydantic reports errors in field order), the same required ones, the same nullability (the SDK's
TypedDicts say ``Nullable`` where the schema allows null), the same literals and constant defaults, the same
handling of unknown keys, and nested models of the same names (the SDK prefixes inline ones with their
parent's name). A new or changed field in a newer SDK fails here, naming it. (The drift check,
tests/wire/test_drift.py, holds every route's model against the SDK's by types, values and nesting; this
adds what only the Responses models need: field order, nullability and the SDK's constant defaults.)
"""

import sys
import types
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from mistralai.client import models as sdk
from pydantic import BaseModel

from mistral_wire.contract.responses import CountResponseInputTokensRequest, CreateResponseRequest
from testkit.annotations import wire_fields

ROOTS: list[tuple[type[BaseModel], type[BaseModel]]] = [
    (CreateResponseRequest, sdk.CreateResponseRequest),
    (CountResponseInputTokensRequest, sdk.CountResponseInputTokensRequest),
]


def unaliased(annotation: Any) -> Any:
    """An SDK type alias as what it stands for: ``OptionalNullable[X]`` as ``X`` (its other branches are
    ``None`` and ``Unset``), ``CreateResponseRequestInput2`` as its union."""
    if hasattr(get_origin(annotation), "__value__"):
        return Union[get_args(annotation)]  # noqa: UP007  (a runtime union of the alias' arguments)
    if hasattr(annotation, "__value__"):
        return annotation.__value__
    return annotation


def model_classes(annotation: Any) -> Iterator[type[BaseModel]]:
    """Every model in an annotation, in the order the annotation names them."""
    if unaliased(annotation) is not annotation:
        yield from model_classes(unaliased(annotation))
        return
    if isinstance(annotation, type) and not get_args(annotation) and issubclass(annotation, BaseModel):
        if annotation.__name__ != "Unset":
            yield annotation
        return
    for argument in get_args(annotation):
        yield from model_classes(argument)


def literals(annotation: Any) -> frozenset[tuple[type, Any]]:
    """The literal values an annotation names outside nested models, typed (``0`` is not ``False``)."""
    if unaliased(annotation) is not annotation:
        return literals(unaliased(annotation))
    origin = get_origin(annotation)
    if origin is Literal:
        return frozenset((type(value), value) for value in get_args(annotation))
    if origin in (Union, types.UnionType, Annotated, list):
        return frozenset().union(*(literals(argument) for argument in get_args(annotation)))
    return frozenset()


def accepts_none(annotation: Any) -> bool:
    if annotation is Any:
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return accepts_none(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(argument is type(None) or accepts_none(argument) for argument in get_args(annotation))
    return annotation is type(None)


def sdk_nullable(model: type[BaseModel], name: str) -> bool:
    """Whether the SDK's TypedDict (the schema) lets the field be null."""
    typed = getattr(sys.modules[model.__module__], f"{model.__name__}TypedDict")
    # The SDK renames fields that shadow Python names: ``format_``, ``schema_``, ``bytes_``.
    annotation = typed.__annotations__.get(name) or typed.__annotations__[f"{name}_"]
    text = annotation.__forward_arg__ if hasattr(annotation, "__forward_arg__") else repr(annotation)
    return "Nullable[" in text or text in ("Any", "NotRequired[Any]")


def sdk_name(model: type[BaseModel]) -> str:
    """The schema's name of an SDK model: inline ones carry their parent's name first
    (``CreateResponseRequestResponsesTextConfig``, ``ResponsesInputTextResponsesPromptCacheBreakpoint``)."""
    name = model.__name__
    return name[max(0, name.rfind("Responses")) :]


def pairs() -> list[tuple[type[BaseModel], type[BaseModel]]]:
    """Each contract model with the SDK model it mirrors, found by walking both trees in step."""
    found: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {}
    pending = list(ROOTS)
    while pending:
        ours, theirs = pending.pop(0)
        key = f"{ours.__name__}<-{theirs.__name__}"
        if key in found:
            continue
        found[key] = (ours, theirs)
        mine, sdks = wire_fields(ours), wire_fields(theirs)
        for name in mine.keys() & sdks.keys():
            nested = list(model_classes(mine[name].annotation))
            nested_sdk = list(model_classes(sdks[name].annotation))
            if len(nested) == len(nested_sdk):
                pending.extend(zip(nested, nested_sdk, strict=True))
    return list(found.values())


PAIRS = [pytest.param(ours, theirs, id=ours.__name__) for ours, theirs in pairs()]
FIELDS = [
    pytest.param(ours, theirs, name, id=f"{ours.__name__}.{name}")
    for ours, theirs in pairs()
    for name in wire_fields(ours)
    if name in wire_fields(theirs)
]


def test_every_item_and_tool_model_is_covered() -> None:
    names = {ours.__name__ for ours, _ in pairs()}
    assert {
        "ResponsesEasyInputMessage",
        "ResponsesMessage",
        "ResponsesOutputMessage",
        "ResponsesFunctionCallOutput",
        "ResponsesReasoningItem",
        "ResponsesFunctionToolCall",
        "ResponsesFunctionTool",
        "ResponsesNamespaceTool",
        "ResponsesCustomTool",
        "ResponsesToolChoiceFunction",
        "ResponsesTextConfig",
        "ResponsesFormatTextJSONSchemaConfig",
        "ResponsesInputImage",
        "ResponsesInputImageContent",
        "ResponsesOutputText",
    } <= names


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_names_fields_and_their_order_match_the_sdk(ours: type[BaseModel], theirs: type[BaseModel]) -> None:
    assert ours.__name__ == sdk_name(theirs)
    assert list(wire_fields(ours)) == list(wire_fields(theirs))


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_unknown_keys_are_handled_as_the_sdk_handles_them(
    ours: type[BaseModel], theirs: type[BaseModel]
) -> None:
    assert (ours.model_config.get("extra") or "ignore") == (theirs.model_config.get("extra") or "ignore")


@pytest.mark.parametrize(("ours", "theirs", "name"), FIELDS)
def test_requiredness_matches_the_sdk(ours: type[BaseModel], theirs: type[BaseModel], name: str) -> None:
    assert wire_fields(ours)[name].is_required() == wire_fields(theirs)[name].is_required()


@pytest.mark.parametrize(("ours", "theirs", "name"), FIELDS)
def test_nullability_matches_the_sdk_schema(
    ours: type[BaseModel], theirs: type[BaseModel], name: str
) -> None:
    assert accepts_none(wire_fields(ours)[name].annotation) == sdk_nullable(theirs, name)


@pytest.mark.parametrize(("ours", "theirs", "name"), FIELDS)
def test_literals_and_constant_defaults_match_the_sdk(
    ours: type[BaseModel], theirs: type[BaseModel], name: str
) -> None:
    mine, sdks = wire_fields(ours)[name], wire_fields(theirs)[name]
    assert literals(mine.annotation) == literals(sdks.annotation)
    default = sdks.get_default()
    constants = {value for kind, value in literals(sdks.annotation) if kind is type(default)}
    if not sdks.is_required() and any(default == value for value in constants):
        # A constant the SDK always sends (``store: false``, ``truncation: "disabled"``, a ``type``).
        assert (type(mine.get_default()), mine.get_default()) == (type(default), default)


@pytest.mark.parametrize(("ours", "theirs", "name"), FIELDS)
def test_nested_models_match_the_sdk(ours: type[BaseModel], theirs: type[BaseModel], name: str) -> None:
    nested = [model.__name__ for model in model_classes(wire_fields(ours)[name].annotation)]
    nested_sdk = [sdk_name(model) for model in model_classes(wire_fields(theirs)[name].annotation)]
    assert nested == nested_sdk


def test_the_sdks_own_bodies_are_accepted() -> None:
    """What mistralai 3.7.0 sends (its serializer's output) validates: nulls in tools, ``type`` added."""
    request = sdk.CreateResponseRequest(
        model="mistral-small-latest",
        input=[{"role": "user", "content": "hi"}],  # type: ignore[list-item]
        tools=[{"type": "function", "name": "f", "parameters": {"type": "object"}}],  # type: ignore[list-item]
        tool_choice={"type": "function", "name": "f"},  # type: ignore[arg-type]
        reasoning={"effort": "high"},  # type: ignore[arg-type]
        metadata={"a": "b"},
    )
    body = request.model_dump(mode="json", by_alias=True)
    assert body["tools"][0]["strict"] is None and body["input"][0]["type"] == "message"
    assert body["store"] is False and body["top_logprobs"] == 0
    CreateResponseRequest.model_validate(body)
