"""The request tables: every OpenAI field has a row, every row's fate is what the row says.

Two oracles keep the tables honest. OpenAI's spec (``../shared/specs/openai-openapi.yaml``) says which
fields a table must cover, and no more. Mistral's own contract models, the ones the mock validates with
(``mistral_wire.contract.requests``), say whether a translated body would be accepted: there is no second
list of Mistral's fields anywhere in the tests.
"""

from collections.abc import Mapping
from typing import Any

import pytest
from openai import OpenAI, pydantic_function_tool
from pydantic import BaseModel

from mistral_wire.contract import semantics
from mistral_wire.contract.requests import ChatCompletionRequest, FIMCompletionRequest
from shim.translate import audio, batch, completions, embeddings, files, moderations, table
from shim.translate.chat import request as params
from shim.translate.context import Options
from shim.translate.problem import OpenAIError
from shim.translate.responses import request as responses_request
from testkit.paths import ROOT
from testkit.spec import component_schemas, openai_spec

DROP = Options()
TABLES = (
    params.FIELDS,
    embeddings.FIELDS,
    completions.FIELDS,
    responses_request.FIELDS,
    files.FIELDS,
    files.LIST_FIELDS,
    batch.FIELDS,
    batch.LIST_FIELDS,
    moderations.FIELDS,
    audio.TRANSCRIPTION_FIELDS,
    audio.SPEECH_FIELDS,
)
"""Every translation table: each row's reason is checked, and found in the README's tables."""
ERROR = Options(unsupported="error")
USER = [{"role": "user", "content": "What is the weather in Paris?"}]
MODEL = "mistral-large-latest"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def openai_fields(schema_name: str) -> set[str]:
    """Every property of an OpenAI request schema, its ``allOf``/``anyOf`` parts and their ``$ref``s."""
    schemas = component_schemas(openai_spec())
    found: set[str] = set()
    pending = [schemas[schema_name]]
    while pending:
        node = pending.pop()
        ref = node.get("$ref")
        if isinstance(ref, str):
            pending.append(schemas[ref.rsplit("/", 1)[-1]])
        for key in ("allOf", "anyOf", "oneOf"):
            pending.extend(node.get(key, []))
        found.update(node.get("properties", {}))
    return found


@pytest.mark.parametrize(
    ("schema", "fields"),
    [
        ("CreateChatCompletionRequest", params.FIELDS),
        ("CreateEmbeddingRequest", embeddings.FIELDS),
        ("CreateCompletionRequest", completions.FIELDS),
        ("CreateResponse", responses_request.FIELDS),
    ],
)
def test_a_table_has_one_row_per_field_of_openais_request(schema: str, fields: Mapping[str, Any]) -> None:
    spec_fields = openai_fields(schema)
    assert len(spec_fields) > 4, "the spec walk found too few fields to be trusted"
    assert sorted(spec_fields - set(fields)) == [], f"{schema} fields without a row"
    assert sorted(set(fields) - spec_fields) == [], f"rows for fields {schema} does not have"


def test_the_chat_table_walk_reaches_the_allof_parts() -> None:
    # CreateChatCompletionRequest is an allOf of CreateModelResponseProperties (metadata, user, ...) and
    # its own properties: a walk that missed the first part would miss these.
    assert {"metadata", "user", "safety_identifier", "prompt_cache_key", "temperature"} <= openai_fields(
        "CreateChatCompletionRequest"
    )


def test_every_row_says_why_and_the_readme_says_the_same() -> None:
    """A reason is a phrase of its own (not the field's name, not a stub), a renamed or converted field's
    reason names the Mistral field it becomes, and the README's table states that same reason for it."""
    readme = (ROOT / "README.md").read_text()
    for fields in TABLES:
        for key, row in fields.items():
            words = row.reason.split()
            assert len(words) >= 3 and row.reason != key and not row.reason.endswith("."), (key, row.reason)
            if row.fate == "rename" or (row.fate == "convert" and row.target not in (None, key)):
                assert row.target is not None and row.target in row.reason.replace("'", ""), (key, row.reason)
            cell = row.reason.replace("|", "\\|")
            assert any(
                line.startswith(f"| `{key}` |") and line.endswith(f"| {cell} |")
                for line in readme.splitlines()
            ), f"README.md has no table row for {key} with its reason"


