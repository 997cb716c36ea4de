"""The contract against Mistral's newest evidence: the mistralai SDK's models, field by field.

``make test`` pins the SDK release the contract was last checked against (``CHECKED_AGAINST``), so this is
deterministic and a Mistral release never breaks an unrelated change; ``make drift`` installs the newest
release and prints the same report (``python -m testkit.drift``). The check's own tests below show it
finds what it must: a field the SDK adds, a type it changes, a field only the contract has.
"""

from importlib import metadata
from typing import ClassVar, Literal

import pytest
from mistralai.client.models import ChatCompletionRequest as SDKChatRequest

from mistral_wire.contract.requests import ChatCompletionRequest, EmbeddingRequest
from testkit.drift import compare, contract_models, report

CHECKED_AGAINST = "3.7.0"
"""The mistralai release the contract was last held against (pinned in pyproject.toml's test extra)."""


def test_the_installed_sdk_is_the_release_the_contract_was_checked_against() -> None:
    assert metadata.version("mistralai") == CHECKED_AGAINST, (
        "run make drift, update the contract, then the pin"
    )


def test_every_route_the_mock_serves_is_checked() -> None:
    names = {model.__name__ for model in contract_models()}
    assert {"ChatCompletionRequest", "FIMCompletionRequest", "EmbeddingRequest", "OCRRequest"} <= names


@pytest.mark.parametrize("model", contract_models(), ids=lambda model: model.__name__)
def test_the_contract_agrees_with_mistrals_sdk(model: type) -> None:
    differences = report([model])[model.__name__]
    assert differences == [], "\n".join(str(difference) for difference in differences)


def test_a_field_the_sdk_adds_is_named_with_its_source() -> None:
    class Newer(SDKChatRequest):
        speculative_decoding: bool | None = None

    found = [str(difference) for difference in compare(ChatCompletionRequest, Newer)]
    assert found == [
        "ChatCompletionRequest.speculative_decoding: in mistralai "
        f"{CHECKED_AGAINST}'s Newer, not in the contract"
    ]


def test_a_type_the_sdk_changes_is_named_with_both_types() -> None:
    class Changed(SDKChatRequest):
        top_k: str | None = None  # type: ignore[assignment]  # the change under test
        reasoning_effort: Literal["low", "high"] | None = None  # type: ignore[assignment]  # likewise

    found = {difference.path: difference.what for difference in compare(ChatCompletionRequest, Changed)}
    assert set(found) == {"ChatCompletionRequest.top_k", "ChatCompletionRequest.reasoning_effort"}
    assert (
        "['integer']" in found["ChatCompletionRequest.top_k"]
        and "['string']" in found["ChatCompletionRequest.top_k"]
    )
    assert "'max'" in found["ChatCompletionRequest.reasoning_effort"]


def test_a_field_only_the_contract_has_needs_its_evidence() -> None:
    class Wider(EmbeddingRequest):
        priority: int | None = None

    from mistralai.client.models import EmbeddingRequest as SDKEmbeddingRequest

    assert [str(d) for d in compare(Wider, SDKEmbeddingRequest)] == [
        f"Wider.priority: in the contract, not in mistralai {CHECKED_AGAINST}'s EmbeddingRequest"
    ]

    class Documented(Wider):
        BEYOND_SDK: ClassVar[dict[str, str]] = {"priority": "a live recording of 2026-11"}

    assert compare(Documented, SDKEmbeddingRequest) == []


def test_the_mocks_new_routes_are_checked() -> None:
    names = {model.__name__ for model in contract_models()}
    assert {
        "ClassificationRequest",
        "ChatModerationRequest",
        "ChatClassificationRequest",
        "SpeechRequest",
        "AudioTranscriptionRequest",
        "AudioTranscriptionRequestStream",
        "CreateBatchJobRequest",
        "CreateResponseRequest",
    } <= names


def test_a_speech_turn_the_sdk_changes_is_found_inside_the_history() -> None:
    """Nested models are compared too: a turn the SDK gives a new field shows up at its place."""
    from mistralai.client.models import SpeechRequest as SDKSpeechRequest
    from mistralai.client.models import SpeechUserTurn as SDKUserTurn

    from mistral_wire.contract.audio import SpeechRequest

    class SpeechUserTurn(SDKUserTurn):
        transcript: str | None = None

    class Newer(SDKSpeechRequest):
        conversation_history: list[SpeechUserTurn] | None = None  # type: ignore[assignment]  # under test

    found = [str(difference) for difference in compare(SpeechRequest, Newer)]
    assert any("conversation_history" in line and "transcript" in line for line in found), found


def test_a_form_file_part_is_not_compared_as_json() -> None:
    """The SDK types an upload as its ``File``, the contract as the form reader's token: not a difference,
    but the field must still exist on both sides."""
    from mistralai.client.models import AudioTranscriptionRequest as SDKTranscription

    from mistral_wire.contract.audio import AudioTranscriptionRequest

    assert compare(AudioTranscriptionRequest, SDKTranscription) == []

    class NoFile(SDKTranscription):
        model_config = {"extra": "ignore"}

    NoFile.model_fields.pop("file")
    NoFile.model_rebuild(force=True)
    found = [str(difference) for difference in compare(AudioTranscriptionRequest, NoFile)]
    assert found == [
        f"AudioTranscriptionRequest.file: in the contract, not in mistralai {CHECKED_AGAINST}'s NoFile"
    ]
