"""The contract models agree with Mistral's published spec, model by model and field by field.

``mistral_wire/contract`` is the single statement of what Mistral accepts; the mock validates with it and
the shim asks it which fields exist. This holds every model reachable from the request bodies in ``ROOTS``
against the component schema of the same name in ``../shared/specs/mistral-openapi.yaml``: the field names,
which are required, the JSON type families of each field, the models nested in each field, and whether unknown
keys are rejected. Fields a model lists in ``UNPUBLISHED`` (known to the server, absent from the spec, with
evidence) are exempt, and must stay absent from the spec.
"""

import enum
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

import pytest
from pydantic import AnyUrl, BaseModel
from pydantic.fields import FieldInfo

from mistral_wire.contract.audio import (
    AudioTranscriptionRequest,
    AudioTranscriptionRequestStream,
    SpeechRequest,
)
from mistral_wire.contract.batch import CreateBatchJobRequest
from mistral_wire.contract.classifiers import (
    ChatClassificationRequest,
    ChatModerationRequest,
    ClassificationRequest,
)
from mistral_wire.contract.requests import (
    ChatCompletionRequest,
    EmbeddingRequest,
    FIMCompletionRequest,
    OCRRequest,
)
from testkit.spec import SCHEMAS_POINTER, component_schemas, mistral_spec

ROOTS: tuple[type[BaseModel], ...] = (
    ChatCompletionRequest,
    FIMCompletionRequest,
    EmbeddingRequest,
    OCRRequest,
    CreateBatchJobRequest,
    ClassificationRequest,
    ChatModerationRequest,
    ChatClassificationRequest,
    AudioTranscriptionRequest,
    AudioTranscriptionRequestStream,
    SpeechRequest,
)
FAMILIES = frozenset({"string", "integer", "number", "boolean", "null", "array", "object"})


# --- the pydantic side -------------------------------------------------------------------------------


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


def _model_classes(annotation: Any) -> Iterator[type[BaseModel]]:
    """Every pydantic model mentioned anywhere in a type annotation."""
    if isinstance(annotation, type) and not get_args(annotation) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in get_args(annotation):
        yield from _model_classes(argument)


def reachable_models() -> list[type[BaseModel]]:
    """The request models and every model nested in their fields, except through UNPUBLISHED fields.

    An unpublished field has no spec schema to hold its model against (e.g. ``StreamOptions``).
    """
    found: dict[str, type[BaseModel]] = {}
    pending = list(ROOTS)
    while pending:
        model = pending.pop(0)
        if model.__name__ in found:
            assert found[model.__name__] is model, f"two contract models are named {model.__name__}"
            continue
        found[model.__name__] = model
        skipped = unpublished(model) | beyond_spec(model)
        for name, field in wire_fields(model).items():
            if name not in skipped:
                pending.extend(_model_classes(field.annotation))
    return list(found.values())


def _value_family(value: Any) -> str:
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
        return frozenset(_value_family(value) for value in get_args(annotation))
    if origin is not None:
        return annotation_families(origin)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return frozenset(_value_family(member.value) for member in annotation)
    for python_type, family in _CLASS_FAMILIES:
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return frozenset({family})
    raise TypeError(f"no JSON family known for the annotation {annotation!r}")


def annotation_item_families(annotation: Any) -> frozenset[str]:
    """The families of the items of every list the annotation accepts (empty when it accepts no list)."""
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

    Only scalar branches count: models, dicts, lists and None are typed by the other checks.
    """
    origin = get_origin(annotation)
    if origin is Annotated:
        return annotation_values(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return _union_values(annotation_values(argument) for argument in get_args(annotation))
    if origin is Literal:
        return frozenset(value for value in get_args(annotation) if value is not None)
    if annotation_families(annotation) <= {"object", "array", "null"}:
        return frozenset()
    return None


def _union_values(branches: Iterable[frozenset[Any] | None]) -> frozenset[Any] | None:
    found: frozenset[Any] = frozenset()
    for values in branches:
        if values is None:
            return None
        found |= values
    return found


def annotation_model_names(annotation: Any) -> frozenset[str]:
    """Names of the models a field holds directly or in its lists (not models nested inside those)."""
    return frozenset(model.__name__ for model in _model_classes(annotation))


# --- the spec side -----------------------------------------------------------------------------------


def _resolve(ref: str) -> tuple[str, dict[str, Any]]:
    if not ref.startswith(SCHEMAS_POINTER):
        raise ValueError(f"unexpected $ref {ref!r}")
    name = ref.removeprefix(SCHEMAS_POINTER)
    return name, component_schemas(mistral_spec())[name]


def _alternatives(schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The subschemas a value may match instead of, or in addition to, this one's own keywords."""
    if "$ref" in schema:
        yield _resolve(schema["$ref"])[1]
    for keyword in ("anyOf", "oneOf", "allOf"):
        yield from schema.get(keyword, [])