# --- the chat table, row by row -----------------------------------------------------------------------------


def chat(options: Options = DROP, **fields: Any) -> Any:
    return params.translate_chat_request({"model": MODEL, "messages": USER, **fields}, options)


def accepted(body: dict[str, Any]) -> ChatCompletionRequest:
    """The body as Mistral's contract reads it, schema and semantic checks both (raises otherwise)."""
    request = ChatCompletionRequest.model_validate(body)
    semantics.check_chat(request)
    return request


KEEP_CASES: dict[str, Any] = {
    "stream": True,
    "stop": ["\n\n", "END", "###", "Q:", "A:"],  # five: OpenAI allows four, Mistral has no limit
    "n": 3,
    "max_tokens": 64,
    "presence_penalty": 0.5,
    "frequency_penalty": -0.25,
    "parallel_tool_calls": False,
    "prompt_cache_key": "tenant-42",
    "metadata": {"trace": "abc", "team": "search"},
    # Mistral's newest contract (mistralai 3.x) takes these as OpenAI does.
    "logprobs": True,
    "top_logprobs": 5,
    "reasoning_effort": "max",
}


@pytest.mark.parametrize(("key", "value"), KEEP_CASES.items())
def test_a_keep_row_sends_the_same_value_under_the_same_name(key: str, value: Any) -> None:
    assert params.FIELDS[key].fate == "keep"
    model = "mistral-small-latest" if key == "reasoning_effort" else MODEL  # a model that reasons
    translated = chat(model=model, **{key: value})
    assert translated.body[key] == value
    assert translated.dropped == ()
    assert getattr(accepted(translated.body), key) == value


@pytest.mark.parametrize(
    ("value", "sent"),
    [(42, 42), (0, 0), (-1, 4294967295), (-2, 4294967294), (2**40, 2**40)],
)
def test_seed_is_sent_as_random_seed_with_negatives_mapped(value: int, sent: int) -> None:
    body = chat(seed=value).body
    assert body["random_seed"] == sent
    assert "seed" not in body
    accepted(body)


def test_seed_that_is_not_an_integer_is_refused() -> None:
    with pytest.raises(OpenAIError) as caught:
        chat(seed="7")
    assert (caught.value.status, caught.value.param) == (400, "seed")


def test_max_completion_tokens_is_sent_as_max_tokens() -> None:
    body = chat(max_completion_tokens=321).body
    assert body["max_tokens"] == 321
    assert "max_completion_tokens" not in body
    accepted(body)


def test_model_resolves_a_configured_alias_and_keeps_other_ids() -> None:
    aliased = Options(aliases={"gpt-4o-mini": "mistral-small-latest"})
    assert chat(aliased, model="gpt-4o-mini").body["model"] == "mistral-small-latest"
    assert chat(aliased, model="mistral-medium-latest").body["model"] == "mistral-medium-latest"


def test_messages_are_translated() -> None:
    body = chat(messages=[{"role": "developer", "content": "Be brief."}, *USER]).body
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, *USER]
    accepted(body)


@pytest.mark.parametrize(("value", "sent"), [(2.0, 1.5), (1.7, 1.5), (1.5, 1.5), (0.7, 0.7), (0, 0)])
def test_temperature_is_clamped_to_mistrals_maximum(value: float, sent: float) -> None:
    body = chat(temperature=value).body
    assert body["temperature"] == sent
    accepted(body)


@pytest.mark.parametrize(
    ("value", "sent"), [(0, table.MIN_TOP_P), (0.0, table.MIN_TOP_P), (0.9, 0.9), (1, 1)]
)
def test_top_p_zero_becomes_a_tiny_positive_nucleus(value: float, sent: float) -> None:
    body = chat(top_p=value).body
    assert body["top_p"] == sent
    accepted(body)


