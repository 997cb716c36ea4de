"""Moderations with the openai client: OpenAI's thirteen categories, from Mistral's moderation model.

Without the shim, OpenAI's request is a 422 (Mistral requires ``model``; OpenAI's default is
``omni-moderation-latest``, which Mistral does not know) and Mistral's answer has none of OpenAI's keys.
Behind the shim every OpenAI category is present, ``flagged`` is computed, and Mistral's own categories are
kept beside OpenAI's.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import OpenAI

from contract_tests.conftest import Breaks

CATEGORIES = {
    "hate", "hate/threatening", "harassment", "harassment/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
    "violence/graphic",
}  # fmt: skip


@pytest.mark.feature("Moderations", "strings, with OpenAI's default model")
def test_moderating_strings(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.UnprocessableEntityError, "422: Mistral requires model"):
        answer = client.moderations.create(input=["Have a nice day.", "I will find you and hurt you."])
        assert len(answer.results) == 2 and answer.id.startswith("modr-")
        for result in answer.results:
            wire = result.categories.model_dump(by_alias=True)
            assert set(wire) >= CATEGORIES
            assert set(result.category_scores.model_dump(by_alias=True)) >= CATEGORIES
            assert result.categories.sexual_minors is False and result.category_scores.sexual_minors == 0.0
            assert result.flagged == any(value for value in wire.values() if value)
            extra = result.model_extra or {}
            assert "pii" in extra["mistral_category_scores"]


@pytest.mark.feature("Moderations", "aliased models and multimodal parts")
@pytest.mark.targets("shim+mock", "shim+replay", "live")
@pytest.mark.parametrize("model", ["omni-moderation-latest", "text-moderation-latest"])
def test_openai_models_and_parts(client: OpenAI, model: str) -> None:
    parts: Any = [
        {"type": "text", "text": "Describe this picture."},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    raw = client.moderations.with_raw_response.create(input=parts, model=model)
    answer = raw.parse()
    assert len(answer.results) == 1 and answer.model.startswith("mistral-moderation")
    assert raw.headers["x-shim-repairs"] == "images-not-moderated"
    assert answer.results[0].category_applied_input_types.violence == ["text"]


@pytest.mark.feature("Moderations", "image-only input is a 400")
@pytest.mark.targets("shim+mock", "shim+replay", "live")
def test_an_image_alone_is_refused(client: OpenAI) -> None:
    parts: Any = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    with pytest.raises(openai.BadRequestError, match="text only"):
        client.moderations.create(input=parts)
