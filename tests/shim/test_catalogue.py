"""FAILURE-CATALOGUE.md, entry by entry: the trigger sent with the official openai client through the shim.

Each test sends what users sent (``extra_body=`` for fields the SDK does not type, raw bodies where the SDK
would refuse them) through a real shim on 127.0.0.1 to a real upstream, and asserts what the client gets
back: a correct answer, or the clear OpenAI-style error the entry calls for. Most run against the mock,
behind a recording ``Upstream`` so the body the shim sent can be asserted too. Where Mistral rejects the
untranslated form, the same trigger is also sent straight to the mock, which must reject it with the
catalogue's status: otherwise the test could pass without the shim doing anything. Shapes the synthetic
mock cannot produce (fragmented tool-call deltas, ``model_length``, the old error envelopes, a gateway's
HTML) come from an ``Upstream`` that sends exactly that wire shape.
"""

import base64
import json
import re
import struct
from typing import Any

import httpx2 as httpx
import openai
import pytest
from openai import OpenAI

from testkit.auth import KEY
from testkit.errors import said
from testkit.paths import require_shared
from testkit.wire import (
    MODEL,
    ROLE,
    TIME,
    TOOL_STREAMS,
    USAGE,
    USER,
    WEATHER,
    json_answer,
    sse_answer,
    stream_chunk,
)

# The fixtures (tests/shim/conftest.py): ``spy``, a client on a shim in front of the session mock, with what
# the shim sent recorded; ``via``, the same in front of an upstream sending a given wire shape; ``raw``, the
# mock itself.


def chat_raw(raw: httpx.Client, **body: Any) -> httpx.Response:
    return raw.post("/v1/chat/completions", json={"model": MODEL, "messages": USER, **body})


def detail_locs(response: httpx.Response) -> list[list[Any]]:
    """The ``loc`` of each pydantic detail in the mock's 422 envelope."""
    return [detail["loc"] for detail in response.json()["message"]["detail"]]


def weather_history(call_id: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "What is the weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": '{"temperature": 18}'},
    ]


# --- A. unknown or renamed top-level parameters -------------------------------------------------------------


