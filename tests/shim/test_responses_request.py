"""The Responses API's request translation: a ``CreateResponse`` body → the chat request Mistral receives.

Pure functions, no server. Every translated body is held to Mistral's own contract (the models and the
semantic checks the mock validates with), so a translation that Mistral would refuse fails here.
"""

from typing import Any

import pytest

from mistral_wire.contract import semantics
from mistral_wire.contract.requests import ChatCompletionRequest
from shim.translate.context import Options
from shim.translate.problem import OpenAIError
from shim.translate.responses import count, items
from shim.translate.responses.request import FIELDS, ResponsesRequest, translate_request

DROP = Options()
ERROR = Options(unsupported="error")
MODEL = "mistral-large-latest"
REASONER = "mistral-small-latest"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": True,
}


def translate(options: Options = DROP, history: Any = (), found: Any = None, **body: Any) -> ResponsesRequest:
    body.setdefault("model", MODEL)
    body.setdefault("input", "What is the weather in Paris?")
    return translate_request(
        body, options, response_id="resp_test", created_at=1700000000, history=history, found=found
    )


def accepted(body: dict[str, Any]) -> ChatCompletionRequest:
    """The body as Mistral's contract reads it, schema and semantic checks both (raises otherwise)."""
    request = ChatCompletionRequest.model_validate(body)
    semantics.check_chat(request)
    return request


def refused(options: Options = DROP, **body: Any) -> OpenAIError:
    with pytest.raises(OpenAIError) as caught:
        translate(options, **body)
    assert caught.value.status == 400
    return caught.value


# --- input and instructions -------------------------------------------------------------------------------


def test_a_string_input_is_one_user_turn_and_instructions_lead_as_a_system_turn() -> None:
    translated = translate(input="Say hello.", instructions="Be brief.")
    assert translated.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello."},
    ]
    assert translated.body["model"] == MODEL
    assert translated.context.echo["instructions"] == "Be brief."
    accepted(translated.body)


def test_the_agents_sdks_second_turn_becomes_a_tool_exchange_mistral_accepts() -> None:
    # Exactly what Agents 0.24 sends after a tool call (digest §4.1), OpenAI-style call ids included.
    body = {
        "model": MODEL,
        "include": [],
        "instructions": "be nice",
        "input": [
            {"content": "weather in Paris?", "role": "user"},
            {
                "arguments": '{"city":"Paris"}',
                "call_id": "call_1",
                "name": "get_weather",
                "type": "function_call",
                "id": "fc_1",
                "status": "completed",
            },
            {"call_id": "call_1", "output": "sunny in Paris", "type": "function_call_output"},
        ],
        "tools": [WEATHER],
    }
    translated = translate_request(body, DROP, response_id="resp_x", created_at=1)
    system, user, assistant, tool = translated.body["messages"]
    assert (system["role"], user["role"], assistant["role"], tool["role"]) == (
        "system",
        "user",
        "assistant",
        "tool",
    )
    call = assistant["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert call["id"] == tool["tool_call_id"] and len(call["id"]) == 9  # mapped to Mistral's shape, stably
    assert tool["content"] == "sunny in Paris"
    assert translated.body["tools"][0]["function"]["name"] == "get_weather"
    accepted(translated.body)
    again = translate_request(body, DROP, response_id="resp_y", created_at=2)
    assert again.body["messages"] == translated.body["messages"]  # the same id on every turn


def test_replayed_output_items_with_their_output_only_keys_are_accepted() -> None:
    replayed = [
        {"role": "user", "content": "Hi"},
        {
            "id": "msg_1",
            "content": [{"annotations": [], "text": "Hello there", "type": "output_text", "logprobs": []}],
            "role": "assistant",
            "status": "completed",
            "type": "message",
            "phase": None,
        },
        {"role": "user", "content": [{"type": "input_text", "text": "And you?"}]},
    ]
    translated = translate(input=replayed)
    assert translated.body["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello there"},
        {"role": "user", "content": [{"type": "text", "text": "And you?"}]},
    ]
    accepted(translated.body)