@pytest.mark.parametrize(
    ("value", "usage"), [({"include_usage": True}, True), ({"include_usage": False}, False)]
)
def test_stream_options_is_never_sent_and_include_usage_is_remembered(value: Any, usage: bool) -> None:
    translated = chat(ERROR, stream=True, stream_options=value)
    assert "stream_options" not in translated.body
    assert translated.context.include_usage is usage
    assert translated.dropped == ()
    accepted(translated.body)


def test_response_format_json_schema_keeps_strict_and_loses_schema_ids() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://example.com/answer",
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    value = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
    body = chat(response_format=value).body
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"answer": {"type": "string"}},
                "required": ["answer"],
                "additionalProperties": False,
            },
        },
    }
    assert "$schema" in schema, "the caller's schema must not be modified"
    accepted(body)


@pytest.mark.parametrize("value", [{"type": "json_object"}, {"type": "text"}])
def test_response_format_without_a_schema_is_sent_as_is(value: dict[str, Any]) -> None:
    body = chat(response_format=value).body
    assert body["response_format"] == value
    accepted(body)


def test_tools_are_rebuilt_with_parameters_and_clean_schemas() -> None:
    tools = [
        {"type": "function", "function": {"name": "now", "description": None}},  # no parameters
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "strict": True,
                "parameters": {"$schema": "x", "type": "object", "properties": {"q": {"type": "string"}}},
            },
        },
    ]
    body = chat(tools=tools).body
    assert body["tools"] == [
        {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}},
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "strict": True,
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
        },
    ]
    accepted(body)


def test_an_empty_tools_list_is_omitted_with_its_tool_choice() -> None:
    translated = chat(tools=[], tool_choice="auto")
    assert "tools" not in translated.body
    assert "tool_choice" not in translated.body
    assert "empty-tools-omitted" in translated.repairs
    accepted(translated.body)


def test_custom_tools_are_refused_with_the_reason() -> None:
    with pytest.raises(OpenAIError) as caught:
        chat(tools=[{"type": "custom", "custom": {"name": "grammar"}}])
    assert (caught.value.status, caught.value.param) == (400, "tools")
    assert "Custom" in caught.value.message


@pytest.mark.parametrize(
    "value",
    [
        "auto",
        "none",
        "required",
        "any",
        {"type": "function", "function": {"name": "get_weather"}},
    ],
)
def test_every_tool_choice_form_is_sent_unchanged(value: Any) -> None:
    body = chat(tools=[WEATHER], tool_choice=value).body
    assert body["tool_choice"] == value
    accepted(body)


def test_allowed_tools_narrows_tools_and_keeps_its_mode() -> None:
    other = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
    choice = {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": "required",
            "tools": [{"type": "function", "function": {"name": "get_time"}}],
        },
    }
    body = chat(tools=[WEATHER, other], tool_choice=choice).body
    assert [tool["function"]["name"] for tool in body["tools"]] == ["get_time"]
    assert body["tool_choice"] == "required"
    accepted(body)


def test_custom_tool_choice_is_refused() -> None:
    with pytest.raises(OpenAIError) as caught:
        chat(tools=[WEATHER], tool_choice={"type": "custom", "custom": {"name": "x"}})
    assert (caught.value.status, caught.value.param) == (400, "tool_choice")


def test_tool_choice_without_tools_is_not_sent() -> None:
    body = chat(tool_choice="required").body
    assert "tool_choice" not in body
    accepted(body)


def test_legacy_functions_become_tools_and_mark_the_answer_legacy() -> None:
    translated = chat(functions=[WEATHER["function"]])
    assert translated.body["tools"] == [WEATHER]
    assert "functions" not in translated.body
    assert translated.context.legacy_functions is True
    accepted(translated.body)


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ({"name": "get_weather"}, {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_legacy_function_call_becomes_tool_choice(value: Any, sent: Any) -> None:
    translated = chat(functions=[WEATHER["function"]], function_call=value)
    assert translated.body["tool_choice"] == sent
    assert "function_call" not in translated.body
    assert translated.context.legacy_functions is True
    accepted(translated.body)


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (
            {
                "type": "content",
                "content": [{"type": "text", "text": "def f("}, {"type": "text", "text": "):"}],
            },
            {"type": "content", "content": "def f():"},
        ),
        ({"type": "content", "content": "same text"}, {"type": "content", "content": "same text"}),
    ],
)
def test_prediction_text_parts_are_joined_into_one_string(value: Any, sent: Any) -> None:
    body = chat(prediction=value).body
    assert body["prediction"] == sent
    accepted(body)


