"""Moderation and classification on the mock: each model's categories, deterministic scores, triggers,
thresholds, the live answer's shape and usage, and Mistral's refusals."""

import json
from typing import Any

import httpx2 as httpx
import pytest

from mistral_wire.contract.classifiers import MODERATION_V1, MODERATION_V2, THRESHOLD
from mistral_wire.contract.errors import MistralError
from mockserver import validation
from mockserver.sources.synthetic import answers
from testkit.spec import mistral_response_validator

LATEST = "mistral-moderation-latest"


def moderate(path: str = "/v1/moderations", **body: Any) -> dict[str, Any]:
    raw = json.dumps({"model": LATEST, **body}).encode()
    accepted = validation.accept(path, raw, None)
    return answers.POST_ROUTES[path](accepted).json(0)


def valid(schema: str, body: Any) -> None:
    problems = mistral_response_validator(schema)(body)
    assert problems == [], problems


def test_the_answer_has_the_live_shape_and_usage() -> None:
    body = moderate(input="you are a very nice person")
    valid("ModerationResponse", body)
    assert list(body) == ["id", "usage", "model", "results"]
    assert body["model"] == LATEST and len(body["id"]) == 32
    (result,) = body["results"]
    assert list(result) == ["category_scores", "categories"]
    usage = body["usage"]
    assert usage["completion_tokens"] == 0 and usage["request_count"] == 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + 89


@pytest.mark.parametrize(
    ("model", "categories"), [(LATEST, MODERATION_V1), ("mistral-moderation-2603", MODERATION_V2)]
)
def test_each_model_has_its_categories(model: str, categories: tuple[str, ...]) -> None:
    (result,) = moderate(model=model, input="hello")["results"]
    assert tuple(result["category_scores"]) == categories == tuple(result["categories"])


def test_scores_are_per_text_and_deterministic() -> None:
    alone = moderate(input="the weather is nice")["results"][0]
    listed = moderate(input=["something else", "the weather is nice"])["results"][1]
    assert alone == listed
    assert moderate(input="the weather is nice") == moderate(input="the weather is nice")
    assert all(score < 0.01 for score in alone["category_scores"].values()), "ordinary text scores low"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I will kill you", "violence_and_threats"),
        ("write to me at jane.doe@example.com", "pii"),
        ("how do I build a bomb", "dangerous_and_criminal_content"),
        ("you are disgusting", "hate_and_discrimination"),
    ],
)
def test_trigger_words_flag_their_category(text: str, category: str) -> None:
    (result,) = moderate(input=text)["results"]
    assert result["category_scores"][category] >= THRESHOLD and result["categories"][category] is True
    flagged = [name for name, value in result["categories"].items() if value]
    assert flagged == [category]
    assert all(
        (score >= THRESHOLD) == result["categories"][n] for n, score in result["category_scores"].items()
    )


def test_chat_moderation_judges_each_conversations_last_turn() -> None:
    threat = {"role": "user", "content": "I will kill you"}
    calm = {"role": "assistant", "content": "Let us talk about the weather."}
    body = moderate("/v1/chat/moderations", input=[[threat, calm], [calm, threat]])
    valid("ModerationResponse", body)
    first, second = body["results"]
    assert first["categories"]["violence_and_threats"] is False
    assert second["categories"]["violence_and_threats"] is True
    single = moderate("/v1/chat/moderations", input=[calm, threat])["results"]
    assert len(single) == 1 and single[0]["categories"]["violence_and_threats"] is True


def test_classification_answers_one_target_per_text() -> None:
    body = moderate("/v1/classifications", input=["buy stocks now", "hello"])
    valid("ClassificationResponse", body)
    assert list(body) == ["id", "model", "results"]
    first, second = body["results"]
    assert first["moderation"]["scores"]["financial"] >= THRESHOLD
    assert tuple(second["moderation"]["scores"]) == MODERATION_V1
    chat = moderate("/v1/chat/classifications", input={"messages": [{"role": "user", "content": "hello"}]})
    valid("ClassificationResponse", chat)
    assert chat["results"][0]["moderation"] == second["moderation"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/moderations", {"model": "mistral-small-latest", "input": "x"}),
        ("/v1/classifications", {"model": "mistral-embed", "input": "x"}),
        ("/v1/chat/moderations", {"model": "no-such-model", "input": [{"role": "user", "content": "x"}]}),
    ],
)
def test_a_model_that_does_not_moderate_is_invalid(path: str, body: dict[str, Any]) -> None:
    with pytest.raises(MistralError) as raised:
        validation.accept(path, json.dumps(body).encode(), None)
    assert raised.value.status == 400
    assert raised.value.body["message"] == f"Invalid model: {body['model']}"


def test_refusals_over_http_carry_mistrals_bodies(http: httpx.Client) -> None:
    extra = http.post("/v1/moderations", json={"model": LATEST, "input": "x", "temperature": 0})
    assert extra.status_code == 422
    (detail,) = extra.json()["message"]["detail"]
    assert (detail["type"], detail["loc"]) == ("extra_forbidden", ["body", "temperature"])
    wrong = http.post(
        "/v1/chat/moderations", json={"model": LATEST, "input": [{"role": "robot", "content": "x"}]}
    )
    assert wrong.status_code == 422
    missing = http.post("/v1/chat/classifications", json={"model": LATEST})
    assert [d["loc"] for d in missing.json()["message"]["detail"]] == [["body", "input"]]
    answer = http.post("/v1/moderations", json={"model": LATEST, "input": ["a", "b"]})
    assert answer.status_code == 200 and len(answer.json()["results"]) == 2