def test_01_stream_options_is_stripped_and_include_usage_still_honoured(spy: Any, raw: httpx.Client) -> None:
    refused = chat_raw(raw, stream=True, stream_options={"include_usage": True})
    assert refused.status_code == 422
    assert detail_locs(refused) == [["body", "stream_options", "include_usage"]]
    client, sent = spy
    with_usage = list(
        client.chat.completions.create(
            model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "stream_options" not in sent.last
    assert with_usage[-1].choices == []
    assert with_usage[-1].usage is not None and with_usage[-1].usage.total_tokens > 0
    assert all(chunk.usage is None and chunk.choices for chunk in with_usage[:-1])
    without = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    assert without and without[-1].choices[0].finish_reason in ("stop", "length")
    assert all(chunk.usage is None and chunk.choices for chunk in without)


def test_02_max_completion_tokens_is_sent_as_max_tokens(spy: Any, raw: httpx.Client) -> None:
    refused = chat_raw(raw, max_completion_tokens=3)
    assert refused.status_code == 422 and detail_locs(refused) == [["body", "max_completion_tokens"]]
    client, sent = spy
    answer = client.chat.completions.create(model=MODEL, messages=USER, max_completion_tokens=3)
    assert sent.last["max_tokens"] == 3 and "max_completion_tokens" not in sent.last
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage is not None and answer.usage.completion_tokens == 3


def test_03_store_is_removed_silently_when_false_and_named_when_true(spy: Any, raw: httpx.Client) -> None:
    assert detail_locs(chat_raw(raw, store=False)) == [["body", "store"]]
    client, sent = spy
    quiet = client.chat.completions.with_raw_response.create(model=MODEL, messages=USER, store=False)
    assert "store" not in sent.last
    assert "x-shim-dropped-params" not in quiet.headers
    assert quiet.parse().choices[0].message.content
    named = client.chat.completions.with_raw_response.create(model=MODEL, messages=USER, store=True)
    assert "store" not in sent.last
    assert named.headers["x-shim-dropped-params"] == "store"


def test_04_seed_is_sent_as_random_seed(spy: Any, raw: httpx.Client) -> None:
    assert detail_locs(chat_raw(raw, seed=-1)) == [["body", "seed"]]
    client, sent = spy
    first = client.chat.completions.create(model=MODEL, messages=USER, seed=42)
    assert sent.last["random_seed"] == 42 and "seed" not in sent.last
    client.chat.completions.create(model=MODEL, messages=USER, seed=-1)
    assert sent.last["random_seed"] == 4294967295 and "seed" not in sent.last
    assert first.choices[0].message.content


def test_05_user_is_dropped_and_named_or_refused(spy: Any, raw: httpx.Client, start_shim: Any) -> None:
    assert detail_locs(chat_raw(raw, user="default_user_id")) == [["body", "user"]]
    client, sent = spy
    answer = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=USER, user="default_user_id"
    )
    assert "user" not in sent.last
    assert answer.headers["x-shim-dropped-params"] == "user"
    strict = OpenAI(base_url=f"{start_shim(unsupported='error')}/v1", api_key=KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        strict.chat.completions.create(model=MODEL, messages=USER, user="default_user_id")
    assert caught.value.param == "user" and caught.value.code == "unsupported_parameter"
    assert "user is not supported by Mistral" in caught.value.message


def test_06_legacy_functions_become_tools_and_come_back_as_function_call(spy: Any, raw: httpx.Client) -> None:
    functions = [WEATHER["function"]]
    refused = chat_raw(raw, functions=functions, function_call="auto")
    assert sorted(map(tuple, detail_locs(refused))) == [("body", "function_call"), ("body", "functions")]
    client, sent = spy
    answer = client.chat.completions.create(
        model=MODEL, messages=USER, functions=functions, function_call={"name": "get_weather"}
    )
    assert sent.last["tools"] == [WEATHER]
    assert sent.last["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert "functions" not in sent.last and "function_call" not in sent.last
    choice = answer.choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.function_call is not None and choice.message.function_call.name == "get_weather"
    assert "city" in json.loads(choice.message.function_call.arguments)
    assert not choice.message.tool_calls


def test_07_n_is_forwarded_and_every_streamed_choice_arrives(spy: Any, raw: httpx.Client) -> None:
    assert chat_raw(raw, n=2).status_code == 200  # historical: Mistral accepts n since 2024-11
    client, sent = spy
    texts: dict[int, str] = {}
    for chunk in client.chat.completions.create(model=MODEL, messages=USER, n=2, stream=True):
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
    assert sent.last["n"] == 2
    assert sorted(texts) == [0, 1] and all(texts.values())


def test_08_penalties_are_forwarded(spy: Any, raw: httpx.Client) -> None:
    assert chat_raw(raw, frequency_penalty=0.0, presence_penalty=0.5).status_code == 200  # historical
    client, sent = spy
    answer = client.chat.completions.create(
        model=MODEL, messages=USER, frequency_penalty=0.0, presence_penalty=0.5
    )
    assert (sent.last["frequency_penalty"], sent.last["presence_penalty"]) == (0.0, 0.5)
    assert answer.choices[0].message.content


def test_09_metadata_is_forwarded(spy: Any, raw: httpx.Client) -> None:
    metadata = {"trace_version": "1.0.0", "session": "abc"}
    assert chat_raw(raw, metadata=metadata).status_code == 200  # accepted since 2025-12
    client, sent = spy
    client.chat.completions.create(model=MODEL, messages=USER, metadata=metadata)
    assert sent.last["metadata"] == metadata


def test_10_an_empty_tools_list_is_omitted_with_its_tool_choice(spy: Any, raw: httpx.Client) -> None:
    refused = chat_raw(raw, tools=[])
    assert refused.status_code == 422 and refused.json()["code"] == 3001
    client, sent = spy
    answer = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=USER, tools=[], tool_choice="auto"
    )
    assert "tools" not in sent.last and "tool_choice" not in sent.last
    assert "empty-tools-omitted" in answer.headers["x-shim-repairs"]
    assert answer.parse().choices[0].message.content


def test_11_safe_prompt_is_sent_only_when_asked_for(spy: Any) -> None:
    client, sent = spy
    client.chat.completions.create(model=MODEL, messages=USER)
    assert "safe_prompt" not in sent.last
    client.chat.completions.create(model=MODEL, messages=USER, extra_body={"safe_prompt": False})
    assert sent.last["safe_prompt"] is False
    client.chat.completions.create(model=MODEL, messages=USER, extra_body={"safe_prompt": True})
    assert sent.last["safe_prompt"] is True


# --- B. extra keys inside messages --------------------------------------------------------------------------


def test_12_name_and_null_tool_calls_on_a_user_message_are_removed(spy: Any, raw: httpx.Client) -> None:
    messages = [{"role": "user", "name": "User", "content": "Hello", "tool_calls": None}]
    refused = chat_raw(raw, messages=messages)
    assert detail_locs(refused) == [
        ["body", "messages", 0, "user", "name"],
        ["body", "messages", 0, "user", "tool_calls"],
    ]
    client, sent = spy
    answer = client.chat.completions.create(model=MODEL, messages=messages)
    assert sent.last["messages"] == [{"role": "user", "content": "Hello"}]
    assert answer.choices[0].message.content


def test_13_reasoning_content_replayed_in_history_is_removed(spy: Any, raw: httpx.Client) -> None:
    messages = [
        *USER,
        {"role": "assistant", "content": "Sunny.", "reasoning_content": "\n"},
        {"role": "user", "content": "And tomorrow?"},
    ]
    assert detail_locs(chat_raw(raw, messages=messages)) == [
        ["body", "messages", 1, "assistant", "reasoning_content"]
    ]
    client, sent = spy
    client.chat.completions.create(model=MODEL, messages=messages)
    assert sent.last["messages"][1] == {"role": "assistant", "content": "Sunny."}


def test_14_bookkeeping_keys_on_messages_are_removed(spy: Any, raw: httpx.Client) -> None:
    messages = [
        {"role": "system", "id": "b4405b59-xxxxxxx", "content": "Be brief."},
        {"role": "user", "content": "Hi", "metadata": {"source": "open-webui"}},
    ]
    refused = chat_raw(raw, messages=messages)
    assert detail_locs(refused) == [
        ["body", "messages", 0, "system", "id"],
        ["body", "messages", 1, "user", "metadata"],
    ]
    client, sent = spy
    answer = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages)
    assert sent.last["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert "message-keys" in answer.headers["x-shim-repairs"]


def test_15_tool_calls_are_rebuilt_and_an_sdk_message_replays(spy: Any, raw: httpx.Client) -> None:
    history = weather_history("abcDEF123")
    history[1]["tool_calls"][0]["name"] = None
    assert detail_locs(chat_raw(raw, messages=history, tools=[WEATHER])) == [
        ["body", "messages", 1, "assistant", "tool_calls", 0, "name"]
    ]
    indexed = weather_history("abcDEF123")
    indexed[1]["tool_calls"][0]["index"] = 0
    assert chat_raw(raw, messages=indexed, tools=[WEATHER]).status_code == 200  # historical: index accepted
    client, sent = spy
    client.chat.completions.create(model=MODEL, messages=history, tools=[WEATHER])
    assert sent.last["messages"][1]["tool_calls"] == [
        {
            "id": "abcDEF123",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ]
    client.chat.completions.create(model=MODEL, messages=indexed, tools=[WEATHER])
    assert sent.last["messages"][1]["tool_calls"][0]["index"] == 0
    # The agent loop: the SDK's own message object (refusal, annotations, audio, function_call: None...)
    # goes back into the history as it is.
    first = client.chat.completions.create(
        model=MODEL, messages=USER, tools=[WEATHER], tool_choice="required"
    )
    call = (first.choices[0].message.tool_calls or [])[0]
    replay = [
        *USER,
        first.choices[0].message.model_dump(),
        {"role": "tool", "tool_call_id": call.id, "content": "18C"},
    ]
    second = client.chat.completions.create(model=MODEL, messages=replay, tools=[WEATHER])
    assert sent.last["messages"][1] == {
        "role": "assistant",
        "tool_calls": [{"id": call.id, "type": "function", "function": call.function.model_dump()}],
    }
    assert second.choices[0].message.content


# --- C. role ordering ---------------------------------------------------------------------------------------


def test_16_a_user_turn_after_a_tool_result_is_bridged(spy: Any, raw: httpx.Client) -> None:
    history = [*weather_history("abcDEF123"), {"role": "user", "content": "Thanks, and Rome?"}]
    refused = chat_raw(raw, messages=history, tools=[WEATHER])
    assert refused.status_code == 400
    assert refused.json()["message"] == "Unexpected role 'user' after role 'tool'"
    client, sent = spy
    answer = client.chat.completions.with_raw_response.create(model=MODEL, messages=history, tools=[WEATHER])
    assert [m["role"] for m in sent.last["messages"]] == ["user", "assistant", "tool", "assistant", "user"]
    assert sent.last["messages"][3] == {"role": "assistant", "content": "Ok."}
    assert "assistant-after-tool" in answer.headers["x-shim-repairs"]
    assert answer.parse().choices[0].finish_reason in ("stop", "tool_calls")
    # A family that accepts the sequence gets the history as it is.
    client.chat.completions.create(model="mistral-small-latest", messages=history, tools=[WEATHER])
    assert [m["role"] for m in sent.last["messages"]] == ["user", "assistant", "tool", "user"]


def test_17_an_orphan_tool_result_gets_mistrals_reason_as_an_openai_400(spy: Any, raw: httpx.Client) -> None:
    # Decision: passed on, not repaired. OpenAI refuses an orphan tool message too; a guess would hide a bug.
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "tool", "tool_call_id": "call_cancelled", "content": "x"},
    ]
    assert (
        chat_raw(raw, messages=[messages[0], {**messages[1], "tool_call_id": "abcDEF123"}]).status_code == 400
    )
    client, _ = spy
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=messages)
    assert caught.value.status_code == 400
    assert said(caught.value) == "Unexpected role 'tool' after role 'user'"
    assert caught.value.code == "invalid_request_message_order"
    assert caught.value.type == "invalid_request_error"