@pytest.mark.parametrize(("value", "sent"), [("high", "high"), ("none", "none"), ("max", "max")])
def test_reasoning_effort_uses_mistrals_names(value: str, sent: str) -> None:
    body = chat(model="mistral-small-latest", reasoning_effort=value).body
    assert body["reasoning_effort"] == sent
    accepted(body)


@pytest.mark.parametrize(("value", "sent"), [("auto", "auto"), ("default", "standard_only")])
def test_service_tier_is_mapped_to_mistrals_tiers(value: str, sent: str) -> None:
    translated = chat(service_tier=value)
    assert translated.body["service_tier"] == sent
    assert translated.dropped == ()
    accepted(translated.body)


@pytest.mark.parametrize("tier", ["flex", "scale", "priority"])
def test_a_service_tier_mistral_lacks_is_dropped_or_refused(tier: str) -> None:
    translated = chat(service_tier=tier)
    assert "service_tier" not in translated.body
    assert translated.dropped == ("service_tier",)
    with pytest.raises(OpenAIError) as caught:
        chat(ERROR, service_tier=tier)
    assert (caught.value.status, caught.value.param) == (400, "service_tier")
    assert tier in caught.value.message


DROP_CASES: dict[str, Any] = {
    "user": "user-1234",
    "safety_identifier": "hashed-user",
    "store": True,
    "logit_bias": {"50256": -100},
    "modalities": ["text", "audio"],
    "audio": {"voice": "alloy", "format": "mp3"},
    "verbosity": "low",
    "web_search_options": {"search_context_size": "low"},
    "moderation": {"model": "omni-moderation-latest"},
    "prompt_cache_retention": "24h",
    "prompt_cache_options": {"mode": "auto"},
}


@pytest.mark.parametrize(("key", "value"), DROP_CASES.items())
def test_a_drop_row_removes_the_field_and_names_it(key: str, value: Any) -> None:
    assert params.FIELDS[key].fate == "drop"
    translated = chat(**{key: value})
    assert key not in translated.body
    assert translated.dropped == (key,)
    accepted(translated.body)


@pytest.mark.parametrize(("key", "value"), DROP_CASES.items())
def test_a_drop_row_is_refused_under_unsupported_error(key: str, value: Any) -> None:
    with pytest.raises(OpenAIError) as caught:
        chat(ERROR, **{key: value})
    error = caught.value
    assert (error.status, error.type, error.param, error.code) == (
        400,
        "invalid_request_error",
        key,
        "unsupported_parameter",
    )
    assert error.message.startswith(f"{key} is not supported by Mistral")


HARMLESS_CASES = [
    ("store", False),
    ("logit_bias", {}),
    ("modalities", ["text"]),
    ("verbosity", "medium"),
]


@pytest.mark.parametrize(("key", "value"), HARMLESS_CASES)
def test_an_openai_default_is_removed_silently(key: str, value: Any) -> None:
    for options in (DROP, ERROR):
        translated = chat(options, **{key: value})
        assert key not in translated.body
        assert translated.dropped == ()


def test_harmless_means_the_default_value_and_type_only() -> None:
    # store=0 is not OpenAI's default (False): it is named like any other value.
    assert chat(store=0).dropped == ("store",)


@pytest.mark.parametrize("key", sorted(set(params.FIELDS) - {"model", "messages"}))
def test_an_explicit_null_is_the_same_as_leaving_a_field_out(key: str) -> None:
    # (model and messages are required: a null there is Mistral's to refuse.)
    translated = chat(ERROR, **{key: None})
    assert key not in translated.body
    assert translated.dropped == ()


CONVERT_OR_RENAME_TESTED = {
    "model",
    "messages",
    "temperature",
    "top_p",
    "seed",
    "max_completion_tokens",
    "stream_options",
    "response_format",
    "tools",
    "tool_choice",
    "functions",
    "function_call",
    "prediction",
    "service_tier",
}


