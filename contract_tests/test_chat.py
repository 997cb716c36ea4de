"""Chat completions with every family of request parameters, as a team's code sends them.

Each OpenAI field has one of three fates on Mistral (``shim/translate/params.py`` FIELDS): Mistral knows it
under the same name, the shim renames or converts it, or the shim drops it and names it in
``x-shim-dropped-params``. The tests below show what a user of the openai client sees for each: behind the
shim the call works; straight at Mistral (the ``mock`` column) the fields Mistral does not know are a 422
``extra_forbidden`` and values outside Mistral's ranges a 422 naming the bound, exactly as the failure
catalogue reports them. Message shapes OpenAI accepts and Mistral refuses (``developer``, ``name``) are here
too; tool messages are in ``test_tools.py``.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion

from contract_tests.conftest import Breaks
from contract_tests.payloads import HELLO, MODEL, dropped, extra_forbidden, refusals

HISTORY: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a concise assistant. Answer in one sentence."},
    {"role": "user", "content": "Name a famous French cheese."},
    {"role": "assistant", "content": "Camembert is a famous French cheese."},
    {"role": "user", "content": "Which region does it come from?"},
]

# Chat loops below open with questions no other test asks, so that replaying recordings of the live API
# hands each its own first answer, which the next request then contains.
GREET_COLLEAGUE = [{"role": "user", "content": "Say hello to a new colleague."}]
GREET_NEIGHBOUR = [{"role": "user", "content": "Say hello to a new neighbour."}]


def answer_text(reply: ChatCompletion, finish: str = "stop") -> str:
    """The text of a one-choice answer, after checking the parts every chat answer has."""
    assert reply.object == "chat.completion"
    assert reply.model == MODEL
    assert len(reply.choices) == 1
    choice = reply.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == finish
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str)
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    return choice.message.content


# --- the plain call ---------------------------------------------------------------------------------------


@pytest.mark.feature("Chat", "a plain chat completion")
def test_a_plain_chat_completion_answers(client: OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=HELLO)
    assert answer_text(reply)
    assert reply.choices[0].message.tool_calls is None


@pytest.mark.feature("Chat", "a plain chat completion")
async def test_a_plain_chat_completion_answers_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.create(model=MODEL, messages=HELLO)
    assert answer_text(reply)
    assert reply.choices[0].message.tool_calls is None


# --- sampling ---------------------------------------------------------------------------------------------


@pytest.mark.feature("Chat", "temperature, top_p and penalties in Mistral's ranges")
def test_sampling_parameters_mistral_shares_work_unchanged(client: OpenAI) -> None:
    # presence/frequency penalties were a 422 until 2024-11 (catalogue 8); they must reach Mistral now.
    reply = client.chat.completions.create(
        model=MODEL,
        messages=HELLO,
        temperature=0.3,
        top_p=0.9,
        presence_penalty=0.5,
        frequency_penalty=0.25,
    )
    assert answer_text(reply)


@pytest.mark.feature("Chat", "temperature, top_p and penalties in Mistral's ranges")
async def test_sampling_parameters_mistral_shares_work_unchanged_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.create(
        model=MODEL,
        messages=HELLO,
        temperature=0.3,
        top_p=0.9,
        presence_penalty=0.5,
        frequency_penalty=0.25,
    )
    assert answer_text(reply)


@pytest.mark.feature("Chat", "temperature above Mistral's 1.5")
def test_a_temperature_openai_allows_and_mistral_does_not(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.UnprocessableEntityError, "temperature 1.8 → 422 less_than_equal") as broken:
        reply = client.chat.completions.create(model=MODEL, messages=HELLO, temperature=1.8)
        assert answer_text(reply)
    if broken is not None:
        assert refusals(broken.value) == {("body", "temperature"): "less_than_equal"}


@pytest.mark.feature("Chat", "top_p 0")
def test_top_p_zero_means_the_most_likely_token(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.UnprocessableEntityError, "top_p 0 → 422 greater_than") as broken:
        reply = client.chat.completions.create(model=MODEL, messages=HELLO, top_p=0)
        assert answer_text(reply)
    if broken is not None:
        assert refusals(broken.value) == {("body", "top_p"): "greater_than"}


@pytest.mark.feature("Chat", "seed")
@pytest.mark.parametrize("seed", [42, -1], ids=["positive", "negative"])
def test_seed_is_honoured(client: OpenAI, breaks: Breaks, seed: int) -> None:
    # Catalogue 4: ChatterUI sent seed -1. Mistral's name is random_seed, and it must be >= 0.
    with breaks(openai.UnprocessableEntityError, "seed → 422 extra_forbidden") as broken:
        reply = client.chat.completions.create(model=MODEL, messages=HELLO, seed=seed)
        assert answer_text(reply)
    if broken is not None:
        assert refusals(broken.value) == extra_forbidden("seed")


@pytest.mark.feature("Chat", "seed")
async def test_seed_is_honoured_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    with breaks(openai.UnprocessableEntityError, "seed → 422 extra_forbidden") as broken:
        reply = await aclient.chat.completions.create(model=MODEL, messages=HELLO, seed=7)
        assert answer_text(reply)
    if broken is not None:
        assert refusals(broken.value) == extra_forbidden("seed")


@pytest.mark.feature("Chat", "Mistral's own fields through extra_body")
def test_mistral_fields_sent_through_extra_body_work_everywhere(client: OpenAI) -> None:
    # The workaround a team finds without the shim: Mistral's names, which the shim lets through too.
    reply = client.chat.completions.create(
        model=MODEL, messages=HELLO, extra_body={"random_seed": 42, "safe_prompt": True}
    )
    assert answer_text(reply)


# --- length, stop sequences, several choices ----------------------------------------------------------------


def assert_cut_at(reply: Any, limit: int) -> None:
    """The answer stopped for length, within ``limit`` completion tokens."""
    answer_text(reply, finish="length")
    assert reply.usage is not None
    assert 0 < reply.usage.completion_tokens <= limit


@pytest.mark.feature("Chat", "max_tokens")
def test_max_tokens_cuts_the_answer(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Write a long story about a cat."}], max_tokens=5
    )
    assert_cut_at(reply, 5)


@pytest.mark.feature("Chat", "max_completion_tokens")
def test_max_completion_tokens_cuts_the_answer(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 2: the name OpenAI's newer clients send; Mistral only knows max_tokens.
    with breaks(openai.UnprocessableEntityError, "max_completion_tokens → 422 extra_forbidden") as broken:
        reply = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Write a long story about a cat."}],
            max_completion_tokens=5,
        )
        assert_cut_at(reply, 5)
    if broken is not None:
        assert refusals(broken.value) == extra_forbidden("max_completion_tokens")


@pytest.mark.feature("Chat", "max_completion_tokens")
async def test_max_completion_tokens_cuts_the_answer_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    with breaks(openai.UnprocessableEntityError, "max_completion_tokens → 422 extra_forbidden") as broken:
        reply = await aclient.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Write a long story about a dog."}],
            max_completion_tokens=4,
        )
        assert_cut_at(reply, 4)
    if broken is not None:
        assert refusals(broken.value) == extra_forbidden("max_completion_tokens")


@pytest.mark.feature("Chat", "stop sequences")
def test_stop_sequences_end_the_answer_before_them(client: OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=HELLO, stop=["e", "E"])
    text = answer_text(reply)
    assert "e" not in text.lower()


@pytest.mark.feature("Chat", "n choices")
def test_n_asks_for_several_choices(client: OpenAI) -> None:
    # Catalogue 7 (historical): n was a 422 in 2024 and is forwarded now.
    reply = client.chat.completions.create(model=MODEL, messages=HELLO, n=2)
    assert [choice.index for choice in reply.choices] == [0, 1]
    for choice in reply.choices:
        assert choice.finish_reason == "stop"
        assert isinstance(choice.message.content, str) and choice.message.content


@pytest.mark.feature("Chat", "n choices")
async def test_n_asks_for_several_choices_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.create(model=MODEL, messages=HELLO, n=3)
    assert [choice.index for choice in reply.choices] == [0, 1, 2]
    assert all(isinstance(choice.message.content, str) for choice in reply.choices)


# --- fields Mistral shares, fields it lacks -----------------------------------------------------------------


@pytest.mark.feature("Chat", "metadata and prompt_cache_key")
def test_metadata_and_prompt_cache_key_work_unchanged(client: OpenAI) -> None:
    # metadata was a 422 before 2025-12 (catalogue 9), prompt_cache_key arrived in 2026-05.
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=HELLO, metadata={"team": "search", "trace": "t-1"}, prompt_cache_key="greeting"
    )
    assert answer_text(raw.parse())
    assert dropped(raw.headers) == set()


@pytest.mark.feature("Chat", "metadata and prompt_cache_key")
async def test_metadata_and_prompt_cache_key_work_unchanged_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.create(
        model=MODEL, messages=HELLO, metadata={"team": "search"}, prompt_cache_key="greeting-async"
    )
    assert answer_text(reply)


OPENAI_ONLY: dict[str, Any] = {
    "user": "user-1234",
    "safety_identifier": "hashed-user-1234",
    "store": True,
    "logit_bias": {"1734": -100},
    "verbosity": "low",
    "web_search_options": {},
    "audio": {"voice": "alloy", "format": "mp3"},
    "prompt_cache_retention": "24h",
}


@pytest.mark.feature("Chat", "OpenAI-only fields (user, store, logit_bias, ...)")
@pytest.mark.parametrize("field", sorted(OPENAI_ONLY))
def test_an_openai_only_field_is_dropped_and_named(client: OpenAI, breaks: Breaks, field: str) -> None:
    # Catalogue 3 (store) and 5 (user): a 422 for the whole request, for a field that changes nothing.
    with breaks(openai.UnprocessableEntityError, "each → 422 extra_forbidden") as broken:
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=HELLO, **{field: OPENAI_ONLY[field]}
        )
        assert answer_text(raw.parse())
        assert dropped(raw.headers) == {field}
    if broken is not None:
        assert refusals(broken.value) == extra_forbidden(field)


@pytest.mark.feature("Chat", "OpenAI-only fields (user, store, logit_bias, ...)")
async def test_an_openai_only_field_is_dropped_and_named_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    with breaks(openai.UnprocessableEntityError, "each → 422 extra_forbidden") as broken:
        raw = await aclient.chat.completions.with_raw_response.create(
            model=MODEL, messages=HELLO, user="user-1234", store=True
        )
        assert answer_text(raw.parse())
        assert dropped(raw.headers) == {"user", "store"}
    if broken is not None:
        assert refusals(broken.value) == extra_forbidden("user", "store")


@pytest.mark.feature("Chat", "OpenAI defaults sent explicitly")
def test_openai_defaults_are_left_out_silently(client: OpenAI, breaks: Breaks) -> None:
    # What SDK wrappers send on every call (openclaude sent store:false): values that change nothing.
    defaults: dict[str, Any] = {
        "store": False,
        "logprobs": False,
        "modalities": ["text"],
        "verbosity": "medium",
        "logit_bias": {},
    }
    with breaks(
        openai.UnprocessableEntityError, "store:false, modalities:[text] ... → 422 extra_forbidden"
    ) as broken:
        raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=HELLO, **defaults)
        assert answer_text(raw.parse())
        assert "x-shim-dropped-params" not in raw.headers
    if broken is not None:  # logprobs:false is Mistral's too now (mistralai 3.x): only the others are refused
        assert refusals(broken.value) == extra_forbidden(*(key for key in defaults if key != "logprobs"))


def assert_scored(content: Any, text: str, alternatives: int) -> None:
    """Log probabilities as a client scoring an answer by confidence reads them: one entry per token, the
    tokens joined are the text, each at most 0 with its bytes, and the alternatives asked for, most likely
    first."""
    assert content, "no logprobs came back"
    assert "".join(entry.token for entry in content) == text
    for entry in content:
        assert entry.logprob <= 0
        assert bytes(entry.bytes).decode() == entry.token
        assert len(entry.top_logprobs or []) == alternatives  # Mistral leaves it out when none are asked for
        scores = [alternative.logprob for alternative in entry.top_logprobs or []]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.feature("Chat", "logprobs")
def test_logprobs_score_every_token(client: OpenAI) -> None:
    # Mistral's SDK 3.x sends and reads them: they work unchanged, and the shim keeps them.
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=HELLO, logprobs=True, top_logprobs=3
    )
    reply = raw.parse()
    assert reply.choices[0].logprobs is not None
    assert_scored(reply.choices[0].logprobs.content, answer_text(reply), 3)
    assert "x-shim-dropped-params" not in raw.headers


@pytest.mark.feature("Chat", "logprobs")
def test_logprobs_stream_with_every_chunk(client: OpenAI) -> None:
    entries: list[Any] = []
    text = ""
    for chunk in client.chat.completions.create(
        model=MODEL, messages=HELLO, logprobs=True, top_logprobs=2, stream=True
    ):
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.logprobs is not None and choice.logprobs.content:
                assert choice.delta.content, "logprobs on a chunk that carries no text"
                entries.extend(choice.logprobs.content)
    assert_scored(entries, text, 2)


@pytest.mark.feature("Chat", "logprobs")
async def test_logprobs_score_every_token_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.create(model=MODEL, messages=HELLO, logprobs=True)
    assert reply.choices[0].logprobs is not None
    assert_scored(reply.choices[0].logprobs.content, answer_text(reply), 0)


@pytest.mark.feature("Chat", "service_tier")
def test_service_tier_auto_works_unchanged(client: OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=HELLO, service_tier="auto")
    assert answer_text(reply)


@pytest.mark.feature("Chat", "service_tier")
@pytest.mark.parametrize(("tier", "named"), [("default", set()), ("flex", {"service_tier"})])
def test_service_tiers_mistral_names_otherwise(
    client: OpenAI, breaks: Breaks, tier: str, named: set[str]
) -> None:
    # Mistral's tiers are auto and standard_only: "default" is standard_only, "flex" has no counterpart.
    with breaks(openai.UnprocessableEntityError, "service_tier default/flex → 422 literal_error") as broken:
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL,
            messages=HELLO,
            service_tier=tier,  # type: ignore[arg-type]
        )
        assert answer_text(raw.parse())
        assert dropped(raw.headers) == named
    if broken is not None:
        assert refusals(broken.value) == {("body", "service_tier"): "literal_error"}


# --- reasoning and prediction -------------------------------------------------------------------------------


def assert_reasoned(reply: ChatCompletion, breaks: Breaks) -> None:
    """Behind the shim: text in ``content``, the thinking in ``reasoning_content``; without it, a list."""
    message = reply.choices[0].message
    if breaks.expected:
        breaks.note("content is a list of thinking and text chunks (catalogue #32)")
        assert isinstance(message.content, list)
        assert [part["type"] for part in message.content] == ["thinking", "text"]
        return
    assert isinstance(message.content, str) and message.content
    reasoning = (message.model_extra or {}).get("reasoning_content")
    assert isinstance(reasoning, str) and reasoning


@pytest.mark.feature("Chat", "reasoning_effort")
def test_reasoning_effort_keeps_the_text_a_string(client: OpenAI, breaks: Breaks) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=HELLO, reasoning_effort="high")
    assert reply.choices[0].finish_reason == "stop"
    assert_reasoned(reply, breaks)


@pytest.mark.feature("Chat", "reasoning_effort")
async def test_reasoning_effort_keeps_the_text_a_string_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    reply = await aclient.chat.completions.create(model=MODEL, messages=HELLO, reasoning_effort="high")
    assert reply.choices[0].finish_reason == "stop"
    assert_reasoned(reply, breaks)


@pytest.mark.feature("Chat", "reasoning_effort")
def test_reasoning_effort_none_answers_plain_text(client: OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=HELLO, reasoning_effort="none")
    assert answer_text(reply)
    assert "reasoning_content" not in (reply.choices[0].message.model_extra or {})


@pytest.mark.feature("Chat", "prediction")
def test_a_predicted_output_as_a_string_works_unchanged(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL, messages=HELLO, prediction={"type": "content", "content": "Hello! Nice to meet you."}
    )
    assert answer_text(reply)


@pytest.mark.feature("Chat", "prediction")
def test_a_predicted_output_as_text_parts(client: OpenAI, breaks: Breaks) -> None:
    # OpenAI takes a list of text parts; Mistral's prediction content is one string.
    prediction: Any = {
        "type": "content",
        "content": [{"type": "text", "text": "Hello! "}, {"type": "text", "text": "Hi."}],
    }
    with breaks(openai.UnprocessableEntityError, "text parts → 422 string_type") as broken:
        reply = client.chat.completions.create(model=MODEL, messages=HELLO, prediction=prediction)
        assert answer_text(reply)
    if broken is not None:
        assert refusals(broken.value) == {("body", "prediction", "content"): "string_type"}


@pytest.mark.feature("Chat", "prediction")
async def test_a_predicted_output_as_text_parts_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    prediction: Any = {"type": "content", "content": [{"type": "text", "text": "Hello."}]}
    with breaks(openai.UnprocessableEntityError, "text parts → 422 string_type") as broken:
        reply = await aclient.chat.completions.create(model=MODEL, messages=HELLO, prediction=prediction)
        assert answer_text(reply)
    if broken is not None:
        assert refusals(broken.value) == {("body", "prediction", "content"): "string_type"}


# --- messages -----------------------------------------------------------------------------------------------


@pytest.mark.feature("Chat messages", "system turn and multi-turn history")
def test_a_system_turn_and_a_multi_turn_history_work_unchanged(client: OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=HISTORY)
    assert answer_text(raw.parse())
    assert "x-shim-repairs" not in raw.headers


@pytest.mark.feature("Chat messages", "system turn and multi-turn history")
async def test_a_system_turn_and_a_multi_turn_history_work_unchanged_async(aclient: AsyncOpenAI) -> None:
    reply = await aclient.chat.completions.create(model=MODEL, messages=HISTORY)
    assert answer_text(reply)


@pytest.mark.feature("Chat messages", "the answer's message appended to the history")
def test_the_answers_message_object_can_be_sent_back(client: OpenAI) -> None:
    # What chat loops do: messages.append(reply.choices[0].message), the SDK's object with its null keys.
    first = client.chat.completions.create(model=MODEL, messages=GREET_COLLEAGUE)
    history: list[Any] = [
        *GREET_COLLEAGUE,
        first.choices[0].message,
        {"role": "user", "content": "Now say goodbye."},
    ]
    second = client.chat.completions.create(model=MODEL, messages=history)
    assert answer_text(second)


@pytest.mark.feature("Chat messages", "the answer's message appended to the history")
async def test_the_answers_message_object_can_be_sent_back_async(aclient: AsyncOpenAI) -> None:
    first = await aclient.chat.completions.create(model=MODEL, messages=GREET_NEIGHBOUR)
    history: list[Any] = [
        *GREET_NEIGHBOUR,
        first.choices[0].message,
        {"role": "user", "content": "Now say bye."},
    ]
    second = await aclient.chat.completions.create(model=MODEL, messages=history)
    assert answer_text(second)


@pytest.mark.feature("Chat messages", "text content parts")
def test_text_content_parts_work_unchanged(client: OpenAI) -> None:
    messages: list[Any] = [
        {"role": "system", "content": [{"type": "text", "text": "Answer in one sentence."}]},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Say hello"}, {"type": "text", "text": " to Paris."}],
        },
    ]
    reply = client.chat.completions.create(model=MODEL, messages=messages)
    assert answer_text(reply)


@pytest.mark.feature("Chat messages", "developer role")
def test_a_developer_turn_is_a_system_turn(client: OpenAI, breaks: Breaks) -> None:
    # Catalogue 21: OpenAI's newer clients send developer where older ones sent system.
    messages: list[Any] = [{"role": "developer", "content": "Answer in one sentence."}, *HELLO]
    with breaks(openai.UnprocessableEntityError, "developer → 422 union_tag_invalid") as broken:
        raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages)
        assert answer_text(raw.parse())
        assert "developer-role" in raw.headers["x-shim-repairs"].split(",")
    if broken is not None:
        assert refusals(broken.value) == {("body", "messages", 0): "union_tag_invalid"}


@pytest.mark.feature("Chat messages", "developer role")
async def test_a_developer_turn_is_a_system_turn_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    messages: list[Any] = [{"role": "developer", "content": "Answer briefly."}, *HELLO]
    with breaks(openai.UnprocessableEntityError, "developer → 422 union_tag_invalid") as broken:
        reply = await aclient.chat.completions.create(model=MODEL, messages=messages)
        assert answer_text(reply)
    if broken is not None:
        assert refusals(broken.value) == {("body", "messages", 0): "union_tag_invalid"}


NAMED_TURNS: dict[str, list[Any]] = {
    "user": [{"role": "user", "content": "Say hello to me.", "name": "alice"}],
    "assistant": [
        {"role": "user", "content": "Say hello."},
        {"role": "assistant", "content": "Hello!", "name": "helper_bot"},
        {"role": "user", "content": "Now say goodbye."},
    ],
    "system": [{"role": "system", "content": "Be brief.", "name": "rules"}, *HELLO],
}


@pytest.mark.feature("Chat messages", "name on user, assistant and system turns")
@pytest.mark.parametrize("role", sorted(NAMED_TURNS))
def test_a_name_on_a_turn_is_left_out(client: OpenAI, breaks: Breaks, role: str) -> None:
    # Catalogue 12: only tool messages may carry a name on Mistral.
    messages = NAMED_TURNS[role]
    position = next(i for i, message in enumerate(messages) if "name" in message)
    with breaks(openai.UnprocessableEntityError, "name → 422 extra_forbidden") as broken:
        raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages)
        assert answer_text(raw.parse())
        assert "message-keys" in raw.headers["x-shim-repairs"].split(",")
    if broken is not None:
        assert refusals(broken.value) == {("body", "messages", position, role, "name"): "extra_forbidden"}