def test_a_function_call_after_an_assistant_message_joins_its_turn() -> None:
    history = [
        {"role": "user", "content": "weather?"},
        {"type": "message", "role": "assistant", "content": "Let me check."},
        {"type": "function_call", "call_id": "abcdefghi", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call", "call_id": "bcdefghij", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "abcdefghi", "output": "sunny"},
        {"type": "function_call_output", "call_id": "bcdefghij", "output": "rainy"},
    ]
    messages = translate(input=history, tools=[WEATHER]).body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool"]
    assert messages[1]["content"] == "Let me check."
    assert [call["id"] for call in messages[1]["tool_calls"]] == ["abcdefghi", "bcdefghij"]


@pytest.mark.parametrize(("role", "sent"), [("developer", "system"), ("system", "system"), ("user", "user")])
def test_message_roles(role: str, sent: str) -> None:
    translated = translate(input=[{"role": role, "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert translated.body["messages"][0] == {"role": sent, "content": "Be brief."}


def test_an_image_by_data_uri_and_a_pdf_by_file_data_become_mistral_chunks() -> None:
    pdf = "JVBERi0xLjQK"
    content = [
        {"type": "input_text", "text": "What is in these?"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "original"},
        {"type": "input_file", "file_data": pdf, "filename": "report.pdf"},
        {"type": "input_file", "file_url": "https://example.com/a.pdf"},
    ]
    parts = translate(input=[{"role": "user", "content": content}]).body["messages"][0]["content"]
    assert parts == [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}},
        {
            "type": "document_url",
            "document_url": f"data:application/pdf;base64,{pdf}",
            "document_name": "report.pdf",
        },
        {"type": "document_url", "document_url": "https://example.com/a.pdf"},
    ]


def test_an_image_by_file_id_is_refused_with_what_to_send_instead() -> None:
    content = [{"type": "input_image", "file_id": "file-abc", "detail": "auto"}]
    error = refused(input=[{"role": "user", "content": content}])
    assert error.param == "input[0].content[0].file_id"
    assert "image_url" in error.message


@pytest.mark.parametrize("kind", ["web_search_call", "computer_call_output", "mcp_call", "compaction"])
def test_an_item_type_mistral_has_no_place_for_is_refused_by_name(kind: str) -> None:
    error = refused(input=[{"role": "user", "content": "Hi"}, {"type": kind, "id": "x"}])
    assert error.param == "input[1]"
    assert repr(kind) in error.message


def test_an_unknown_content_part_is_refused_by_name() -> None:
    error = refused(input=[{"role": "user", "content": [{"type": "input_audio", "data": "x"}]}])
    assert error.param == "input[0].content[0].type"


def test_a_function_call_output_without_call_id_is_refused() -> None:
    assert refused(input=[{"type": "function_call_output", "output": "x"}]).param == "input[0].call_id"


def test_function_call_output_parts_become_tool_content() -> None:
    output = [{"type": "input_text", "text": "sunny"}]
    history = [
        {"role": "user", "content": "weather?"},
        {"type": "function_call", "call_id": "abcdefghi", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "abcdefghi", "output": output},
    ]
    tool = translate(input=history, tools=[WEATHER]).body["messages"][-1]
    assert tool == {
        "role": "tool",
        "tool_call_id": "abcdefghi",
        "content": [{"type": "text", "text": "sunny"}],
    }


# --- reasoning items -------------------------------------------------------------------------------------


REASONED = [
    {"role": "user", "content": "17 * 23?"},
    {
        "id": "rs_1",
        "summary": [],
        "type": "reasoning",
        "content": [{"text": "17 * 20 + 17 * 3", "type": "reasoning_text"}],
        "encrypted_content": None,
        "status": "completed",
    },
    {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "391", "annotations": []}],
    },
    {"role": "user", "content": "Times 2?"},
]


def test_reasoning_sent_back_to_a_reasoning_model_is_its_thinking_again() -> None:
    translated = translate(model=REASONER, input=REASONED, reasoning={"effort": "high"})
    assistant = translated.body["messages"][1]
    assert assistant["content"] == [
        {"type": "thinking", "thinking": [{"type": "text", "text": "17 * 20 + 17 * 3"}]},
        {"type": "text", "text": "391"},
    ]
    assert translated.body["reasoning_effort"] == "high"
    assert "reasoning-dropped" not in translated.repairs
    accepted(translated.body)


def test_reasoning_sent_back_without_reasoning_is_dropped_and_named() -> None:
    translated = translate(model=MODEL, input=REASONED)
    assert translated.body["messages"][1] == {"role": "assistant", "content": "391"}
    assert "reasoning-dropped" in translated.repairs
    accepted(translated.body)


# --- previous responses and references ----------------------------------------------------------------------