def test_every_chat_row_has_a_test_above() -> None:
    by_action: dict[str, set[str]] = {}
    for key, row in params.FIELDS.items():
        by_action.setdefault(row.fate, set()).add(key)
    assert by_action.get("keep", set()) == set(KEEP_CASES)
    assert by_action.get("drop", set()) == set(DROP_CASES)
    assert by_action.get("convert", set()) | by_action.get("rename", set()) == CONVERT_OR_RENAME_TESTED
    assert not by_action.get("reject")


# --- fields no row names: Mistral's own, and unknown ones ---------------------------------------------------

MISTRAL_ONLY_CASES: dict[str, Any] = {
    "safe_prompt": True,
    "random_seed": 7,
    "prompt_mode": "reasoning",
    "guardrails": [{"block_on_error": True, "moderation_llm_v2": {"action": "block"}}],
    # mistralai 3.x's sampling fields, which OpenAI lacks
    "top_k": 40,
    "min_tokens": 5,
    "repetition_penalty": 1.1,
    "prompt_logprobs": True,
    "top_prompt_logprobs": 2,
}


@pytest.mark.parametrize(("key", "value"), MISTRAL_ONLY_CASES.items())
def test_mistral_only_fields_from_extra_body_pass(key: str, value: Any) -> None:
    model = "magistral-medium-2507" if key == "prompt_mode" else MODEL
    translated = chat(ERROR, model=model, **{key: value})
    assert translated.body[key] == value
    assert translated.dropped == ()
    assert getattr(accepted(translated.body), key) is not None


def test_rows_agree_with_mistrals_contract() -> None:
    """No row drops a field Mistral accepts, and every field a row sends is one Mistral declares."""
    mistral = set(ChatCompletionRequest.model_fields)
    for key, row in params.FIELDS.items():
        if row.fate == "drop":
            assert key not in mistral, f"{key} is dropped although Mistral accepts it"
        elif row.fate == "rename":
            assert row.target in mistral and key not in mistral, key
    assert set(KEEP_CASES) <= mistral
    # Mistral's own fields that no row produces pass as they are (safe_prompt, prompt_mode, guardrails).
    assert mistral - set(params.FIELDS) - {"random_seed"} == params.MISTRAL_ONLY
    assert {"safe_prompt", "prompt_mode", "guardrails"} <= params.MISTRAL_ONLY


def test_an_unknown_field_is_dropped_and_named() -> None:
    translated = chat(min_p=0.1, cache_control={"type": "ephemeral"})
    assert "min_p" not in translated.body and "cache_control" not in translated.body
    assert translated.dropped == ("min_p", "cache_control")
    accepted(translated.body)


def test_an_unknown_field_is_refused_under_unsupported_error() -> None:
    with pytest.raises(OpenAIError) as caught:
        chat(ERROR, min_p=0.1)
    assert (caught.value.status, caught.value.param) == (400, "min_p")
    assert "neither an OpenAI nor a Mistral" in caught.value.message


def test_the_sdks_structured_output_helpers_work_through_the_shim(shim_client: OpenAI) -> None:
    """``parse()`` sends json_schema with strict and pydantic_function_tool strict tools: both are kept."""

    class Answer(BaseModel):
        city: str
        temperature: float

    class GetWeather(BaseModel):
        city: str

    parsed = shim_client.chat.completions.parse(model=MODEL, messages=USER, response_format=Answer)
    assert isinstance(parsed.choices[0].message.parsed, Answer)
    called = shim_client.chat.completions.parse(
        model=MODEL, messages=USER, tools=[pydantic_function_tool(GetWeather)], tool_choice="required"
    )
    call = (called.choices[0].message.tool_calls or [])[0]
    assert isinstance(call.function.parsed_arguments, GetWeather)


# --- precedence between fields that land on the same Mistral field ------------------------------------------