def schema_families(schema: Mapping[str, Any]) -> frozenset[str]:
    """The JSON families a spec schema admits, through ``$ref``, ``anyOf``/``oneOf``/``allOf``, const, enum.

    ``type`` wins over ``const``/``enum`` (which only narrow values within it); keywords combine by
    intersection, ``anyOf``/``oneOf`` branches by union; no typing keyword at all admits every family.
    """
    result = FAMILIES
    if "type" in schema:
        declared = schema["type"]
        result &= frozenset([declared] if isinstance(declared, str) else declared)
    elif "const" in schema:
        result &= frozenset({_value_family(schema["const"])})
    elif "enum" in schema:
        result &= frozenset(_value_family(value) for value in schema["enum"])
    if "$ref" in schema:
        result &= schema_families(_resolve(schema["$ref"])[1])
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            result &= frozenset().union(*(schema_families(branch) for branch in schema[keyword]))
    for part in schema.get("allOf", []):
        result &= schema_families(part)
    return result


def schema_item_families(schema: Mapping[str, Any]) -> frozenset[str]:
    """The families of the items of every array the schema admits (empty when it admits no array)."""
    found = schema_families(schema["items"]) if "items" in schema else frozenset()
    return found.union(*(schema_item_families(alternative) for alternative in _alternatives(schema)))


def schema_values(schema: Mapping[str, Any]) -> frozenset[Any] | None:
    """The scalar values a spec schema admits, if ``const``/``enum`` close them; None when open."""
    if "const" in schema:
        return frozenset({schema["const"]})
    if "enum" in schema:
        return frozenset(value for value in schema["enum"] if value is not None)
    if "$ref" in schema:
        return schema_values(_resolve(schema["$ref"])[1])
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            return _union_values(schema_values(branch) for branch in schema[keyword])
    if "allOf" in schema:
        closed = [values for values in map(schema_values, schema["allOf"]) if values is not None]
        return frozenset.intersection(*closed) if closed else None
    if schema_families(schema) <= {"object", "array", "null"}:
        return frozenset()
    return None


