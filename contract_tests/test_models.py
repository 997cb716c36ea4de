"""Models: ``client.models.list()`` and ``retrieve()``, what a team checks first after changing base_url.

Mistral's model list already has OpenAI's shape (``object: list``, ``data[].id/object/created/owned_by``)
plus its own keys, so it works unchanged without the shim; the shim keeps Mistral's keys (capabilities,
aliases) beside OpenAI's. An unknown id is a 404 either way, which the SDK raises as ``NotFoundError``.
"""

from __future__ import annotations

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types import Model

from contract_tests.targets import Target

EXPECTED = {"mistral-small-latest", "mistral-embed", "codestral-latest", "mistral-ocr-latest"}
UNKNOWN = "no-such-model-anywhere"


def _assert_card(model: Model, model_id: str) -> None:
    assert model.id == model_id
    assert model.object == "model"
    assert isinstance(model.created, int) and model.created > 0
    assert model.owned_by


def _capabilities(model: Model) -> dict[str, bool]:
    """Mistral's ``capabilities``, kept behind the shim and read by teams choosing a model."""
    extra = model.model_extra or {}
    capabilities = extra.get("capabilities")
    assert isinstance(capabilities, dict), f"{model.id} has no capabilities: {extra}"
    return capabilities


@pytest.mark.feature("Models", "list")
def test_list(client: OpenAI) -> None:
    models = list(client.models.list())  # the SDK's page iterates over the cards
    ids = [model.id for model in models]
    assert set(ids) >= EXPECTED
    assert len(ids) == len(set(ids)), "an id listed twice"
    for model in models:
        _assert_card(model, model.id)
    by_id = {model.id: model for model in models}
    assert _capabilities(by_id["codestral-latest"])["completion_fim"] is True
    assert _capabilities(by_id["mistral-embed"])["completion_chat"] is False


@pytest.mark.feature("Models", "list")
async def test_list_async(aclient: AsyncOpenAI) -> None:
    page = await aclient.models.list()
    ids = {model.id async for model in page}
    assert ids >= EXPECTED


@pytest.mark.feature("Models", "retrieve")
@pytest.mark.parametrize("model_id", ["mistral-small-latest", "mistral-embed"])
def test_retrieve(client: OpenAI, model_id: str) -> None:
    model = client.models.retrieve(model_id)
    _assert_card(model, model_id)
    assert isinstance(_capabilities(model)["completion_chat"], bool)


@pytest.mark.feature("Models", "retrieve")
async def test_retrieve_async(aclient: AsyncOpenAI) -> None:
    model = await aclient.models.retrieve("codestral-latest")
    _assert_card(model, "codestral-latest")


@pytest.mark.feature("Models", "retrieve")
def test_every_listed_chat_model_can_be_retrieved(client: OpenAI) -> None:
    """What a model picker does: list, then look each candidate up by the id the list gave."""
    listed = [model for model in client.models.list() if model.id.endswith("-latest")][:4]
    assert listed
    for model in listed:
        _assert_card(client.models.retrieve(model.id), model.id)


@pytest.mark.feature("Models", "retrieve an unknown model → NotFoundError")
def test_retrieve_unknown(client: OpenAI, target: Target) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        client.models.retrieve(UNKNOWN)
    error = raised.value
    assert error.status_code == 404
    assert UNKNOWN in error.message
    if target.via_shim:
        assert error.code == "model_not_found"
        assert error.param == "model"
        assert error.type == "invalid_request_error"
