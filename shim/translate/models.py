"""Mistral's model catalogue in OpenAI's shape, with the shim's configured aliases listed as models.

Mistral's ``GET /v1/models`` is already OpenAI's list shape plus extra keys (reference §9, item 12), so the
translation is mostly ordering: OpenAI's four keys first, where a reader of the raw JSON expects them, and
every Mistral key after them (OpenAI's ``Model`` schema is open, so the extras break nothing and tell a
client about capabilities and context length). What the shim adds is its aliases: a client configured for
``gpt-4o-mini`` must find that id in the list and be able to retrieve it, or SDK helpers and UIs that check
the model first refuse to go on.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from mistral_wire.http import segment
from shim.translate.context import Options
from shim.translate.plan import LifecycleTranslation, Plan, StreamTranslation
from shim.translate.problem import OpenAIError

OPENAI_KEYS = ("id", "object", "created", "owned_by")
DEFAULT_OWNER = "mistralai"


def resolve_model(model_id: str, aliases: Mapping[str, str]) -> str:
    """The Mistral model behind ``model_id``: its alias target, or the id itself.

    One level only: an alias names a Mistral model, not another alias, so a configuration can never loop.
    """
    return aliases.get(model_id, model_id)


def _shutdown_date(deprecation: Any) -> str | None:
    """OpenAI's ``shutdown_date`` (a date) from Mistral's ``deprecation`` (a datetime), or None."""
    return deprecation[:10] if isinstance(deprecation, str) and deprecation else None


def _card(entry: Mapping[str, Any], model_id: Any) -> dict[str, Any]:
    """One OpenAI ``Model``: the required keys first, with safe values when Mistral left one out."""
    created = entry.get("created")
    owner = entry.get("owned_by")
    card: dict[str, Any] = {
        "id": model_id,
        "object": "model",
        # OpenAI requires an integer; a card without one (never seen) gets the epoch, not a made-up time.
        "created": created if isinstance(created, int) and not isinstance(created, bool) else 0,
        "owned_by": owner if isinstance(owner, str) and owner else DEFAULT_OWNER,
    }
    if "deprecation" in entry:
        # The same fact under OpenAI's name, so OpenAI clients that warn about retiring models see it.
        card["shutdown_date"] = _shutdown_date(entry["deprecation"])
    card.update((key, value) for key, value in entry.items() if key not in card)
    return card


def translate_model(body: Mapping[str, Any], requested_id: str) -> dict[str, Any]:
    """OpenAI's ``Model`` for ``GET /v1/models/{requested_id}``.

    The id is the one the client asked for, not the alias target the shim fetched, because the openai SDK
    and client code compare it with what they asked for.
    """
    return _card(body, requested_id)


def translate_model_list(body: Mapping[str, Any], aliases: Mapping[str, str]) -> dict[str, Any]:
    """OpenAI's ``ListModelsResponse`` for Mistral's model list, one extra entry per configured alias.

    An alias entry is a copy of its target's card under the alias id. An alias that shadows a Mistral id
    replaces that entry in place, because requests for that id go to the alias target. An alias whose
    target Mistral does not list is left out: listing it would promise a model that cannot be retrieved.
    """
    entries = [entry for entry in body.get("data") or [] if isinstance(entry, dict)]
    cards = [_card(entry, entry.get("id")) for entry in entries]
    # Targets are looked up among Mistral's own cards, so an alias never points at another alias.
    by_id = {card["id"]: card for card in cards}
    position = {card["id"]: i for i, card in enumerate(cards)}
    for alias, target in aliases.items():
        source = by_id.get(target)
        if source is None:
            continue
        card = {**source, "id": alias}
        if alias in position:
            cards[position[alias]] = card
        else:
            position[alias] = len(cards)
            cards.append(card)
    return {"object": "list", "data": cards}


def plan_list(inputs: Mapping[str, Any], options: Options) -> Plan:
    """``GET /v1/models``: Mistral's list, with the configured aliases added."""

    def answer(answers: Sequence[Any]) -> Any:
        return translate_model_list(answers[0], options.aliases)

    return Plan("/v1/models", (None,), answer, method="GET")


def plan_retrieve(inputs: Mapping[str, Any], options: Options) -> Plan:
    """``GET /v1/models/{id}``: the alias target's card, under the id the client asked for."""
    requested = str(inputs["model_id"])
    target = resolve_model(requested, options.aliases)

    def answer(answers: Sequence[Any]) -> Any:
        return translate_model(answers[0], requested)

    return Plan(f"/v1/models/{segment(target)}", (None,), answer, method="GET")


def echoing_alias(plan: Plan, requested: Any, options: Options) -> Plan:
    """``plan`` answering with the alias the client asked for as ``model``, instead of the Mistral model.

    Clients compare the echoed model with the one they sent (LangChain's standard tests do, and so do
    dashboards that group usage by model): a request for ``gpt-4o-mini`` is answered as ``gpt-4o-mini``,
    in JSON answers and in every stream event. The Mistral model is in the ``x-mistral-model`` header.
    A model that is not an alias is echoed as Mistral sent it.
    """
    if not isinstance(requested, str) or requested not in options.aliases:
        return plan

    def relabel(value: Any) -> Any:
        if isinstance(value, dict) and "model" in value:
            return {**value, "model": requested}
        return value

    def answer(answers: Sequence[Any]) -> Any:
        return relabel(plan.answer(answers))

    def stream() -> StreamTranslation:
        assert plan.stream is not None
        inner = plan.stream()
        if isinstance(inner, LifecycleTranslation):
            return _RelabelledLifecycle(inner, relabel)
        return _Relabelled(inner, relabel)

    return replace(plan, answer=answer, stream=stream if plan.stream is not None else None)


class _Relabelled:
    """A stream translation whose every event says the alias as ``model``; what the relay asks of the
    translation it wraps (``ended``, a Responses stream's own opening and failure events) is passed on."""

    def __init__(self, inner: StreamTranslation, relabel: Callable[[Any], Any]) -> None:
        self.inner = inner
        self.relabel = relabel

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [self.relabel(out) for out in self.inner.feed(event)]

    def finish(self) -> list[dict[str, Any]]:
        return [self.relabel(out) for out in self.inner.finish()]

    @property
    def ended(self) -> bool:
        return bool(getattr(self.inner, "ended", False))


class _RelabelledLifecycle(_Relabelled):
    def __init__(self, inner: LifecycleTranslation, relabel: Callable[[Any], Any]) -> None:
        super().__init__(inner, relabel)
        self.lifecycle = inner

    def start(self) -> list[dict[str, Any]]:
        return [self.relabel(out) for out in self.lifecycle.start()]

    def fail(self, error: OpenAIError) -> list[dict[str, Any]]:
        return [self.relabel(out) for out in self.lifecycle.fail(error)]
