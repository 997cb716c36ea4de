"""Synthetic moderation and classification: a score per category, deterministic per text, with triggers.

Each category's score is drawn from the text (and the model) alone, so the same text scores the same in a
list, alone, or inside a batch job. Ordinary text scores what Mistral's model gives ordinary text (below
1%, as in the spec's example); a text holding one of a category's trigger words (``TRIGGERS``: "kill" for
violence, an e-mail address for PII, ...) scores above 0.5 there, so tests can reach the flagged paths on
purpose. A category is true at or above ``THRESHOLD``.

The answer is the live API's (a real call printed by php-mistral's documentation): ``id``, ``usage``
(``prompt_tokens``, ``total_tokens``, ``completion_tokens`` 0, ``request_count`` 1), ``model`` as asked,
then ``results``, each ``category_scores`` then ``categories``. ``total_tokens`` exceeds the input's tokens
by the classifier's own prompt: 89 tokens in that answer, counted here per input.

A moderation model asked on ``/v1/classifications`` answers one target, ``moderation``, whose labels are
its categories (assumption: no recording shows this answer; its shape is the spec's
``ClassificationResponse``).
"""

import re
from collections.abc import Sequence
from typing import Any

from mistral_wire import tokens
from mistral_wire.contract.catalogue import Family
from mistral_wire.contract.classifiers import CATEGORIES, THRESHOLD
from mockserver.sources.synthetic import seeds

CLASSIFIER_PROMPT_TOKENS = 89
"""The classifier's own prompt, per input: total_tokens 98 for 9 prompt tokens in the recorded answer."""
TRIGGERS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "sexual": r"\b(sex|sexual|nude|porn\w*)\b",
        "hate_and_discrimination": r"\b(hate|racist|disgusting|inferior)\b",
        "violence_and_threats": r"\b(kill|murder|attack|threaten\w*|shoot)\b",
        "dangerous_and_criminal_content": r"\b(bomb|explosives?|weapons?|steal|launder\w*)\b",
        "dangerous": r"\b(bomb|explosives?|weapons?|poison)\b",
        "criminal": r"\b(steal|fraud|launder\w*|smuggl\w*)\b",
        "selfharm": r"\b(suicide|self-harm|hurt myself)\b",
        "health": r"\b(diagnos\w*|medication|symptoms?|prescription)\b",
        "financial": r"\b(invest\w*|stocks?|loan|mortgage)\b",
        "law": r"\b(lawsuit|legal advice|attorney|lawyer)\b",
        "pii": r"([\w.+-]+@[\w-]+\.[\w.]+|\bphone number\b|\bpassport\b|\bsocial security\b)",
        "jailbreaking": r"(ignore (all )?previous instructions|\bjailbreak\w*)",
    }.items()
}


def scores(family: Family, text: str) -> dict[str, float]:
    """Each of the family's categories, scored for one text."""
    seed = seeds.request_seed("moderation", [family.name, text])
    found = {}
    for category in CATEGORIES[family.name]:
        fraction = seeds.derive(seed, category) / 2**64
        trigger = TRIGGERS.get(category)
        if trigger is not None and trigger.search(text):
            found[category] = 0.6 + 0.39 * fraction
        else:
            found[category] = 10 ** (-5 + 3 * fraction)  # 0.00001 .. 0.01, log-uniform
    return found


def _usage(family: Family, texts: Sequence[str]) -> dict[str, int]:
    prompt = sum(tokens.count(text, family.tokenizer) for text in texts)
    total = prompt + CLASSIFIER_PROMPT_TOKENS * len(texts)
    return {"prompt_tokens": prompt, "total_tokens": total, "completion_tokens": 0, "request_count": 1}


def moderation(model: str, family: Family, judged: Sequence[str], counted: Sequence[str]) -> dict[str, Any]:
    """The answer to a moderation of ``judged`` texts (one result each); ``counted`` is what is billed (a
    conversation's every turn)."""
    results = []
    for text in judged:
        scored = scores(family, text)
        results.append(
            {"category_scores": scored, "categories": {name: s >= THRESHOLD for name, s in scored.items()}}
        )
    seed = seeds.request_seed("moderation", [model, list(judged), list(counted)])
    return {"id": seeds.hex_id(seed), "usage": _usage(family, counted), "model": model, "results": results}


def classification(model: str, family: Family, judged: Sequence[str]) -> dict[str, Any]:
    results = [{"moderation": {"scores": scores(family, text)}} for text in judged]
    seed = seeds.request_seed("classification", [model, list(judged)])
    return {"id": seeds.hex_id(seed), "model": model, "results": results}


def message_text(message: Any) -> str:
    """A chat message's text: its string content, or its text chunks joined."""
    content = getattr(message, "content", None)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            getattr(part, "text", "") for part in content if isinstance(getattr(part, "text", None), str)
        )
    return ""