def _is_object_component(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object" or "properties" in schema


def schema_model_names(schema: Mapping[str, Any]) -> frozenset[str]:
    """Names of the object components a property holds directly or in its arrays.

    Wrapper components (a bare ``oneOf`` such as ``ContentChunk``) are looked through, not counted.
    """
    names: set[str] = set()
    if "$ref" in schema:
        name, target = _resolve(schema["$ref"])
        if _is_object_component(target):
            names.add(name)
        else:
            names |= schema_model_names(target)
    if "items" in schema:
        names |= schema_model_names(schema["items"])
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(keyword, []):
            names |= schema_model_names(branch)
    return frozenset(names)


def component(model: type[BaseModel]) -> dict[str, Any]:
    """The spec's component schema named like the model; a missing one is a failure, not a skip."""
    schemas = component_schemas(mistral_spec())
    if model.__name__ not in schemas:
        pytest.fail(f"{model.__name__}: Mistral's spec has no component schema of that name to compare with")
    return schemas[model.__name__]


def properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A component's properties, including those its ``allOf`` parts declare."""
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found.update(properties(_resolve(part["$ref"])[1] if "$ref" in part else part))
    return found


def required(schema: Mapping[str, Any]) -> set[str]:
    """A component's required property names, including those of its ``allOf`` parts."""
    found = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        found |= required(_resolve(part["$ref"])[1] if "$ref" in part else part)
    return found


# --- the cases ---------------------------------------------------------------------------------------

MODELS = reachable_models()
FIELDS = [
    pytest.param(model, name, id=f"{model.__name__}.{name}")
    for model in MODELS
    for name in wire_fields(model)
    if name not in unpublished(model)
]
# Fields whose types must equal the spec's: all but those documented as accepting more.
EXACT_FIELDS = [p for p in FIELDS if p.values[1] not in beyond_spec(p.values[0])]
BY_MODEL = [pytest.param(model, id=model.__name__) for model in MODELS]
WITH_BEYOND_SPEC = [
    pytest.param(model, name, id=f"{model.__name__}.{name}")
    for model in MODELS
    for name in beyond_spec(model)
]
WITH_UNPUBLISHED = [
    pytest.param(model, name, id=f"{model.__name__}.{name}")
    for model in MODELS
    for name in unpublished(model)
]


def _spec_property(model: type[BaseModel], name: str) -> dict[str, Any]:
    found = properties(component(model))
    if name not in found:
        pytest.fail(f"{model.__name__}.{name}: the model declares it, Mistral's spec does not")
    return found[name]


@pytest.mark.parametrize("model", BY_MODEL)
def test_field_names_match_the_spec(model: type[BaseModel]) -> None:
    declared = set(wire_fields(model)) - set(unpublished(model))
    published = set(properties(component(model)))
    assert declared == published, (
        f"{model.__name__}: only in the model {sorted(declared - published)}, "
        f"only in the spec {sorted(published - declared)}"
    )


@pytest.mark.parametrize(("model", "name"), WITH_UNPUBLISHED)
def test_unpublished_fields_are_really_unpublished(model: type[BaseModel], name: str) -> None:
    assert name in wire_fields(model), f"{model.__name__}.UNPUBLISHED names {name!r}, which is not a field"
    assert name not in properties(component(model)), (
        f"{model.__name__}.{name} is in Mistral's spec now: remove it from UNPUBLISHED"
    )


@pytest.mark.parametrize(("model", "name"), FIELDS)
def test_requiredness_matches_the_spec(model: type[BaseModel], name: str) -> None:
    _spec_property(model, name)
    in_model = wire_fields(model)[name].is_required()
    in_spec = name in required(component(model))
    assert in_model == in_spec, (
        f"{model.__name__}.{name}: required in the model is {in_model}, in Mistral's spec {in_spec}"
    )


@pytest.mark.parametrize(("model", "name"), WITH_BEYOND_SPEC)
def test_fields_beyond_the_spec_really_go_beyond_it(model: type[BaseModel], name: str) -> None:
    """A field may accept more than the spec only if it still accepts all of it, and really accepts more."""
    schema = _spec_property(model, name)
    annotation = wire_fields(model)[name].annotation
    families, spec_families = annotation_families(annotation), schema_families(schema)
    models, spec_models = annotation_model_names(annotation), schema_model_names(schema)
    assert spec_families <= families and spec_models <= models
    assert (families, models) != (spec_families, spec_models), (
        f"{model.__name__}.{name} now matches Mistral's spec: remove it from BEYOND_SPEC"
    )


@pytest.mark.parametrize(("model", "name"), EXACT_FIELDS)
def test_type_families_match_the_spec(model: type[BaseModel], name: str) -> None:
    schema = _spec_property(model, name)
    annotation = wire_fields(model)[name].annotation
    in_model, in_spec = annotation_families(annotation), schema_families(schema)
    assert in_model == in_spec, (
        f"{model.__name__}.{name}: the model accepts {sorted(in_model)}, Mistral's spec {sorted(in_spec)}"
    )
    items_in_model, items_in_spec = annotation_item_families(annotation), schema_item_families(schema)
    assert items_in_model == items_in_spec, (
        f"{model.__name__}.{name}: array items in the model are {sorted(items_in_model)}, "
        f"in Mistral's spec {sorted(items_in_spec)}"
    )


@pytest.mark.parametrize(("model", "name"), FIELDS)
def test_allowed_values_match_the_spec(model: type[BaseModel], name: str) -> None:
    """Where either side closes a field to a list of literals (enums, discriminator tags), both must agree,
    unless the model documents a newer source that lists more (``NEWER_THAN_SPEC``): then the model must
    still allow all the spec lists, and really more."""
    in_model = annotation_values(wire_fields(model)[name].annotation)
    in_spec = schema_values(_spec_property(model, name))
    if name in newer_than_spec(model):
        assert in_model is not None and in_spec is not None and in_spec < in_model, (
            f"{model.__name__}.{name} now matches Mistral's spec: remove it from NEWER_THAN_SPEC"
        )
        return
    assert in_model == in_spec, (
        f"{model.__name__}.{name}: the model allows {_show(in_model)}, Mistral's spec {_show(in_spec)}"
    )


def _show(values: frozenset[Any] | None) -> str:
    return "any value of its types" if values is None else repr(sorted(values, key=repr))


@pytest.mark.parametrize(("model", "name"), EXACT_FIELDS)
def test_nested_models_match_the_spec(model: type[BaseModel], name: str) -> None:
    """The nested classes are compared with components by name, so each must be the one the spec uses."""
    in_model = annotation_model_names(wire_fields(model)[name].annotation)
    in_spec = schema_model_names(_spec_property(model, name))
    assert in_model == in_spec, (
        f"{model.__name__}.{name}: nests models {sorted(in_model)}, Mistral's spec {sorted(in_spec)}"
    )


@pytest.mark.parametrize("model", BY_MODEL)
def test_extra_keys_are_rejected_exactly_where_the_spec_closes_the_object(model: type[BaseModel]) -> None:
    forbids = model.model_config.get("extra") == "forbid"
    closed = component(model).get("additionalProperties") is False
    assert forbids == closed, (
        f"{model.__name__}: model_config extra={model.model_config.get('extra')!r}, "
        f"spec additionalProperties={component(model).get('additionalProperties', '<absent>')!r}"
    )