def test_18_missing_tool_results_get_mistrals_reason_as_an_openai_400(spy: Any, raw: httpx.Client) -> None:
    history = weather_history("abcDEF123")
    history[1]["tool_calls"].append({**history[1]["tool_calls"][0], "id": "abcDEF124"})
    assert chat_raw(raw, messages=history, tools=[WEATHER]).status_code == 400
    client, _ = spy
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=history, tools=[WEATHER])
    assert said(caught.value) == "Not the same number of function calls and responses"


def test_19_a_trailing_assistant_turn_is_continued_with_prefix(spy: Any, raw: httpx.Client) -> None:
    messages = [
        {"role": "user", "content": "Which country won the 2022 World Cup?"},
        {"role": "assistant", "content": "Argentina"},
    ]
    refused = chat_raw(raw, messages=messages)
    assert refused.status_code == 400
    assert refused.json()["message"].startswith(
        "Expected last role User or Tool (or Assistant with prefix True)"
    )
    client, sent = spy
    answer = client.chat.completions.create(model=MODEL, messages=messages)
    assert sent.last["messages"][-1] == {"role": "assistant", "content": "Argentina", "prefix": True}
    assert (answer.choices[0].message.content or "").startswith("Argentina")


def test_20_a_system_message_after_the_assistant_is_hoisted(spy: Any, raw: httpx.Client) -> None:
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "How are you?"},
    ]
    refused = chat_raw(raw, messages=messages)
    assert refused.status_code == 400
    assert refused.json()["message"] == "Unexpected role 'system' after role 'assistant'"
    client, sent = spy
    answer = client.chat.completions.create(model=MODEL, messages=messages)
    assert [m["role"] for m in sent.last["messages"]] == ["system", "user", "assistant", "user"]
    assert sent.last["messages"][0]["content"] == "Answer in French."
    assert answer.choices[0].message.content


