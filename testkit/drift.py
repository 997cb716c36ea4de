"""The drift check: the mock's contract models held against the installed mistralai SDK's, field by field.

Mistral's SDK is generated from Mistral's current API, so it is newer evidence than the spec snapshot the
contract started from. For every request model the mock serves, the SDK's model of the same name (or the
one a contract model names in ``SDK_MODEL``) is compared: the fields on each side (by their wire names),
whether each is required, the JSON types it accepts (null aside: the SDK makes nearly everything nullable),
its closed set of literal values, and the models nested in it, matched by their discriminator tag (a
message's role, a chunk's type) and compared in turn. Each difference names the field, its path, and where
it comes from.

A contract field the SDK lacks is a difference unless its model documents the evidence for it in
``BEYOND_SDK`` (wire name -> evidence, e.g. a live recording); every other difference must be resolved in
the contract. ``make drift`` runs ``python -m testkit.drift`` against the newest SDK release and prints the
report; ``tests/wire/test_drift.py`` holds the pinned release to an empty report.
"""

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from pydantic import BaseModel

from testkit.annotations import (
    annotation_families,
    annotation_values,
    model_classes,
    wire_fields,
)

TAG_FIELDS = ("role", "type")


@dataclass(frozen=True)
class Difference:
    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


def sdk_version() -> str:
    return metadata.version("mistralai")


def sdk_model(name: str) -> type[BaseModel] | None:
    """The SDK's request model of that name (``mistralai.client.models.<name>``), if it has one."""
    from mistralai.client import models

    found = getattr(models, name, None)
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def beyond_sdk(model: type[BaseModel]) -> dict[str, str]:
    return dict(getattr(model, "BEYOND_SDK", {}))


def file_parts(model: type[BaseModel]) -> frozenset[str]:
    """A form model's file fields, whose values are uploads, not JSON (``FILE_FIELDS``)."""
    return frozenset(getattr(model, "FILE_FIELDS", frozenset()))


def _tag(model: type[BaseModel]) -> tuple[str, Any] | None:
    """A model's discriminator: the field (role, type) it is told apart by, and its one literal value."""
    fields = wire_fields(model)
    for name in TAG_FIELDS:
        if name in fields:
            values = annotation_values(fields[name].annotation)
            if values is not None and len(values) == 1:
                return name, next(iter(values))
    return None


def _nested(annotation: Any) -> list[type[BaseModel]]:
    """The models a field holds, less the SDK's forward-compatible ``Unknown...`` placeholders (they stand
    for tags a newer API may send back, not for anything a request may carry) and free-form objects."""
    return [
        model
        for model in dict.fromkeys(model_classes(annotation))
        if not model.__name__.startswith("Unknown") and not _free_form(model)
    ]


def _free_form(model: type[BaseModel]) -> bool:
    """A model with no fields that keeps any key: the spec's name for what an SDK types as a plain dict."""
    return not wire_fields(model) and model.model_config.get("extra") == "allow"


def _pairs(
    ours: list[type[BaseModel]], theirs: list[type[BaseModel]], path: str
) -> Iterator[tuple[type[BaseModel] | None, type[BaseModel] | None, str]]:
    """The nested models of one field, paired by name first, then by discriminator tag (a union may hold
    two models with the same tag, e.g. two kinds of message), or alone on each side."""
    if len(ours) == 1 and len(theirs) == 1:
        yield ours[0], theirs[0], path
        return
    left = {model.__name__: model for model in theirs}
    unmatched: list[type[BaseModel]] = []
    for model in ours:
        other = left.pop(model.__name__, None)
        if other is not None:
            yield model, other, f"{path}[{model.__name__}]"
        else:
            unmatched.append(model)
    by_tag = {_tag(model): model for model in left.values()}
    for model in unmatched:
        tag = _tag(model)
        other = by_tag.pop(tag, None) if tag is not None else None
        yield model, other, f"{path}[{tag[1] if tag else model.__name__}]"
    for tag, model in by_tag.items():
        yield None, model, f"{path}[{tag[1] if tag else model.__name__}]"


