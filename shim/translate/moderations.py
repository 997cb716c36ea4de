"""``POST /v1/moderations``: OpenAI's request → Mistral's ``/v1/moderations``, and its categories → OpenAI's.

Mistral's moderation model scores text in its own categories (``mistral-moderation-2411``: nine, such as
``hate_and_discrimination`` and ``dangerous_and_criminal_content``; ``2603`` splits that last one into
``dangerous`` and ``criminal`` and adds ``jailbreaking``). OpenAI's clients read thirteen fixed keys, all
required. So each OpenAI category is a row (``CATEGORIES``) that says which of Mistral's feed it, under
either model, and how; a category no Mistral category covers (``sexual/minors``) is always ``false`` with a
score of 0, which its row says. ``flagged`` is computed from the mapped categories only: a text Mistral
flags only as ``pii`` or ``financial`` is not flagged by an OpenAI client's reading, and those categories
are kept beside OpenAI's (``mistral_categories``, ``mistral_category_scores``) rather than lost.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from mistral_wire.contract.classifiers import ClassificationRequest
from shim.translate import table
from shim.translate.context import Options
from shim.translate.plan import Plan
from shim.translate.problem import server_error
from shim.translate.table import STRING, TEXTS, Draft, Field, Table, refuse

ENDPOINT = "moderations"
PATH = "/v1/moderations"
MISTRAL_MODEL: Final = "mistral-moderation-latest"
MODELS: Final[dict[str, str]] = {
    "omni-moderation-latest": MISTRAL_MODEL,
    "omni-moderation-2024-09-26": MISTRAL_MODEL,
    "text-moderation-latest": MISTRAL_MODEL,
    "text-moderation-stable": MISTRAL_MODEL,
}
"""OpenAI's moderation models → Mistral's (a configured alias wins); no model at all is OpenAI's default,
``omni-moderation-latest``."""


# --- the request --------------------------------------------------------------------------------------------


def _text_of_parts(parts: list[Any]) -> str:
    """OpenAI's multimodal parts as the one text Mistral scores (OpenAI answers one result for them too)."""
    texts = [part["text"] for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str)]
    kinds = {part.get("type") for part in parts if isinstance(part, dict)}
    if not texts:
        refused = "image inputs" if "image_url" in kinds else "these inputs"
        raise refuse(
            f"Mistral's moderation scores text only: {refused} have no counterpart. Send text parts.",
            "input",
            "unsupported_value",
        )
    return "\n".join(texts)


def _input(value: Any, draft: Draft, options: Options) -> Any:
    if isinstance(value, str):
        draft.notes["count"] = 1
        return value
    if not isinstance(value, list) or not value:
        raise refuse("input must be a string, an array of strings, or an array of input parts.", "input")
    if all(isinstance(item, str) for item in value):
        draft.notes["count"] = len(value)
        return value
    if all(isinstance(item, dict) for item in value):
        draft.notes["count"] = 1
        if any(item.get("type") == "image_url" for item in value):
            draft.repair("images-not-moderated")
        return _text_of_parts(value)
    raise refuse("input must be a string, an array of strings, or an array of input parts.", "input")


def _model(value: Any, draft: Draft, options: Options) -> Any:
    if isinstance(value, str) and value in options.aliases:
        return options.aliases[value]
    return MODELS.get(value, value) if isinstance(value, str) else value


FIELDS: dict[str, Field] = {
    "input": Field(
        "convert",
        "a string or strings as they are; parts become one text (Mistral scores text only; images are not "
        "moderated, and parts with no text are a 400)",
        TEXTS,
        convert=_input,
        required=True,
    ),
    "model": Field(
        "convert",
        f"OpenAI's moderation models (and none) are {MISTRAL_MODEL}; configured aliases resolve",
        STRING,
        convert=_model,
    ),
}
"""One row per field of OpenAI's ``CreateModerationRequest`` (a test holds this against OpenAI's spec)."""


MISTRAL_ONLY: Final = frozenset(ClassificationRequest.model_fields) - frozenset(FIELDS)
"""Mistral's own fields of its moderation request (``metadata``), for a client that knows them."""


def default_model(draft: Draft, options: Options) -> None:
    """Mistral requires ``model``; OpenAI's default is ``omni-moderation-latest``."""
    if "model" not in draft.body:
        draft.body["model"] = options.aliases.get("omni-moderation-latest", MISTRAL_MODEL)


TABLE = Table(
    endpoint=ENDPOINT,
    fields=FIELDS,
    mistral_only={None: MISTRAL_ONLY},
    rules=(("default-model", default_model),),
    unknown_reason="it is neither an OpenAI nor a Mistral moderation parameter",
)