def test_21_developer_becomes_system(spy: Any, raw: httpx.Client) -> None:
    messages = [{"role": "developer", "content": "Be brief."}, *USER]
    refused = chat_raw(raw, messages=messages)
    assert refused.status_code == 422 and detail_locs(refused) == [["body", "messages", 0]]
    client, sent = spy
    client.chat.completions.create(model=MODEL, messages=messages)
    assert sent.last["messages"][0] == {"role": "system", "content": "Be brief."}


# --- D. assistant content rules -----------------------------------------------------------------------------


def test_22_an_empty_assistant_turn_is_dropped(spy: Any, raw: httpx.Client) -> None:
    messages = [*USER, {"role": "assistant", "content": ""}, {"role": "user", "content": "Hello?"}]
    refused = chat_raw(raw, messages=messages)
    assert refused.status_code == 400
    assert (
        refused.json()["message"] == "Assistant message must have either content or tool_calls, but not none."
    )
    client, sent = spy
    answer = client.chat.completions.create(model=MODEL, messages=messages)
    assert [m["role"] for m in sent.last["messages"]] == ["user", "user"]
    assert answer.choices[0].message.content


def test_23_content_beside_tool_calls_is_forwarded(spy: Any, raw: httpx.Client) -> None:
    history = weather_history("abcDEF123")
    history[1]["content"] = "Let me check"
    assert chat_raw(raw, messages=history, tools=[WEATHER]).status_code == 200  # historical
    client, sent = spy
    client.chat.completions.create(model=MODEL, messages=history, tools=[WEATHER])
    assert sent.last["messages"][1]["content"] == "Let me check"
    assert sent.last["messages"][1]["tool_calls"][0]["id"] == "abcDEF123"


def test_24_an_assistant_turn_of_empty_text_parts_is_dropped(spy: Any, raw: httpx.Client) -> None:
    messages = [
        *USER,
        {"role": "assistant", "content": [{"type": "text", "text": ""}]},
        {"role": "user", "content": "?"},
    ]
    refused = chat_raw(raw, messages=messages)
    assert refused.status_code == 500 and refused.json()["code"] == "3600"
    client, sent = spy
    answer = client.chat.completions.create(model=MODEL, messages=messages)
    assert [m["role"] for m in sent.last["messages"]] == ["user", "user"]
    assert answer.choices[0].message.content


# --- E. tool definitions and tool-call ids ------------------------------------------------------------------


def test_25_foreign_tool_call_ids_are_mapped_consistently(spy: Any, raw: httpx.Client) -> None:
    openai_id = "call_PTLP8xhu3uwZk4l3nlnrrJha"
    history = weather_history(openai_id)
    refused = chat_raw(raw, messages=history, tools=[WEATHER])
    assert refused.status_code == 400 and refused.json()["code"] == "3280"
    assert (
        refused.json()["message"]
        == f"Tool call id was {openai_id} but must be a-z, A-Z, 0-9, with a length of 9."
    )
    client, sent = spy
    answer = client.chat.completions.create(model=MODEL, messages=history, tools=[WEATHER])
    mapped = sent.last["messages"][1]["tool_calls"][0]["id"]
    assert len(mapped) == 9 and mapped.isalnum()
    assert sent.last["messages"][2]["tool_call_id"] == mapped
    assert answer.choices[0].message.content
    client.chat.completions.create(model=MODEL, messages=history, tools=[WEATHER])
    assert sent.last["messages"][1]["tool_calls"][0]["id"] == mapped  # the same on every replay