def test_history_comes_first_and_instructions_are_not_inherited() -> None:
    history = [
        {"id": "msg_a", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
        {
            "id": "msg_b",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Hello!", "annotations": [], "logprobs": []}],
        },
    ]
    translated = translate(input="And now?", history=history, instructions="New rules.")
    assert [m["role"] for m in translated.body["messages"]] == ["system", "user", "assistant", "user"]
    assert translated.body["messages"][0]["content"] == "New rules."
    assert [item["id"] for item in translated.input_items] != ["msg_a"]  # only this request's own items


def test_item_references_are_replaced_by_the_stored_items() -> None:
    stored = {
        "id": "msg_a",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Hi"}],
    }
    translated = translate(input=[{"type": "item_reference", "id": "msg_a"}], found={"msg_a": stored})
    assert translated.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    assert translated.input_items == [{**stored, "status": "completed"}]


def test_an_item_reference_to_nothing_is_refused() -> None:
    error = refused(input=[{"id": "msg_missing"}])
    assert (error.param, error.code) == ("input[0]", "item_not_found")


def test_input_items_are_stored_with_ids_and_parts() -> None:
    stored = translate(input="Hi").input_items
    assert len(stored) == 1
    assert stored[0]["id"].startswith("msg_")
    assert stored[0] | {"id": "x"} == {
        "id": "x",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Hi"}],
        "status": "completed",
    }
    assert items.stored(items.parse_input("Hi"), "resp_test") == stored  # derived, so stable


# --- tools ------------------------------------------------------------------------------------------------


def test_flat_function_tools_become_chats_and_are_echoed() -> None:
    translated = translate(tools=[WEATHER], tool_choice="required", parallel_tool_calls=False)
    assert translated.body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": WEATHER["parameters"],
                "strict": True,
            },
        }
    ]
    assert translated.body["tool_choice"] == "required"
    assert translated.body["parallel_tool_calls"] is False
    assert translated.context.echo["tools"] == [{key: WEATHER[key] for key in WEATHER}]
    accepted(translated.body)


def test_a_named_tool_choice_becomes_chats_named_form() -> None:
    translated = translate(tools=[WEATHER], tool_choice={"type": "function", "name": "get_weather"})
    assert translated.body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    accepted(translated.body)


def test_allowed_tools_narrow_the_tools_and_keep_the_mode() -> None:
    other = {**WEATHER, "name": "get_time"}
    choice = {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "function", "name": "get_time"}],
    }
    translated = translate(tools=[WEATHER, other], tool_choice=choice)
    assert [tool["function"]["name"] for tool in translated.body["tools"]] == ["get_time"]
    assert translated.body["tool_choice"] == "required"
    accepted(translated.body)


@pytest.mark.parametrize(
    "kind", ["web_search_preview", "file_search", "code_interpreter", "mcp", "image_generation"]
)
def test_a_hosted_tool_is_dropped_and_named_never_silently(kind: str) -> None:
    translated = translate(tools=[WEATHER, {"type": kind}])
    assert [tool["function"]["name"] for tool in translated.body["tools"]] == ["get_weather"]
    assert f"tools.{kind}" in translated.dropped
    error = refused(ERROR, tools=[WEATHER, {"type": kind}])
    assert error.param == f"tools.{kind}" and error.code == "unsupported_parameter"


def test_a_hosted_tool_choice_is_dropped_and_the_choice_is_auto() -> None:
    translated = translate(tools=[WEATHER], tool_choice={"type": "web_search_preview"})
    assert "tool_choice" not in translated.body
    assert "tool_choice.web_search_preview" in translated.dropped
    assert translated.context.echo["tool_choice"] == "auto"


def test_custom_tools_are_refused() -> None:
    assert refused(tools=[{"type": "custom", "name": "x"}]).param == "tools"


def test_max_tool_calls_zero_asks_for_no_call_and_a_cap_is_remembered() -> None:
    assert translate(tools=[WEATHER], max_tool_calls=0).body["tool_choice"] == "none"
    assert translate(tools=[WEATHER], max_tool_calls=2).context.max_tool_calls == 2


# --- the other fields ---------------------------------------------------------------------------------------


def test_text_format_json_schema_becomes_response_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    text = {"format": {"type": "json_schema", "name": "Answer", "schema": schema, "strict": True}}
    translated = translate(text=text)
    assert translated.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Answer", "schema": schema, "strict": True},
    }
    assert translated.context.echo["text"]["format"] == text["format"]
    accepted(translated.body)


def test_text_format_json_object_and_text() -> None:
    assert translate(text={"format": {"type": "json_object"}}).body["response_format"] == {
        "type": "json_object"
    }
    assert "response_format" not in translate(text={"format": {"type": "text"}, "verbosity": "medium"}).body


