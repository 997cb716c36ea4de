"""Scenarios of the Responses API's store, through the routes: the same checks on every store engine.

Each takes openai clients on a shim and the fake upstream (``testkit.upstream.Upstream``) in front of
Mistral (or the mock), so a test can assert both what the clients got and what reached Mistral.
"""

from typing import Any

import openai
import pytest
from openai import OpenAI

from testkit.upstream import Upstream

MODEL = "mistral-small-latest"


def user_texts(body: dict[str, Any]) -> list[str]:
    """The text of every user turn of a chat body Mistral received, in order."""
    out = []
    for message in body["messages"]:
        if message["role"] == "user":
            content = message["content"]
            out.append(content if isinstance(content, str) else "".join(p.get("text", "") for p in content))
    return out


def assert_isolated(owner: OpenAI, other: OpenAI, upstream: Upstream) -> None:
    """A response is found only with the credential that made it: another gets 404 on retrieve, input
    items and delete, 400 on ``previous_response_id`` and ``item_reference``, and nothing of it reaches
    Mistral."""
    made = owner.responses.create(model=MODEL, input="A secret: the code is 4217.")
    assert owner.responses.retrieve(made.id).id == made.id
    item = owner.responses.input_items.list(made.id).data[0].id
    sent = len(upstream.received)
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(made.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.input_items.list(made.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(made.id)
    with pytest.raises(openai.BadRequestError) as refused:
        other.responses.create(model=MODEL, input="What was the code?", previous_response_id=made.id)
    assert refused.value.body["code"] == "previous_response_not_found"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):
        other.responses.create(model=MODEL, input=[{"type": "item_reference", "id": item}])
    assert len(upstream.received) == sent  # none of it reached Mistral
    assert owner.responses.retrieve(made.id).id == made.id  # and the owner still has it


def assert_branches(client: OpenAI, upstream: Upstream) -> None:
    """Two requests continuing one response each get that response's history, and not each other's."""
    root = client.responses.create(model=MODEL, input="Pick a colour.")
    left = client.responses.create(model=MODEL, input="Why that one?", previous_response_id=root.id)
    right = client.responses.create(model=MODEL, input="Pick another.", previous_response_id=root.id)
    assert user_texts(upstream.last) == ["Pick a colour.", "Pick another."]
    client.responses.create(model=MODEL, input="And then?", previous_response_id=left.id)
    assert user_texts(upstream.last) == ["Pick a colour.", "Why that one?", "And then?"]
    client.responses.create(model=MODEL, input="And then?", previous_response_id=right.id)
    assert user_texts(upstream.last) == ["Pick a colour.", "Pick another.", "And then?"]
