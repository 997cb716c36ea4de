"""Two frictions a migrating team meets first: which key is wrong, and which model answered.

A client without a key and a client with a key that is not one of the shim's client keys get different
401s (``missing_api_key`` and ``invalid_api_key``), so the fix is obvious from the error. A request for an
alias (``gpt-4o-mini``) is answered with the alias as ``model``, in JSON and in every stream event, as the
OpenAI SDK and LangChain expect, and the Mistral model that answered is in ``x-mistral-model``.
"""

from collections.abc import Callable

import httpx2 as httpx
import openai
import pytest
from openai import OpenAI

from shim.settings import load as load_settings
from testkit.auth import CLIENT_KEY, KEY, UPSTREAM_KEY

CHAT = [{"role": "user", "content": "Say hello."}]
ALIASES = {"gpt-4o-mini": "mistral-small-latest", "text-embedding-3-small": "mistral-embed"}


def client(url: str, key: str = KEY) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=30)


def test_a_missing_key_and_a_wrong_key_are_told_apart(
    start_mock: Callable[..., str], start_shim: Callable[..., str]
) -> None:
    mock = start_mock(api_keys=frozenset({UPSTREAM_KEY}))
    shim = start_shim(upstream=mock, mistral_api_key=UPSTREAM_KEY, client_keys=frozenset({CLIENT_KEY}))
    missing = httpx.post(f"{shim}/v1/chat/completions", json={"model": "m", "messages": CHAT}).json()
    assert missing["error"]["code"] == "missing_api_key"
    assert "didn't provide an API key" in missing["error"]["message"]
    with pytest.raises(openai.AuthenticationError) as wrong:
        client(shim, "not-a-client-key").chat.completions.create(model="mistral-small-latest", messages=CHAT)
    assert wrong.value.code == "invalid_api_key"
    assert "not one of this shim's client keys" in wrong.value.message
    assert "didn't provide" not in wrong.value.message


def test_without_its_own_key_a_missing_key_is_still_named(start_shim: Callable[..., str]) -> None:
    shim = start_shim()
    answer = httpx.get(f"{shim}/v1/models")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "missing_api_key"


def test_an_aliased_chat_is_answered_with_the_alias(start_shim: Callable[..., str]) -> None:
    shim = client(start_shim(aliases=ALIASES))
    raw = shim.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=CHAT)
    assert raw.parse().model == "gpt-4o-mini"
    assert raw.headers["x-mistral-model"] == "mistral-small-latest"
    events = list(
        shim.chat.completions.create(
            model="gpt-4o-mini", messages=CHAT, stream=True, stream_options={"include_usage": True}
        )
    )
    assert events and {event.model for event in events} == {"gpt-4o-mini"}


def test_an_unaliased_model_is_echoed_as_mistral_sent_it(start_shim: Callable[..., str]) -> None:
    shim = client(start_shim(aliases=ALIASES))
    raw = shim.chat.completions.with_raw_response.create(model="mistral-small-latest", messages=CHAT)
    assert raw.parse().model == "mistral-small-latest"
    assert raw.headers["x-mistral-model"] == "mistral-small-latest"


def test_aliased_embeddings_and_legacy_completions_echo_the_alias(start_shim: Callable[..., str]) -> None:
    shim = client(start_shim(aliases={**ALIASES, "gpt-3.5-turbo-instruct": "mistral-small-latest"}))
    embedded = shim.embeddings.with_raw_response.create(model="text-embedding-3-small", input=["a", "b"])
    assert embedded.parse().model == "text-embedding-3-small"
    assert embedded.headers["x-mistral-model"] == "mistral-embed"
    completed = shim.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi")
    assert completed.model == "gpt-3.5-turbo-instruct"


def test_an_aliased_response_says_the_alias_everywhere(start_shim: Callable[..., str]) -> None:
    """The Response, each of its stream's events (the opening one included) and the stored Response all
    name the alias; a stream keeps the Responses API's own events around the relabelled ones."""
    shim = client(start_shim(aliases=ALIASES))
    raw = shim.responses.with_raw_response.create(model="gpt-4o-mini", input="Say hello.")
    created = raw.parse()
    assert created.model == "gpt-4o-mini" and raw.headers["x-mistral-model"] == "mistral-small-latest"
    assert shim.responses.retrieve(created.id).model == "gpt-4o-mini"
    events = list(shim.responses.create(model="gpt-4o-mini", input="Say hello.", stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert {event.response.model for event in events if hasattr(event, "response")} == {"gpt-4o-mini"}


def test_mistral_base_url_ending_in_v1_is_normalised(start_shim: Callable[..., str], mock_url: str) -> None:
    """LangChain's habit, ``MISTRAL_BASE_URL=https://api.mistral.ai/v1``, is read as the base URL."""
    settings = load_settings({}, environ={"MISTRAL_BASE_URL": f"{mock_url}/v1/"})
    assert settings.upstream == f"{mock_url}/v1/"
    shim = client(start_shim(upstream=settings.upstream))
    assert shim.chat.completions.create(model="mistral-small-latest", messages=CHAT).choices
