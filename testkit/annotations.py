"""What a pydantic annotation accepts, as JSON types: shared by the checks that hold the contract models
against Mistral's spec (tests/wire/test_contract_spec.py) and against Mistral's SDK (the drift check).

Each function reads a model's annotations the way the wire sees them: the JSON families a field accepts
(string, integer, number, boolean, null, array, object), the closed set of literal values when there is
one, and the models nested in it. The mistralai SDK's own wrappers (``OptionalNullable``, ``Nullable``,
open enums' ``UnrecognizedStr``, the ``Unset`` sentinel, type aliases) are looked through.
"""

import enum
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

from pydantic import AnyUrl, BaseModel
from pydantic.fields import FieldInfo
from typing_extensions import TypeAliasType

FAMILIES = frozenset({"string", "integer", "number", "boolean", "null", "array", "object"})
# The SDK's markers that stand for no JSON value of their own (open enums accept any other value).
_SDK_WRAPPERS = frozenset({"OptionalNullable", "Nullable"})
_SDK_MARKERS = frozenset({"UnrecognizedStr", "UnrecognizedInt", "Unset"})


def _look_through(annotation: Any) -> Any:
    """The annotation under the SDK's aliases: ``OptionalNullable[X]`` is ``X | None``, an alias its value."""
    if isinstance(annotation, TypeAliasType):
        return _look_through(annotation.__value__)
    origin = get_origin(annotation)
    if isinstance(origin, TypeAliasType) or getattr(origin, "__name__", None) in _SDK_WRAPPERS:
        (inner,) = get_args(annotation)[:1]
        if getattr(origin, "__name__", None) in _SDK_WRAPPERS:
            return inner | None
        return _look_through(origin.__value__[inner] if get_args(annotation) else origin.__value__)
    return annotation


def _is_marker(annotation: Any) -> bool:
    return isinstance(annotation, type) and annotation.__name__ in _SDK_MARKERS


def unpublished(model: type[BaseModel]) -> dict[str, str]:
    """The model's documented spec exceptions: wire name -> evidence."""
    return dict(getattr(model, "UNPUBLISHED", {}))


def beyond_spec(model: type[BaseModel]) -> dict[str, str]:
    """Fields that accept more than the spec says (a live recording shows it): wire name -> evidence."""
    return dict(getattr(model, "BEYOND_SPEC", {}))


def newer_than_spec(model: type[BaseModel]) -> dict[str, str]:
    """Fields that allow values a newer source (the newest SDK) lists and the spec does not -> evidence."""
    return dict(getattr(model, "NEWER_THAN_SPEC", {}))


def wire_fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The model's fields by the name they have on the wire (the alias when there is one)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def model_classes(annotation: Any) -> Iterator[type[BaseModel]]:
    """Every pydantic model mentioned anywhere in a type annotation."""
    annotation = _look_through(annotation)
    if isinstance(annotation, type) and not get_args(annotation) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in get_args(annotation):
        yield from model_classes(argument)


def value_family(value: Any) -> str:
    """The JSON family of a literal value (bool before int: ``True`` is an int in Python)."""
    if value is None:
        return "null"
    for python_type, family in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string")):
        if isinstance(value, python_type):
            return family
    raise TypeError(f"no JSON family for the literal {value!r}")


_CLASS_FAMILIES: tuple[tuple[type, str], ...] = (
    (BaseModel, "object"),
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (UUID, "string"),
    (AnyUrl, "string"),
    (bytes, "string"),
    (dict, "object"),
    (Mapping, "object"),
    (list, "array"),
    (tuple, "array"),
    (set, "array"),
    (frozenset, "array"),
    (types.NoneType, "null"),
)


def annotation_families(annotation: Any) -> frozenset[str]:
    """The JSON families a pydantic annotation accepts (as the spec would type them, not lax coercions)."""
    annotation = _look_through(annotation)
    if _is_marker(annotation):
        return frozenset()
    if annotation is Any:
        return FAMILIES
    if annotation is None:
        return frozenset({"null"})
    origin = get_origin(annotation)
    if origin is Annotated:
        return annotation_families(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return frozenset().union(*(annotation_families(argument) for argument in get_args(annotation)))
    if origin is Literal:
        return frozenset(value_family(value) for value in get_args(annotation))
    if origin is not None:
        return annotation_families(origin)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return frozenset(value_family(member.value) for member in annotation)
    for python_type, family in _CLASS_FAMILIES:
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return frozenset({family})
    raise TypeError(f"no JSON family known for the annotation {annotation!r}")


def annotation_item_families(annotation: Any) -> frozenset[str]:
    """The families of the items of every list the annotation accepts (empty when it accepts no list)."""
    annotation = _look_through(annotation)
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is Annotated:
        return annotation_item_families(arguments[0])
    if origin in (Union, types.UnionType):
        return frozenset().union(*(annotation_item_families(argument) for argument in arguments))
    if origin in (list, set, frozenset) and arguments:
        return annotation_families(arguments[0])
    if origin is tuple and arguments:
        return frozenset().union(*(annotation_families(a) for a in arguments if a is not Ellipsis))
    return frozenset()


def annotation_values(annotation: Any) -> frozenset[Any] | None:
    """The scalar values the annotation accepts, if they are a closed set of literals; None when open.

    Only scalar branches count: models, dicts, lists and None are typed by the other checks. An SDK's open
    enum (``Literal[...] | UnrecognizedStr``) counts by its literals: the values it names.
    """
    annotation = _look_through(annotation)
    if _is_marker(annotation):
        return frozenset()
    origin = get_origin(annotation)
    if origin is Annotated:
        return annotation_values(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return union_values(annotation_values(argument) for argument in get_args(annotation))
    if origin is Literal:
        return frozenset(value for value in get_args(annotation) if value is not None)
    if annotation_families(annotation) <= {"object", "array", "null"}:
        return frozenset()
    return None


def union_values(branches: Iterable[frozenset[Any] | None]) -> frozenset[Any] | None:
    found: frozenset[Any] = frozenset()
    for values in branches:
        if values is None:
            return None
        found |= values
    return found


def annotation_model_names(annotation: Any) -> frozenset[str]:
    """Names of the models a field holds directly or in its lists (not models nested inside those)."""
    return frozenset(model.__name__ for model in model_classes(annotation))
