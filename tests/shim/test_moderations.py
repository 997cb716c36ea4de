"""OpenAI's moderations on Mistral's: the table and the category rows (pure), then the openai client through
the shim in front of a scripted Mistral."""

from typing import Any

import openai
import pytest

from shim.translate import moderations, table
from shim.translate.context import Options
from shim.translate.problem import OpenAIError
from testkit.fake_mistral import Faked
from testkit.spec import component_schemas, openai_response_validator, openai_spec

V1 = {
    "sexual": 0.01,
    "hate_and_discrimination": 0.8,
    "violence_and_threats": 0.6,
    "dangerous_and_criminal_content": 0.3,
    "selfharm": 0.02,
    "health": 0.1,
    "financial": 0.7,
    "law": 0.05,
    "pii": 0.9,
}
V2 = {
    "sexual": 0.01,
    "hate_and_discrimination": 0.1,
    "violence_and_threats": 0.7,
    "dangerous": 0.2,
    "criminal": 0.9,
    "selfharm": 0.0,
    "health": 0.0,
    "financial": 0.0,
    "law": 0.0,
    "pii": 0.0,
    "jailbreaking": 0.95,
}


def mistral_result(scores: dict[str, float]) -> dict[str, Any]:
    return {"categories": {k: v >= 0.5 for k, v in scores.items()}, "category_scores": scores}


def translate(body: dict[str, Any], options: Options | None = None) -> dict[str, Any]:
    return table.apply(moderations.TABLE, body, options or Options()).body


# --- the request --------------------------------------------------------------------------------------------


def test_every_field_of_openais_request_has_a_row() -> None:
    schema = component_schemas(openai_spec())["CreateModerationRequest"]
    assert set(moderations.FIELDS) == set(schema["properties"])


@pytest.mark.parametrize(
    "model", [None, "omni-moderation-latest", "text-moderation-latest", "omni-moderation-2024-09-26"]
)
def test_openais_moderation_models_are_mistrals(model: str | None) -> None:
    body = translate({"input": "hi", **({"model": model} if model else {})})
    assert body == {"input": "hi", "model": "mistral-moderation-latest"}


def test_a_configured_alias_wins_and_a_mistral_model_passes() -> None:
    aliased = Options(aliases={"omni-moderation-latest": "mistral-moderation-2603"})
    assert translate({"input": "hi"}, aliased)["model"] == "mistral-moderation-2603"
    assert (
        translate({"input": "hi", "model": "mistral-moderation-2411"})["model"] == "mistral-moderation-2411"
    )


def test_strings_are_sent_as_they_are_and_parts_become_one_text() -> None:
    assert translate({"input": ["a", "b"]})["input"] == ["a", "b"]
    parts = [{"type": "text", "text": "one"}, {"type": "image_url", "image_url": {"url": "https://x/a.png"}}]
    draft = table.apply(moderations.TABLE, {"input": [*parts, {"type": "text", "text": "two"}]}, Options())
    assert draft.body["input"] == "one\ntwo" and draft.notes["count"] == 1
    assert draft.repairs == ["images-not-moderated"]


@pytest.mark.parametrize(
    "given", [[{"type": "image_url", "image_url": {"url": "https://x/a.png"}}], [], 42, [1, 2], None]
)
def test_input_mistral_cannot_score_is_a_400(given: Any) -> None:
    with pytest.raises(OpenAIError) as refused:
        moderations.plan({"input": given}, Options())
    assert refused.value.status == 400 and refused.value.param == "input"


# --- the answer ---------------------------------------------------------------------------------------------


def test_every_openai_category_has_a_row_in_openais_order() -> None:
    schema = component_schemas(openai_spec())["CreateModerationResponse"]
    categories = schema["properties"]["results"]["items"]["properties"]["categories"]["properties"]
    assert list(moderations.CATEGORIES) == list(categories)
    assert all(len(row.reason) > 10 for row in moderations.CATEGORIES.values())