@pytest.mark.parametrize("order", ["openai-first", "mistral-first"])
def test_precedence_whatever_the_order_of_keys(order: str) -> None:
    pairs = [
        ({"max_tokens": 10}, {"max_completion_tokens": 20}),
        ({"random_seed": 1}, {"seed": 2}),
        ({"function_call": "none", "functions": [WEATHER["function"]]}, {"tool_choice": "required"}),
    ]
    body: dict[str, Any] = {"model": MODEL, "messages": USER}
    for loser, winner in pairs:
        body.update({**loser, **winner} if order == "mistral-first" else {**winner, **loser})
    sent = params.translate_chat_request(body, DROP).body
    assert sent["max_tokens"] == 20
    assert sent["random_seed"] == 2
    assert sent["tool_choice"] == "required"
    accepted(sent)


def test_legacy_functions_and_tools_are_both_sent() -> None:
    other = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
    body = chat(tools=[other], functions=[WEATHER["function"]]).body
    assert [tool["function"]["name"] for tool in body["tools"]] == ["get_weather", "get_time"]


# --- a rich request, as a whole, is one Mistral accepts -----------------------------------------------------

RICH_REQUESTS = [
    {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "name": "alice", "content": [{"type": "text", "text": "Weather?", "x": 1}]},
            {
                "role": "assistant",
                "content": "",
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "call_PTLP8xhu3uwZk4l3nlnrrJha",
                        "type": "function",
                        "index": 0,
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_PTLP8xhu3uwZk4l3nlnrrJha", "content": "18C"},
            {"role": "user", "content": "Thanks", "metadata": {"ui": 1}},
        ],
        "tools": [WEATHER],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": True,
        "seed": -5,
        "temperature": 2,
        "top_p": 0,
        "max_completion_tokens": 100,
        "stop": "END",
        "n": 2,
        "presence_penalty": 1,
        "frequency_penalty": 1,
        "stream": True,
        "stream_options": {"include_usage": True},
        "store": False,
        "user": "u",
        "logprobs": True,
        "top_logprobs": 2,
        "metadata": {"k": "v"},
        "prompt_cache_key": "k",
        "service_tier": "default",
        "safe_prompt": True,
    },
    {
        "model": "mistral-small-latest",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": [{"type": "text", "text": ""}]},
            {"role": "user", "content": "Continue"},
            {"role": "assistant", "content": "Sure, here", "reasoning_content": "thinking..."},
        ],
        "reasoning_effort": "max",
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "a", "schema": {"$id": "x", "type": "object"}, "strict": True},
        },
        "prediction": {"type": "content", "content": [{"type": "text", "text": "Sure"}]},
        "modalities": ["text"],
        "verbosity": "medium",
        "web_search_options": {},
        "guardrails": [{"block_on_error": False}],
    },
    {
        "model": "mistral-medium-latest",
        "messages": [
            {"role": "user", "content": "Call it"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": "{}"},
            },
            {"role": "function", "name": "get_weather", "content": "sunny"},
        ],
        "functions": [WEATHER["function"]],
        "function_call": "auto",
        "max_tokens": 5,
        "logit_bias": {"1": 1},
        "audio": {"voice": "x"},
    },
]


@pytest.mark.parametrize("request_body", RICH_REQUESTS, ids=["openai-agent", "reasoning", "legacy-functions"])
def test_a_rich_request_translates_into_one_mistral_accepts(request_body: dict[str, Any]) -> None:
    options = Options(aliases={"gpt-4o-mini": "mistral-small-latest"})
    translated = params.translate_chat_request(request_body, options)
    accepted(translated.body)
    assert set(translated.body) <= set(ChatCompletionRequest.model_fields)


# --- the legacy completions table, per route ----------------------------------------------------------------

FIM_MODEL = "codestral-latest"


def legacy(options: Options = DROP, **fields: Any) -> completions.LegacyPlan:
    return completions.translate_completion_request({"prompt": "def add(a, b):", **fields}, options)


def legacy_accepted(plan: completions.LegacyPlan) -> None:
    model = FIMCompletionRequest if plan.route == "fim" else ChatCompletionRequest
    request = model.model_validate(plan.body)
    if plan.route == "fim":
        semantics.check_fim(request.model)
    else:
        semantics.check_chat(request)