def test_26_an_invalid_function_name_gets_mistrals_reason_as_an_openai_400(
    spy: Any, raw: httpx.Client
) -> None:
    # Decision: relayed, not renamed. OpenAI enforces the same ^[a-zA-Z0-9_-]{1,64}$ rule.
    name = "add_newam_task_with_due_date___8c498bee-e833-49a9-8a88-0ab59fa26cb8"
    tools = [
        {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {}}}}
    ]
    assert chat_raw(raw, tools=tools).status_code == 400
    client, _ = spy
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER, tools=tools)
    assert said(caught.value) == (
        f"Function name was {name} but must be a-z, A-Z, 0-9, or contain underscores and dashes, "
        "with a maximum length of 64."
    )


def test_27_schema_ids_are_removed_from_tool_parameters(spy: Any, raw: httpx.Client) -> None:
    parameters = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://example.com/weather.json",
        "type": "object",
        "properties": {"city": {"type": "string"}},
    }
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": parameters}}]
    refused = chat_raw(raw, tools=tools)
    assert refused.status_code == 400 and "failed to compile JSON schema" in refused.json()["message"]
    client, sent = spy
    answer = client.chat.completions.create(model=MODEL, messages=USER, tools=tools)
    assert sent.last["tools"][0]["function"]["parameters"] == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
    }
    assert answer.choices[0].finish_reason == "tool_calls"


def test_28_draft4_bounds_are_rewritten_and_other_keywords_kept(spy: Any, raw: httpx.Client) -> None:
    parameters = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "minLength": 1, "format": "uri"},
            "count": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "additionalProperties": False,
    }
    tools = [{"type": "function", "function": {"name": "fetch_page", "parameters": parameters}}]
    refused = chat_raw(raw, tools=tools)
    assert refused.status_code == 400 and refused.json()["message"].startswith("Invalid tool schema")
    client, sent = spy
    client.chat.completions.create(model=MODEL, messages=USER, tools=tools)
    sent_parameters = sent.last["tools"][0]["function"]["parameters"]
    assert sent_parameters["properties"]["count"] == {"type": "number", "exclusiveMinimum": 0}
    assert sent_parameters["properties"]["url"] == parameters["properties"]["url"]
    assert sent_parameters["properties"]["tags"] == parameters["properties"]["tags"]
    assert sent_parameters["additionalProperties"] is False


def test_29_a_named_tool_choice_is_forwarded_and_forces_that_tool(spy: Any) -> None:
    client, sent = spy
    choice = {"type": "function", "function": {"name": "get_time"}}
    answer = client.chat.completions.create(
        model=MODEL, messages=USER, tools=[WEATHER, TIME], tool_choice=choice
    )
    assert sent.last["tool_choice"] == choice
    assert answer.choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in answer.choices[0].message.tool_calls or []] == ["get_time"]


@pytest.mark.parametrize("choice", ["required", "any"])
def test_30_required_and_any_both_force_a_tool_call(spy: Any, choice: str) -> None:
    client, sent = spy
    messages = [{"role": "user", "content": "Hello there"}]  # mentions no tool: auto would answer in text
    auto = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert auto.choices[0].finish_reason == "stop"
    forced = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER], tool_choice=choice
    )  # type: ignore[arg-type]
    assert sent.last["tool_choice"] == choice
    assert forced.choices[0].finish_reason == "tool_calls"
    assert (forced.choices[0].message.tool_calls or [])[0].function.name == "get_weather"


# --- F. response and stream shapes --------------------------------------------------------------------------


EXPECTED_CALLS = {
    "whole-call-no-index": [("D681PevKs", {"city": "Paris"})],
    "parallel-in-one-delta-index-0": [("D681PevKs", {"city": "Paris"}), ("Qe3rT5yU7", {"city": "Rome"})],
    "glm-fragments": [("D681PevKs", {"city": "Paris"}), ("Qe3rT5yU7", {"city": "Rome"})],
}


@pytest.mark.parametrize("shape", TOOL_STREAMS)
def test_31_streamed_tool_calls_reassemble_in_the_sdks_stream_helper(via: Any, shape: str) -> None:
    client, _ = via(sse_answer(TOOL_STREAMS[shape]))
    with client.chat.completions.stream(model=MODEL, messages=USER, tools=[WEATHER]) as stream:
        for _event in stream:
            pass
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert [(c.id, json.loads(c.function.arguments)) for c in calls] == EXPECTED_CALLS[shape]
    assert all(c.function.name == "get_weather" and c.type == "function" for c in calls)
    assert final.choices[0].finish_reason == "tool_calls"