def test_text_verbosity_is_dropped_and_named_as_on_chat() -> None:
    assert "text.verbosity" in translate(text={"verbosity": "low"}).dropped


def test_max_output_tokens_is_mistrals_max_tokens() -> None:
    body = translate(max_output_tokens=64).body
    assert body["max_tokens"] == 64 and "max_output_tokens" not in body


def test_reasoning_effort_reaches_a_reasoning_model_and_is_dropped_elsewhere() -> None:
    assert translate(model=REASONER, reasoning={"effort": "low"}).body["reasoning_effort"] == "low"
    translated = translate(model=MODEL, reasoning={"effort": "low"})
    assert "reasoning_effort" not in translated.body
    assert "reasoning.effort" in translated.dropped
    accepted(translated.body)
    assert (
        "reasoning.summary"
        in translate(model=REASONER, reasoning={"effort": "low", "summary": "auto"}).dropped
    )


def test_logprobs_asked_by_include_or_top_logprobs() -> None:
    translated = translate(include=["message.output_text.logprobs"], top_logprobs=3)
    assert (translated.body["logprobs"], translated.body["top_logprobs"]) == (True, 3)
    assert translated.context.logprobs is True
    plain = translate(include=[], top_logprobs=0)
    assert "logprobs" not in plain.body and plain.dropped == ()


def test_metadata_is_sent_and_echoed() -> None:
    translated = translate(metadata={"team": "search"})
    assert translated.body["metadata"] == {"team": "search"}
    assert translated.context.echo["metadata"] == {"team": "search"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("user", "u-1"), ("safety_identifier", "s-1"), ("context_management", [{"type": "compaction"}])],
)
def test_openai_only_fields_are_dropped_and_named(field: str, value: Any) -> None:
    translated = translate(**{field: value})
    assert field in translated.dropped and field not in translated.body
    assert refused(ERROR, **{field: value}).param == field


def test_store_stream_truncation_and_previous_response_id_never_reach_mistral() -> None:
    translated = translate(
        store=False, stream=True, truncation="auto", stream_options={"include_obfuscation": False}
    )
    assert translated.store is False and translated.stream is True and translated.truncation == "auto"
    assert {"store", "truncation", "stream_options", "previous_response_id"}.isdisjoint(translated.body)
    assert translated.body["stream"] is True
    assert translated.dropped == ()


@pytest.mark.parametrize(
    ("field", "value"),
    [("background", True), ("conversation", "conv_1"), ("prompt", {"id": "pmpt_1"})],
)
def test_what_openai_hosts_or_runs_in_the_background_is_refused_clearly(field: str, value: Any) -> None:
    error = refused(**{field: value})
    assert error.param == field and "cannot be honoured" in error.message
    assert translate(background=False).dropped == ()


def test_a_wrong_type_is_openais_invalid_type() -> None:
    error = refused(max_output_tokens="64")
    assert (error.param, error.code) == ("max_output_tokens", "invalid_type")


def test_the_echo_carries_mistrals_defaults() -> None:
    echo = translate(model=REASONER).context.echo
    assert echo["temperature"] == 0.3  # the catalogue's default for the model, not OpenAI's 1.0
    assert (echo["top_p"], echo["tool_choice"], echo["store"], echo["truncation"]) == (
        1.0,
        "auto",
        True,
        "disabled",
    )


def test_every_row_has_a_fate_and_a_reason() -> None:
    assert all(row.fate and len(row.reason) > 10 for row in FIELDS.values())


# --- truncation --------------------------------------------------------------------------------------------


def test_the_oldest_items_go_first_and_a_kept_history_starts_with_no_orphan() -> None:
    history = [
        {"type": "message", "role": "user", "content": "a"},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c", "output": "x"},
        {"type": "message", "role": "user", "content": "b"},
    ]
    assert count.first_kept(history, [10, 10, 10, 10], 0, 40) == 0
    assert count.first_kept(history, [10, 10, 10, 10], 0, 35) == 1
    assert count.first_kept(history, [10, 10, 10, 10], 0, 25) == 3  # not the output without its call
    assert count.first_kept(history, [10, 10, 10, 10], 0, 5) is None


def test_the_cheap_bound_is_never_below_the_count() -> None:
    body = translate(input="Hello there, how are you doing today? " * 20, tools=[WEATHER]).body
    kind = count.tokenizer_for(body["model"])
    assert count.prompt_tokens(body, kind) <= count.upper_bound(body)