@pytest.mark.parametrize(
    ("fields", "route", "path"),
    [
        ({"model": FIM_MODEL}, "fim", "/v1/fim/completions"),
        ({"model": "ft:codestral-latest:acme:1", "suffix": "    return c"}, "fim", "/v1/fim/completions"),
        ({"model": MODEL}, "chat", "/v1/chat/completions"),
        ({"model": MODEL, "suffix": ""}, "chat", "/v1/chat/completions"),
    ],
)
def test_model_and_suffix_choose_the_route(fields: dict[str, Any], route: str, path: str) -> None:
    plan = legacy(**fields)
    assert (plan.route, plan.path) == (route, path)


def test_a_suffix_for_a_model_that_cannot_fill_in_the_middle_is_refused() -> None:
    # Sent to FIM it would come back as "Invalid model"; sent to chat the suffix would be lost.
    with pytest.raises(OpenAIError) as caught:
        legacy(model=MODEL, suffix="    return c")
    assert (caught.value.status, caught.value.param) == (400, "suffix")
    assert "codestral" in caught.value.message


def test_the_prompt_is_the_fim_prompt_or_the_one_user_message() -> None:
    fim = legacy(model=FIM_MODEL, suffix="    return c")
    assert fim.body == {"model": FIM_MODEL, "prompt": "def add(a, b):", "suffix": "    return c"}
    legacy_accepted(fim)
    chat_plan = legacy(model=MODEL)
    assert chat_plan.body == {"model": MODEL, "messages": [{"role": "user", "content": "def add(a, b):"}]}
    legacy_accepted(chat_plan)
    assert legacy(model=MODEL, prompt=["only one"]).body["messages"][0]["content"] == "only one"


def test_the_legacy_model_resolves_aliases() -> None:
    plan = legacy(Options(aliases={"gpt-3.5-turbo-instruct": FIM_MODEL}), model="gpt-3.5-turbo-instruct")
    assert (plan.route, plan.body["model"]) == ("fim", FIM_MODEL)


@pytest.mark.parametrize(
    ("prompt", "fragment"),
    [(["a", "b"], "Only one prompt"), ([1, 2, 3], "token ids"), ([[1, 2]], "token ids"), (None, "prompt")],
)
def test_prompts_mistral_cannot_complete_are_refused(prompt: Any, fragment: str) -> None:
    with pytest.raises(OpenAIError) as caught:
        legacy(model=MODEL, prompt=prompt)
    assert (caught.value.status, caught.value.param) == (400, "prompt")
    assert fragment in caught.value.message


LEGACY_KEEP = {"max_tokens": 16, "top_p": 0.5, "stop": ["\n\n"], "stream": True}


@pytest.mark.parametrize("model", [FIM_MODEL, MODEL])
@pytest.mark.parametrize(("key", "value"), LEGACY_KEEP.items())
def test_a_legacy_keep_row_is_sent_on_both_routes(model: str, key: str, value: Any) -> None:
    plan = legacy(model=model, **{key: value})
    assert plan.body[key] == value
    legacy_accepted(plan)


@pytest.mark.parametrize("model", [FIM_MODEL, MODEL])
def test_legacy_temperature_seed_and_stream_options_are_converted(model: str) -> None:
    plan = legacy(model=model, temperature=1.9, seed=-1, stream=True, stream_options={"include_usage": True})
    assert plan.body["temperature"] == 1.5
    assert plan.body["random_seed"] == 4294967295
    assert "seed" not in plan.body and "stream_options" not in plan.body
    assert plan.include_usage is True
    legacy_accepted(plan)


def test_legacy_seed_wins_over_random_seed() -> None:
    assert legacy(model=FIM_MODEL, random_seed=1, seed=2).body["random_seed"] == 2
    assert legacy(model=FIM_MODEL, seed=2, random_seed=1).body["random_seed"] == 2


def test_n_and_penalties_are_kept_on_chat() -> None:
    plan = legacy(model=MODEL, n=2, presence_penalty=0.5, frequency_penalty=0.5)
    assert (plan.body["n"], plan.body["presence_penalty"], plan.body["frequency_penalty"]) == (2, 0.5, 0.5)
    legacy_accepted(plan)