@pytest.mark.parametrize("scores", [V1, V2], ids=["2411", "2603"])
def test_the_answer_is_openais_with_every_category_and_mistrals_own_kept(scores: dict[str, float]) -> None:
    body = {"id": "4d71ae510af942108ef7344f903e2b88", "model": "mistral-moderation-latest"}
    answer = moderations.translate_response({**body, "results": [mistral_result(scores)]}, 1)
    assert openai_response_validator("CreateModerationResponse")(answer) == []
    result = answer["results"][0]
    assert answer["id"] == "modr-4d71ae510af942108ef7344f903e2b88"
    assert (
        result["categories"]["sexual/minors"] is False and result["category_scores"]["sexual/minors"] == 0.0
    )
    assert result["category_applied_input_types"]["sexual/minors"] == []
    assert result["category_applied_input_types"]["violence"] == ["text"]
    assert result["mistral_category_scores"]["pii"] == scores["pii"]
    assert "violence_and_threats" not in result["mistral_categories"]


def test_2411_categories_feed_openais() -> None:
    result = moderations.translate_result(mistral_result(V1))
    scores, flags = result["category_scores"], result["categories"]
    assert scores["hate"] == 0.8 and flags["hate"] is True and flags["harassment"] is True
    assert scores["hate/threatening"] == 0.6 and flags["hate/threatening"] is True  # both groups flagged
    assert scores["illicit"] == 0.3 and flags["illicit"] is False
    assert scores["illicit/violent"] == 0.3 and flags["illicit/violent"] is False
    assert result["flagged"] is True


def test_2603_splits_illicit_and_keeps_jailbreaking_as_mistrals() -> None:
    result = moderations.translate_result(mistral_result(V2))
    assert result["category_scores"]["illicit"] == 0.9 and result["categories"]["illicit"] is True
    assert result["categories"]["illicit/violent"] is True
    assert result["mistral_categories"] == {
        k: V2[k] >= 0.5 for k in ("health", "financial", "law", "pii", "jailbreaking")
    }


def test_mistral_only_categories_do_not_flag() -> None:
    quiet = {**{k: 0.0 for k in V1}, "pii": 0.99, "financial": 0.99}
    result = moderations.translate_result(mistral_result(quiet))
    assert result["flagged"] is False and result["mistral_categories"]["pii"] is True


def test_a_result_count_that_does_not_match_the_inputs_is_a_502() -> None:
    with pytest.raises(OpenAIError) as failed:
        moderations.translate_response({"id": "x", "model": "m", "results": [mistral_result(V1)]}, 2)
    assert failed.value.status == 502


# --- through the shim ---------------------------------------------------------------------------------------


def test_the_openai_client_moderates_a_list_through_the_shim(faked: Faked) -> None:
    answer = faked.client.moderations.create(input=["I will hurt you", "hello"])
    assert len(answer.results) == 2 and answer.id.startswith("modr-")
    assert answer.results[0].categories.violence is True and answer.results[0].flagged is True
    assert answer.results[0].category_scores.sexual_minors == 0.0
    sent = faked.upstream.received[-1].json
    assert sent == {"input": ["I will hurt you", "hello"], "model": "mistral-moderation-latest"}
    extra = answer.results[0].model_extra or {}
    assert extra["mistral_categories"]["pii"] is True


def test_multimodal_parts_are_one_result_and_the_repair_is_named(faked: Faked) -> None:
    parts: Any = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
    raw = faked.client.moderations.with_raw_response.create(input=parts, model="omni-moderation-latest")
    assert len(raw.parse().results) == 1
    assert raw.headers["x-shim-repairs"] == "images-not-moderated"
    assert faked.upstream.received[-1].json["input"] == "look"


def test_an_image_only_input_is_a_400_before_mistral(faked: Faked) -> None:
    parts: Any = [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]
    with pytest.raises(openai.BadRequestError, match="text only"):
        faked.client.moderations.create(input=parts)
    assert faked.upstream.received == []