# --- the answer: OpenAI's categories from Mistral's ---------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """One of OpenAI's categories: the groups of Mistral categories that feed it, and why.

    The score is the smallest over the groups of the largest score in each group (a group lists the same
    concept under both models' names); the flag is every group flagged, by Mistral's own verdicts. No
    group: no Mistral category covers it, always ``false`` and 0.
    """

    groups: tuple[tuple[str, ...], ...]
    reason: str

    def score(self, scores: Mapping[str, float]) -> float:
        if not self.groups:
            return 0.0
        return min(max((scores.get(key, 0.0) for key in group), default=0.0) for group in self.groups)

    def flag(self, verdicts: Mapping[str, bool]) -> bool:
        return bool(self.groups) and all(any(verdicts.get(key) for key in group) for group in self.groups)


HATE = ("hate_and_discrimination",)
VIOLENCE = ("violence_and_threats",)
ILLICIT = ("dangerous_and_criminal_content", "dangerous", "criminal")
SELF_HARM = ("selfharm",)
SEXUAL = ("sexual",)

CATEGORIES: Final[dict[str, Category]] = {
    "hate": Category((HATE,), "hate_and_discrimination: the same concept"),
    "hate/threatening": Category((HATE, VIOLENCE), "hate_and_discrimination and violence_and_threats, both"),
    "harassment": Category((HATE,), "hate_and_discrimination: Mistral has no harassment category of its own"),
    "harassment/threatening": Category(
        (HATE, VIOLENCE), "hate_and_discrimination and violence_and_threats, both (as hate/threatening)"
    ),
    "illicit": Category((ILLICIT,), "dangerous_and_criminal_content (2411), or dangerous or criminal (2603)"),
    "illicit/violent": Category((ILLICIT, VIOLENCE), "illicit as above, and violence_and_threats"),
    "self-harm": Category((SELF_HARM,), "selfharm: the same concept"),
    "self-harm/intent": Category((SELF_HARM,), "selfharm: Mistral does not tell intent apart"),
    "self-harm/instructions": Category((SELF_HARM,), "selfharm: Mistral does not tell instructions apart"),
    "sexual": Category((SEXUAL,), "sexual: the same concept"),
    "sexual/minors": Category((), "no Mistral category: always false, score 0"),
    "violence": Category((VIOLENCE,), "violence_and_threats: the same concept"),
    "violence/graphic": Category(
        (VIOLENCE,), "violence_and_threats: Mistral does not tell graphic content apart"
    ),
}
"""Every category of OpenAI's moderation result, in OpenAI's order (a test holds them to OpenAI's spec)."""

MAPPED: Final = frozenset(
    key for category in CATEGORIES.values() for group in category.groups for key in group
)
"""Mistral's categories that feed one of OpenAI's; the others (pii, financial, law, health, jailbreaking)
are Mistral's alone, kept under ``mistral_categories`` and ``mistral_category_scores``."""


def _numbers(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {
        key: float(score)
        for key, score in value.items()
        if isinstance(score, int | float) and not isinstance(score, bool)
    }


def _flags(value: Any) -> dict[str, bool]:
    return (
        {key: flag for key, flag in value.items() if isinstance(flag, bool)}
        if isinstance(value, dict)
        else {}
    )


def translate_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """One of OpenAI's ``Moderation`` results for one of Mistral's (``categories``, ``category_scores``)."""
    scores = _numbers(result.get("category_scores"))
    verdicts = _flags(result.get("categories"))
    categories = {name: category.flag(verdicts) for name, category in CATEGORIES.items()}
    return {
        "flagged": any(categories.values()),
        "categories": categories,
        "category_scores": {name: category.score(scores) for name, category in CATEGORIES.items()},
        # Mistral scores text only (image parts are not sent): a category fed by Mistral was applied to
        # the text, one no Mistral category feeds to nothing.
        "category_applied_input_types": {
            name: ["text"] if category.groups else [] for name, category in CATEGORIES.items()
        },
        "mistral_categories": {key: flag for key, flag in verdicts.items() if key not in MAPPED},
        "mistral_category_scores": {key: score for key, score in scores.items() if key not in MAPPED},
    }


def translate_response(body: Mapping[str, Any], count: int) -> dict[str, Any]:
    """OpenAI's ``CreateModerationResponse`` for Mistral's answer to ``count`` inputs."""
    results = [result for result in body.get("results") or [] if isinstance(result, dict)]
    if len(results) != count:
        raise server_error(
            502,
            f"Mistral answered {len(results)} moderation results for {count} inputs.",
            "upstream_bad_body",
        )
    translated = [translate_result(result) for result in results]
    return {"id": f"modr-{body.get('id')}", "model": body.get("model"), "results": translated}


def plan(body: Mapping[str, Any], options: Options) -> Plan:
    """The Mistral moderation request, and how its answer becomes OpenAI's."""
    table.check_types(TABLE, body)
    draft = table.apply(TABLE, body, options)
    count = int(draft.notes.get("count", 1))

    def answer(answers: Sequence[Any]) -> Any:
        return translate_response(answers[0], count)

    return Plan(PATH, (draft.body,), answer, dropped=tuple(draft.dropped), repairs=tuple(draft.repairs))