def test_n_above_one_is_refused_on_fim_and_one_is_harmless() -> None:
    with pytest.raises(OpenAIError) as caught:
        legacy(model=FIM_MODEL, n=2)
    assert (caught.value.status, caught.value.param) == (400, "n")
    assert "n" not in legacy(ERROR, model=FIM_MODEL, n=1).body


@pytest.mark.parametrize("key", ["presence_penalty", "frequency_penalty"])
def test_penalties_are_dropped_on_fim_unless_zero(key: str) -> None:
    plan = legacy(model=FIM_MODEL, **{key: 0.5})
    assert key not in plan.body and plan.dropped == (key,)
    assert legacy(ERROR, model=FIM_MODEL, **{key: 0}).dropped == ()
    with pytest.raises(OpenAIError) as caught:
        legacy(ERROR, model=FIM_MODEL, **{key: 0.5})
    assert caught.value.param == key


@pytest.mark.parametrize("model", [FIM_MODEL, MODEL])
def test_echo_is_refused_and_false_is_harmless(model: str) -> None:
    with pytest.raises(OpenAIError) as caught:
        legacy(model=model, echo=True)
    assert (caught.value.status, caught.value.param, caught.value.code) == (
        400,
        "echo",
        "unsupported_parameter",
    )
    assert "echo" not in legacy(ERROR, model=model, echo=False).body
    with pytest.raises(OpenAIError):
        legacy(model=model, echo=0)  # not OpenAI's default (False), so not silently removed


LEGACY_DROP = {"best_of": 3, "logit_bias": {"1": 5}, "user": "u"}
LEGACY_HARMLESS = {"best_of": 1, "logit_bias": {}}


@pytest.mark.parametrize("model", [FIM_MODEL, MODEL])
@pytest.mark.parametrize(("key", "value"), LEGACY_DROP.items())
def test_a_legacy_drop_row_is_named_or_refused(model: str, key: str, value: Any) -> None:
    plan = legacy(model=model, **{key: value})
    assert key not in plan.body and plan.dropped == (key,)
    legacy_accepted(plan)
    with pytest.raises(OpenAIError) as caught:
        legacy(ERROR, model=model, **{key: value})
    assert (caught.value.status, caught.value.param) == (400, key)
    if key in LEGACY_HARMLESS:
        assert legacy(ERROR, model=model, **{key: LEGACY_HARMLESS[key]}).dropped == ()


def test_legacy_logprobs_become_mistrals_on_chat_and_are_dropped_on_fim() -> None:
    """``logprobs: N`` asks for the N most likely tokens at each position: Mistral's logprobs and
    top_logprobs; Mistral's FIM endpoint returns none, so there the field is named as dropped."""
    on_chat = legacy(ERROR, model=MODEL, logprobs=3)
    assert (on_chat.body["logprobs"], on_chat.body["top_logprobs"], on_chat.dropped) == (True, 3, ())
    legacy_accepted(on_chat)
    assert legacy(ERROR, model=MODEL, logprobs=0).body["top_logprobs"] == 0
    on_fim = legacy(model=FIM_MODEL, logprobs=3)
    assert "logprobs" not in on_fim.body and on_fim.dropped == ("logprobs",)
    with pytest.raises(OpenAIError) as caught:
        legacy(ERROR, model=FIM_MODEL, logprobs=3)
    assert (caught.value.status, caught.value.param) == (400, "logprobs")


def test_every_legacy_row_has_a_test_above() -> None:
    tested = (
        {"model", "prompt", "suffix", "temperature", "seed", "stream_options", "n", "echo", "logprobs"}
        | set(LEGACY_KEEP)
        | set(LEGACY_DROP)
        | {"presence_penalty", "frequency_penalty"}
    )
    assert tested == set(completions.FIELDS)


def test_legacy_mistral_only_fields_pass_on_their_route() -> None:
    assert legacy(ERROR, model=FIM_MODEL, min_tokens=3).body["min_tokens"] == 3
    assert legacy(ERROR, model=MODEL, safe_prompt=True).body["safe_prompt"] is True
    plan = legacy(model=FIM_MODEL, safe_prompt=True)  # FIM has no safe_prompt
    assert "safe_prompt" not in plan.body and plan.dropped == ("safe_prompt",)