def test_31_the_mocks_parallel_calls_arrive_whole_and_reassemble(spy: Any, raw: httpx.Client) -> None:
    request = {"tools": [WEATHER, TIME], "tool_choice": "required"}
    messages = [{"role": "user", "content": "Weather and time in Paris?"}]
    events = [
        json.loads(line[6:])
        for line in chat_raw(raw, messages=messages, stream=True, **request).text.splitlines()
        if line.startswith("data: {")
    ]
    call_chunks = [e for e in events if e["choices"] and e["choices"][0]["delta"].get("tool_calls")]
    assert len(call_chunks) == 1 and len(call_chunks[0]["choices"][0]["delta"]["tool_calls"]) == 2
    client, _ = spy
    with client.chat.completions.stream(model=MODEL, messages=messages, **request) as stream:
        final = stream.get_final_completion()
    assert sorted(c.function.name for c in final.choices[0].message.tool_calls or []) == [
        "get_time",
        "get_weather",
    ]


def test_32_reasoning_chunk_lists_become_content_and_reasoning_content(spy: Any, raw: httpx.Client) -> None:
    request = {"model": "mistral-small-latest", "reasoning_effort": "high", "messages": USER}
    mistral = raw.post("/v1/chat/completions", json=request).json()
    assert isinstance(mistral["choices"][0]["message"]["content"], list)  # the shape that breaks clients
    client, _ = spy
    answer = client.chat.completions.create(**request)  # type: ignore[call-overload]
    message = answer.choices[0].message
    assert isinstance(message.content, str) and message.content
    assert isinstance(message.reasoning_content, str) and message.reasoning_content  # type: ignore[attr-defined]
    content, reasoning = "", ""
    for chunk in client.chat.completions.create(**request, stream=True):  # type: ignore[call-overload]
        for choice in chunk.choices:
            assert choice.delta.content is None or isinstance(choice.delta.content, str)
            content += choice.delta.content or ""
            reasoning += getattr(choice.delta, "reasoning_content", None) or ""
    assert (content, reasoning) == (message.content, message.reasoning_content)  # type: ignore[attr-defined]


def test_33_empty_content_beside_tool_calls_is_null(spy: Any, raw: httpx.Client) -> None:
    request = {"tools": [WEATHER], "tool_choice": "required"}
    assert chat_raw(raw, **request).json()["choices"][0]["message"]["content"] == ""
    client, _ = spy
    answer = client.chat.completions.create(model=MODEL, messages=USER, **request)
    assert answer.choices[0].message.content is None and answer.choices[0].message.tool_calls
    with client.chat.completions.stream(model=MODEL, messages=USER, **request) as stream:
        assert stream.get_final_completion().choices[0].message.content is None


@pytest.mark.parametrize(
    ("mistral", "openai_reason"), [("model_length", "length"), ("something_new", "stop")]
)
def test_34_non_openai_finish_reasons_are_mapped(via: Any, mistral: str, openai_reason: str) -> None:
    body = {
        "id": "0d0e5c6f7a8b4c9d8e7f6a5b4c3d2e1f",
        "object": "chat.completion",
        "created": 1767000000,
        "model": MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Cut"}, "finish_reason": mistral}
        ],
        "usage": USAGE,
    }
    client, _ = via(json_answer(200, body))
    assert (
        client.chat.completions.create(model=MODEL, messages=USER).choices[0].finish_reason == openai_reason
    )
    streamed, _ = via(sse_answer([ROLE, stream_chunk({"content": "Cut"}, mistral, usage=USAGE)]))
    reasons = [
        c.choices[0].finish_reason
        for c in streamed.chat.completions.create(model=MODEL, messages=USER, stream=True)
    ]
    assert reasons[-1] == openai_reason


def test_34_finish_reason_error_is_an_openai_error(via: Any) -> None:
    body = {
        "id": "0d0e5c6f7a8b4c9d8e7f6a5b4c3d2e1f",
        "object": "chat.completion",
        "created": 1767000000,
        "model": MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Par"}, "finish_reason": "error"}
        ],
    }
    client, _ = via(json_answer(200, body))
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)
    assert caught.value.status_code == 502 and "finish_reason 'error'" in caught.value.message
    streamed, _ = via(
        sse_answer([ROLE, stream_chunk({"content": "Par"}), stream_chunk({"content": "t"}, "error")])
    )
    received: list[str] = []
    with pytest.raises(openai.APIError) as in_stream:
        for chunk in streamed.chat.completions.create(model=MODEL, messages=USER, stream=True):
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "Par"
    assert "finish_reason 'error'" in in_stream.value.message