def _families(annotation: Any) -> frozenset[str]:
    return annotation_families(annotation) - {"null"}


def compare(
    ours: type[BaseModel], theirs: type[BaseModel], path: str | None = None, seen: set[Any] | None = None
) -> list[Difference]:
    """Every difference between a contract model and the SDK's, nested models included."""
    path = path or ours.__name__
    seen = set() if seen is None else seen
    if (ours, theirs) in seen:
        return []
    seen.add((ours, theirs))
    source = f"mistralai {sdk_version()}'s {theirs.__name__}"
    found: list[Difference] = []
    our_fields, their_fields = wire_fields(ours), wire_fields(theirs)
    documented = beyond_sdk(ours)
    for name in their_fields.keys() - our_fields.keys():
        found.append(Difference(f"{path}.{name}", f"in {source}, not in the contract"))
    for name in our_fields.keys() - their_fields.keys():
        if name not in documented:
            found.append(Difference(f"{path}.{name}", f"in the contract, not in {source}"))
    for name in (our_fields.keys() & their_fields.keys()) - documented.keys():
        mine, other = our_fields[name].annotation, their_fields[name].annotation
        where = f"{path}.{name}"
        if our_fields[name].is_required() != their_fields[name].is_required():
            found.append(
                Difference(
                    where,
                    f"required is {our_fields[name].is_required()} in the contract, "
                    f"{their_fields[name].is_required()} in {source}",
                )
            )
        if name in file_parts(ours):
            continue  # a form's file part: the SDK holds the file, the contract the form reader's token
        if _families(mine) != _families(other):
            found.append(
                Difference(
                    where,
                    f"the contract accepts {sorted(_families(mine))}, {source} {sorted(_families(other))}",
                )
            )
        values, their_values = annotation_values(mine), annotation_values(other)
        if values != their_values and name not in TAG_FIELDS:
            found.append(
                Difference(where, f"the contract allows {_show(values)}, {source} {_show(their_values)}")
            )
        for our_model, their_model, label in _pairs(_nested(mine), _nested(other), where):
            if our_model is None:
                assert their_model is not None
                found.append(Difference(label, f"{their_model.__name__} in {source}, not in the contract"))
            elif their_model is None:
                found.append(Difference(label, f"{our_model.__name__} in the contract, not in {source}"))
            else:
                found.extend(compare(our_model, their_model, label, seen))
    return found


def _show(values: frozenset[Any] | None) -> str:
    return "any value of its types" if values is None else repr(sorted(values, key=repr))


def contract_models() -> list[type[BaseModel]]:
    """Every request model the mock serves (the routes its contract judges)."""
    from mockserver.validation import MODELS

    return list(dict.fromkeys(MODELS.values()))


def report(models: Iterable[type[BaseModel]]) -> dict[str, list[Difference]]:
    """Each model's differences from the SDK's (a model the SDK lacks is one difference)."""
    out: dict[str, list[Difference]] = {}
    for model in models:
        name = getattr(model, "SDK_MODEL", model.__name__)
        theirs = sdk_model(name)
        if theirs is None:
            out[model.__name__] = [
                Difference(model.__name__, f"mistralai {sdk_version()} has no model {name}")
            ]
        else:
            out[model.__name__] = compare(model, theirs)
    return out


def main() -> int:
    """Print what the installed SDK adds or changes against the contract; 1 when anything differs."""
    results = report(contract_models())
    total = sum(len(found) for found in results.values())
    print(f"mistralai {sdk_version()} against the mock's contract: {total} difference(s)")
    for model, found in results.items():
        print(f"\n{model}: {'no difference' if not found else f'{len(found)} difference(s)'}")
        for difference in found:
            print(f"  - {difference}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