def test_35_usage_is_a_final_chunk_only_when_asked_for(spy: Any, raw: httpx.Client) -> None:
    events = [
        json.loads(line[6:])
        for line in chat_raw(raw, stream=True).text.splitlines()
        if line.startswith("data: {")
    ]
    assert "usage" in events[-1] and events[-1]["choices"][0]["finish_reason"] == "stop"  # Mistral's shape
    client, _ = spy
    asked = list(
        client.chat.completions.create(
            model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    finishing = [c for c in asked if c.choices and c.choices[0].finish_reason]
    assert len(finishing) == 1 and finishing[0].usage is None
    assert asked[-1].choices == [] and asked[-1].usage is not None
    assert asked[-1].usage.total_tokens == events[-1]["usage"]["total_tokens"]
    not_asked = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    assert all(c.usage is None for c in not_asked)
    assert not_asked[-1].choices[0].finish_reason == "stop"


# --- G. error envelopes -------------------------------------------------------------------------------------

DETAIL = [
    {
        "type": "extra_forbidden",
        "loc": ["body", "stream_options", "include_usage"],
        "msg": "Extra inputs are not permitted",
        "input": True,
    }
]
SHAPES_422 = {
    "i-envelope": {
        "object": "error",
        "message": {"detail": DETAIL},
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    },
    "ii-json-string": {
        "object": "error",
        "message": json.dumps({"detail": DETAIL}),
        "type": "internal_error_proxy",
        "param": None,
        "code": "1000",
    },
    "iii-bare": {"detail": DETAIL},
    "iv-php-mistral": {
        "object": "Error",
        "detail": DETAIL,
        "message": DETAIL,
        "type": "invalid_request_error",
        "code": 3001,
    },
}


@pytest.mark.parametrize("shape", SHAPES_422)
def test_36_every_422_shape_becomes_a_readable_bad_request(via: Any, shape: str) -> None:
    client, _ = via(json_answer(422, SHAPES_422[shape]))
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)
    error = caught.value
    assert error.status_code == 400
    assert said(error) == "stream_options.include_usage: Extra inputs are not permitted"
    assert (error.param, error.type, error.code) == (
        "stream_options.include_usage",
        "invalid_request_error",
        "extra_forbidden",
    )


@pytest.mark.parametrize("validation_shape", ["envelope", "bare"])
def test_36_the_mocks_own_422_reaches_the_client_readably(
    start_mock: Any, via: Any, validation_shape: str
) -> None:
    mock = start_mock(validation_shape=validation_shape)
    with httpx.Client(base_url=mock, headers={"Authorization": f"Bearer {KEY}"}) as direct:
        refused = direct.post("/v1/chat/completions", json={"model": MODEL, "messages": USER, "top_p": 2})
    assert refused.status_code == 422 and ("detail" in refused.json()) is (validation_shape == "bare")
    client, _ = via(forward_to=mock)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER, top_p=2)
    assert said(caught.value) == "top_p: Input should be less than or equal to 1"
    assert caught.value.param == "top_p"


RATE_LIMIT_HEADERS = {
    "Retry-After": "7",
    "x-ratelimit-limit-req-minute": "60",
    "x-ratelimit-remaining-req-minute": "0",
    "x-ratelimit-limit-tokens-minute": "500000",
    "x-ratelimit-remaining-tokens-minute": "1200",
}
SHAPES_429 = {
    "gateway": {"message": "Requests rate limit exceeded"},
    "envelope": {
        "object": "error",
        "message": "Rate limit exceeded",
        "type": "rate_limited",
        "param": None,
        "code": "1300",
        "raw_status_code": 429,
    },
}


@pytest.mark.parametrize("shape", SHAPES_429)
def test_37_both_429_shapes_are_rate_limit_errors_with_retry_headers(via: Any, shape: str) -> None:
    client, _ = via(json_answer(429, SHAPES_429[shape], RATE_LIMIT_HEADERS))
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)
    error = caught.value
    assert said(error) == SHAPES_429[shape]["message"]
    assert (error.type, error.code) == ("rate_limit_error", "rate_limit_exceeded")
    headers = error.response.headers
    assert headers["retry-after"] == "7"
    assert (headers["x-ratelimit-limit-requests"], headers["x-ratelimit-remaining-requests"]) == ("60", "0")
    assert (headers["x-ratelimit-limit-tokens"], headers["x-ratelimit-remaining-tokens"]) == (
        "500000",
        "1200",
    )
    assert headers["x-ratelimit-remaining-req-minute"] == "0"  # Mistral's own names are kept too


def test_37_the_mocks_rate_limit_reaches_the_client_as_a_rate_limit_error(
    start_mock: Any, start_shim: Any
) -> None:
    client = OpenAI(base_url=f"{start_shim(upstream=start_mock(rpm=1))}/v1", api_key=KEY, max_retries=0)
    client.chat.completions.create(model=MODEL, messages=USER)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)
    assert said(caught.value) == "Rate limit exceeded"
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert caught.value.response.headers["x-ratelimit-remaining-requests"] == "0"


@pytest.mark.parametrize("model", ["API", ""])
def test_38_an_unknown_model_is_not_found(spy: Any, raw: httpx.Client, model: str) -> None:
    refused = chat_raw(raw, model=model)
    assert refused.status_code == 400 and refused.json()["message"] == f"Invalid model: {model}"
    client, _ = spy
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model=model, messages=USER)
    error = caught.value
    assert (error.status_code, error.code, error.param) == (404, "model_not_found", "model")
    assert said(error).startswith(f"The model `{model}` does not exist")
    with pytest.raises(openai.NotFoundError) as retrieved:
        client.models.retrieve("no-such-model")
    assert retrieved.value.code == "model_not_found"


def test_39_a_deterministic_500_is_avoided_and_never_retried(via: Any, raw: httpx.Client, spy: Any) -> None:
    trigger = [
        *USER,
        {"role": "assistant", "content": [{"type": "text", "text": ""}]},
        {"role": "user", "content": "?"},
    ]
    assert chat_raw(raw, messages=trigger).status_code == 500
    repaired, _ = spy
    assert repaired.chat.completions.create(model=MODEL, messages=trigger).choices[0].message.content
    failing = json_answer(
        500, {"code": "3600", "message": "Service unavailable.", "type": "internal_server_error"}
    )
    client, server = via(failing, retries=3)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)
    assert (caught.value.status_code, said(caught.value), caught.value.code) == (
        500,
        "Service unavailable.",
        "3600",
    )
    assert len(server.received) == 1, "a 500 must not be retried"


# --- H. embeddings ------------------------------------------------------------------------------------------


def test_40_the_sdks_default_base64_decodes_to_mistrals_floats(spy: Any, raw: httpx.Client) -> None:
    texts = ["The quick brown fox", "jumps over the lazy dog"]
    floats = raw.post("/v1/embeddings", json={"model": "mistral-embed", "input": texts}).json()
    as_base64 = raw.post(
        "/v1/embeddings", json={"model": "mistral-embed", "input": texts, "encoding_format": "base64"}
    )
    assert isinstance(as_base64.json()["data"][0]["embedding"], list)  # not base64: decoding it corrupts
    client, sent = spy
    response = client.embeddings.with_raw_response.create(model="mistral-embed", input=texts)
    assert sent.last["encoding_format"] == "float"
    on_the_wire = response.http_response.json()["data"]  # the SDK asked for base64, and got it
    assert [base64.b64decode(item["embedding"]) for item in on_the_wire] == [
        struct.pack(f"<{len(d['embedding'])}f", *d["embedding"]) for d in floats["data"]
    ]
    vectors = [item.embedding for item in response.parse().data]
    expected = [
        struct.unpack(f"<{len(v)}f", struct.pack(f"<{len(v)}f", *v))
        for v in (d["embedding"] for d in floats["data"])
    ]
    assert [len(v) for v in vectors] == [1024, 1024]
    assert vectors == [list(v) for v in expected]
    explicit = client.embeddings.create(model="mistral-embed", input=texts, encoding_format="float")
    assert [item.embedding for item in explicit.data] == [d["embedding"] for d in floats["data"]]


def test_41_a_batch_over_mistrals_token_limit_is_split_and_merged_in_order(
    spy: Any, raw: httpx.Client
) -> None:
    texts = [
        f"Document {n}: " + "the river ran past the mill and the old stone bridge " * 300 for n in range(6)
    ]
    refused = raw.post("/v1/embeddings", json={"model": "mistral-embed", "input": texts})
    assert refused.status_code == 400 and refused.json()["message"].startswith(
        "Too many tokens in batch. Max is 16384"
    )
    client, sent = spy
    answer = client.embeddings.create(model="mistral-embed", input=texts, encoding_format="float")
    parts = [r.json["input"] for r in sent.received]
    assert len(parts) >= 2 and [text for part in parts for text in part] == texts
    assert [item.index for item in answer.data] == list(range(6))
    singles = [raw.post("/v1/embeddings", json={"model": "mistral-embed", "input": t}).json() for t in texts]
    assert [item.embedding for item in answer.data] == [s["data"][0]["embedding"] for s in singles]
    assert answer.usage.prompt_tokens == sum(s["usage"]["prompt_tokens"] for s in singles)


def test_42_dimensions_is_output_dimension_and_user_is_dropped(spy: Any, raw: httpx.Client) -> None:
    refused = raw.post(
        "/v1/embeddings", json={"model": "codestral-embed", "input": "x", "dimensions": 256, "user": "u"}
    )
    assert refused.status_code == 422
    assert [d["loc"] for d in refused.json()["message"]["detail"]] == [
        ["body", "dimensions"],
        ["body", "user"],
    ]
    client, sent = spy
    answer = client.embeddings.with_raw_response.create(
        model="codestral-embed", input="def f(): pass", dimensions=256, user="u"
    )
    assert sent.last["output_dimension"] == 256
    assert "dimensions" not in sent.last and "user" not in sent.last
    assert answer.headers["x-shim-dropped-params"] == "user"
    assert len(answer.parse().data[0].embedding) == 256


def test_every_catalogue_entry_has_a_test_here() -> None:
    text = (require_shared() / "reference" / "FAILURE-CATALOGUE.md").read_text()
    entries = {int(number) for number in re.findall(r"^\s*(\d+)\. \*\*", text, re.MULTILINE)}
    assert entries == set(range(1, 43))
    tests = [name for name in globals() if name.startswith("test_")]
    assert [n for n in sorted(entries) if not any(t.startswith(f"test_{n:02d}_") for t in tests)] == []
