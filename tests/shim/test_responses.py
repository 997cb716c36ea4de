"""Answer translators: Mistral's chat and FIM answers and streams → what the openai SDK expects.

Pure functions, tested without servers. The last tests feed the mock's own synthetic answers through
both translators and let the openai SDK's stream accumulator rebuild the streamed one: it must equal the
non-stream translation, which is what a client switching ``stream=True`` on and off relies on.
"""

import json
from typing import Any

import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk

from mockserver import validation
from mockserver.sources.synthetic import answers as endpoints
from mockserver.sources.synthetic import chat as chat_synth
from shim.translate import completions
from shim.translate.chat import answer as responses
from shim.translate.chat.stream import StreamTranslator
from shim.translate.context import ChatContext
from shim.translate.problem import OpenAIError

PLAIN = ChatContext()
USAGE = ChatContext(include_usage=True)
LEGACY = ChatContext(legacy_functions=True)
MISTRAL_USAGE = {"prompt_tokens": 12, "total_tokens": 20, "completion_tokens": 8, "service_tier": "standard"}
THINKING = {"type": "thinking", "thinking": [{"type": "text", "text": "Let me think."}], "closed": True}


def mistral_answer(message: dict[str, Any], finish: Any = "stop", **extra: Any) -> dict[str, Any]:
    return {
        "id": "b5899875951449e9a2997246a3a54d21",
        "created": 1732548590,
        "model": "mistral-large-latest",
        "usage": MISTRAL_USAGE,
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", **message}}],
        **extra,
    }


def weather_call(
    call_id: Any = "D681PevKs", arguments: Any = '{"city": "Paris"}', **extra: Any
) -> dict[str, Any]:
    return {"id": call_id, "function": {"name": "get_weather", "arguments": arguments}, **extra}


# --- non-stream ---------------------------------------------------------------------------------------------


def test_a_plain_answer_gets_openais_required_keys() -> None:
    out = responses.translate_chat_response(mistral_answer({"content": "Hi!", "tool_calls": None}), PLAIN)
    assert out["object"] == "chat.completion"
    assert out["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi!", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert list(out["usage"]) == ["prompt_tokens", "completion_tokens", "total_tokens", "service_tier"]


def test_thinking_chunks_become_reasoning_content() -> None:
    content = [THINKING, {"type": "text", "text": "The answer"}, {"type": "text", "text": " is 42."}]
    message = responses.translate_chat_response(mistral_answer({"content": content}), PLAIN)["choices"][0][
        "message"
    ]
    assert message["content"] == "The answer is 42."
    assert message["reasoning_content"] == "Let me think."


def test_magistrals_text_empty_thinking_text_shape() -> None:
    content = [
        {"type": "text", "text": "A"},
        {"type": "thinking", "thinking": []},
        {"type": "text", "text": "B"},
        {"type": "reference", "reference_ids": [1]},
    ]
    message = responses.translate_chat_response(mistral_answer({"content": content}), PLAIN)["choices"][0][
        "message"
    ]
    assert (message["content"], message["reasoning_content"]) == ("AB", "")


def test_empty_content_beside_tool_calls_is_null_and_calls_are_complete() -> None:
    calls = [weather_call(index=0), weather_call("abcDEF123", arguments={"city": "Rome"}, index=1)]
    out = responses.translate_chat_response(
        mistral_answer({"content": "", "tool_calls": calls}, "tool_calls"), PLAIN
    )
    message = out["choices"][0]["message"]
    assert message["content"] is None
    assert message["tool_calls"] == [
        {
            "id": "D681PevKs",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        },
        {
            "id": "abcDEF123",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
        },
    ]
    assert out["choices"][0]["finish_reason"] == "tool_calls"


def test_a_tool_call_without_id_gets_a_stable_one() -> None:
    body = mistral_answer({"content": "", "tool_calls": [weather_call(None)]}, "tool_calls")
    first = responses.translate_chat_response(body, PLAIN)["choices"][0]["message"]["tool_calls"][0]["id"]
    again = responses.translate_chat_response(body, PLAIN)["choices"][0]["message"]["tool_calls"][0]["id"]
    assert first == again == responses.fallback_call_id(body["id"], 0, 0)
    assert len(first) == 9


@pytest.mark.parametrize(
    ("mistral", "openai"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("model_length", "length"),
        ("tool_calls", "tool_calls"),
        ("something_new", "stop"),
        (None, "stop"),
    ],
)
def test_finish_reasons_are_openais(mistral: Any, openai: str) -> None:
    out = responses.translate_chat_response(mistral_answer({"content": "x"}, mistral), PLAIN)
    assert out["choices"][0]["finish_reason"] == openai


def test_finish_reason_error_is_an_openai_error() -> None:
    with pytest.raises(OpenAIError) as caught:
        responses.translate_chat_response(mistral_answer({"content": "partial"}, "error"), PLAIN)
    error = caught.value
    assert (error.status, error.type, error.code) == (502, "server_error", "upstream_generation_error")
    assert "finish_reason 'error'" in error.message


def test_padding_and_prefix_are_removed_and_unknown_keys_kept() -> None:
    body = mistral_answer(
        {"content": "x", "prefix": False, "tool_calls": None}, p="abc", system_fingerprint="fp"
    )
    out = responses.translate_chat_response(body, PLAIN)
    assert "p" not in out
    assert "prefix" not in out["choices"][0]["message"]
    assert out["system_fingerprint"] == "fp"


def test_usage_details_are_kept_and_cached_tokens_filled_in() -> None:
    usage = {
        "prompt_tokens": 5,
        "total_tokens": 7,
        "completion_tokens": 2,
        "num_cached_tokens": 3,
        "prompt_audio_seconds": None,
    }
    out = responses.translate_chat_response({**mistral_answer({"content": "x"}), "usage": usage}, PLAIN)
    assert out["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 2,
        "total_tokens": 7,
        "num_cached_tokens": 3,
        "prompt_tokens_details": {"cached_tokens": 3},
    }


def test_legacy_functions_are_answered_with_function_call() -> None:
    body = mistral_answer({"content": "", "tool_calls": [weather_call()]}, "tool_calls")
    choice = responses.translate_chat_response(body, LEGACY)["choices"][0]
    assert choice["finish_reason"] == "function_call"
    assert choice["message"]["function_call"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert "tool_calls" not in choice["message"]


def test_logprobs_get_openais_required_lists() -> None:
    """OpenAI's entries: token, logprob, bytes and a top_logprobs list on each (Mistral's token_id, which
    OpenAI's entry has no place for, is left out), and refusal null."""
    logprobs = {"content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "token_id": 5}]}
    body = mistral_answer({"content": "Hi"})
    body["choices"][0]["logprobs"] = logprobs
    out = responses.translate_chat_response(body, PLAIN)["choices"][0]["logprobs"]
    assert out == {
        "content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": []}],
        "refusal": None,
    }


def test_alternatives_become_openais_top_logprobs() -> None:
    alternatives = [
        {"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "token_id": 5},
        {"token": "Hey", "logprob": -2.5, "bytes": [72, 101, 121], "token_id": 9},
    ]
    entry = {"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "token_id": 5, "top_logprobs": alternatives}
    body = mistral_answer({"content": "Hi"})
    body["choices"][0]["logprobs"] = {"content": [entry]}
    out = responses.translate_chat_response(body, PLAIN)["choices"][0]["logprobs"]["content"][0]
    assert out["top_logprobs"] == [
        {"token": "Hi", "logprob": -0.1, "bytes": [72, 105]},
        {"token": "Hey", "logprob": -2.5, "bytes": [72, 101, 121]},
    ]


# --- streams ------------------------------------------------------------------------------------------------


def chunk(delta: dict[str, Any], finish: Any = None, index: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "id": "f798aa",
        "object": "chat.completion.chunk",
        "created": 1732548656,
        "model": "mistral-large-latest",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def run(events: list[dict[str, Any]], context: ChatContext = PLAIN) -> list[dict[str, Any]]:
    translator = StreamTranslator(context)
    out = [translated for event in events for translated in translator.feed(event)]
    return out + translator.finish()


def deltas(out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [choice["delta"] for event in out for choice in event["choices"]]


TEXT_STREAM = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"content": "Hel"}, p="abcdef"),
    chunk({"content": "lo"}, "stop", usage=MISTRAL_USAGE, p="ab"),
]


def test_a_text_stream_keeps_one_event_per_chunk_and_drops_padding() -> None:
    out = run(TEXT_STREAM)
    assert deltas(out) == [{"role": "assistant"}, {"content": "Hel"}, {"content": "lo"}, {}]
    assert [event["choices"][0]["finish_reason"] for event in out] == [None, None, None, "stop"]
    assert all("p" not in event and event["object"] == "chat.completion.chunk" for event in out)


def test_usage_is_removed_from_content_chunks_without_include_usage() -> None:
    out = run(TEXT_STREAM)
    assert len(out) == 4
    assert all("usage" not in event for event in out)


def test_usage_is_a_final_empty_choices_chunk_with_include_usage() -> None:
    out = run(TEXT_STREAM, USAGE)
    assert len(out) == 5
    assert all("usage" not in event for event in out[:4])
    assert out[4] == {
        "id": "f798aa",
        "object": "chat.completion.chunk",
        "created": 1732548656,
        "model": "mistral-large-latest",
        "choices": [],
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 8,
            "total_tokens": 20,
            "service_tier": "standard",
        },
    }


def test_the_role_is_sent_once_per_choice() -> None:
    events = [chunk({"role": "assistant", "content": ""}, index=i) for i in (0, 1)]
    events += [chunk({"role": None, "content": "a"}, index=0), chunk({"content": "b"}, "stop", index=1)]
    out = deltas(run(events))
    assert out == [{"role": "assistant"}] * 2 + [{"content": "a"}, {"content": "b"}, {}]


def test_empty_text_waits_until_the_answer_turns_out_empty() -> None:
    # Mistral opens with content "" before it knows whether text or tool calls follow: sending it would
    # make the SDK's reassembled tool-call message say "" where the non-stream one says null.
    tool_calls = run(
        [chunk({"role": "assistant", "content": ""}), chunk({"tool_calls": [weather_call()]}, "tool_calls")]
    )
    assert all("content" not in delta for delta in deltas(tool_calls))
    empty = run([chunk({"role": "assistant", "content": ""}), chunk({"content": ""}, "stop")])
    assert deltas(empty) == [{"role": "assistant"}, {"content": ""}, {}]
    thinking_only = run([chunk({"content": [THINKING]}, "length")])
    assert deltas(thinking_only) == [
        {"role": "assistant", "reasoning_content": "Let me think.", "content": ""},
        {},
    ]


def test_thinking_deltas_become_reasoning_content_deltas() -> None:
    events = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Okay"}]}]}),
        chunk({"content": [THINKING, {"type": "text", "text": "Four"}]}),
        chunk({"content": "."}, "stop"),
    ]
    assert deltas(run(events))[1:] == [
        {"reasoning_content": "Okay"},
        {"content": "Four", "reasoning_content": "Let me think."},
        {"content": "."},
        {},
    ]


def test_a_whole_tool_call_without_index_gets_index_id_type_and_name() -> None:
    events = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "", "tool_calls": [weather_call()]}, "tool_calls"),
    ]
    assert deltas(run(events))[1] == {
        "tool_calls": [
            {
                "index": 0,
                "id": "D681PevKs",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ]
    }


@pytest.mark.parametrize("upstream_index", [None, 0])
def test_parallel_calls_in_one_delta_get_distinct_indexes(upstream_index: Any) -> None:
    extra = {} if upstream_index is None else {"index": upstream_index}
    calls = [weather_call("aaaaaaaa1", **extra), weather_call("bbbbbbbb2", '{"city": "Rome"}', **extra)]
    out = deltas(run([chunk({"tool_calls": calls}, "tool_calls")]))[0]["tool_calls"]
    assert [(c["index"], c["id"]) for c in out] == [(0, "aaaaaaaa1"), (1, "bbbbbbbb2")]


def test_calls_in_separate_chunks_are_indexed_by_call_not_by_position() -> None:
    events = [
        chunk({"tool_calls": [weather_call("aaaaaaaa1", index=0)]}),
        chunk({"tool_calls": [weather_call("bbbbbbbb2", index=0)]}, "tool_calls"),
    ]
    *out, ending = deltas(run(events))
    assert [d["tool_calls"][0]["index"] for d in out] == [0, 1]
    assert ending == {}


def test_glm_fragments_without_id_or_index_continue_their_call() -> None:
    events = [
        chunk({"tool_calls": [{"id": "glm1", "function": {"name": "get_weather", "arguments": '{"ci'}}]}),
        chunk({"tool_calls": [{"function": {"arguments": 'ty": "Pa'}}]}),
        chunk({"tool_calls": [{"function": {"arguments": 'ris"}'}}]}),
        chunk({"tool_calls": [{"id": "glm2", "function": {"name": "get_time", "arguments": ""}}]}),
        chunk({"tool_calls": [{"function": {"arguments": "{}"}}]}, "tool_calls"),
    ]
    out = [d["tool_calls"][0] for d in deltas(run(events))[:-1]]
    assert out[0] == {
        "index": 0,
        "id": "glm1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"ci'},
    }
    assert out[1] == {"index": 0, "type": "function", "function": {"arguments": 'ty": "Pa'}}
    assert out[2]["index"] == 0 and "id" not in out[2] and "name" not in out[2]["function"]
    assert out[3]["index"] == 1 and out[3]["id"] == "glm2"
    assert out[4] == {"index": 1, "type": "function", "function": {"arguments": "{}"}}


def test_fragments_that_repeat_the_upstream_index_continue_their_call() -> None:
    events = [
        chunk({"tool_calls": [{"index": 3, "id": "x1", "function": {"name": "a", "arguments": "{"}}]}),
        chunk({"tool_calls": [{"index": 4, "id": "x2", "function": {"name": "b", "arguments": "{"}}]}),
        chunk({"tool_calls": [{"index": 3, "function": {"arguments": "}"}}]}),
        chunk({"tool_calls": [{"index": 4, "function": {"arguments": "}"}}]}, "tool_calls"),
    ]
    assert [d["tool_calls"][0]["index"] for d in deltas(run(events))[:-1]] == [0, 1, 0, 1]


def test_a_stream_of_fragments_reassembles_in_the_openai_sdk() -> None:
    events = [
        chunk({"role": "assistant", "content": ""}),
        chunk(
            {"tool_calls": [{"id": "glm1", "function": {"name": "get_weather", "arguments": '{"city": '}}]}
        ),
        chunk({"tool_calls": [{"function": {"arguments": '"Paris"}'}}]}),
        chunk(
            {"tool_calls": [weather_call("abcDEF123", '{"city": "Rome"}')]}, "tool_calls", usage=MISTRAL_USAGE
        ),
    ]
    state = ChatCompletionStreamState()
    for event in run(events, USAGE):
        state.handle_chunk(ChatCompletionChunk.model_validate(event))
    final = state.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("glm1", "get_weather", {"city": "Paris"}),
        ("abcDEF123", "get_weather", {"city": "Rome"}),
    ]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage is not None and final.usage.total_tokens == 20


def test_empty_content_beside_streamed_tool_calls_is_left_out() -> None:
    delta = deltas(run([chunk({"content": "", "tool_calls": [weather_call()]}, "tool_calls")]))[0]
    assert "content" not in delta


def test_streamed_finish_reasons_are_mapped() -> None:
    assert run([chunk({"content": "x"}, "model_length")])[-1]["choices"][0]["finish_reason"] == "length"
    assert run([chunk({"content": "x"}, "novel")])[-1]["choices"][0]["finish_reason"] == "stop"


def test_a_finish_reason_comes_in_a_chunk_of_its_own_as_openai_sends_it() -> None:
    # Mistral ends a choice on its last delta; the SDK's stream helper announces a tool call's arguments
    # as done only when a later chunk finishes the choice, so the last call was never announced.
    out = run([chunk({"tool_calls": [weather_call()]}, "tool_calls")])
    assert [event["choices"][0]["finish_reason"] for event in out] == [None, "tool_calls"]
    assert out[1]["choices"] == [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "tool_calls"}]
    two = run([chunk({"content": "a"}, "stop", index=0), chunk({"role": "assistant"}, index=1)])
    assert [[c["index"] for c in event["choices"]] for event in two] == [[0], [0], [1]]


def test_a_streamed_finish_reason_error_raises() -> None:
    translator = StreamTranslator(PLAIN)
    translator.feed(chunk({"content": "par"}))
    with pytest.raises(OpenAIError) as caught:
        translator.feed(chunk({"content": "tial"}, "error"))
    assert (caught.value.status, caught.value.code) == (502, "upstream_generation_error")


def test_an_error_object_inside_the_stream_raises_with_its_message() -> None:
    with pytest.raises(OpenAIError) as caught:
        StreamTranslator(PLAIN).feed(
            {"object": "error", "message": "Service unavailable.", "type": "internal_server_error"}
        )
    assert (caught.value.status, caught.value.message) == (502, "Service unavailable.")


def test_legacy_functions_stream_function_call_deltas() -> None:
    events = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"tool_calls": [{"id": "glm1", "function": {"name": "get_weather", "arguments": '{"city"'}}]}),
        chunk({"tool_calls": [{"function": {"arguments": ': "Paris"}'}}]}, "tool_calls"),
    ]
    out = run(events, LEGACY)
    assert deltas(out)[1:] == [
        {"function_call": {"name": "get_weather", "arguments": '{"city"'}},
        {"function_call": {"arguments": ': "Paris"}'}},
        {},
    ]
    assert out[-1]["choices"][0]["finish_reason"] == "function_call"


def test_a_chunk_with_only_usage_yields_nothing_until_finish() -> None:
    translator = StreamTranslator(USAGE)
    assert translator.feed({**chunk({}), "choices": [], "usage": MISTRAL_USAGE}) == []
    assert translator.finish()[0]["usage"]["total_tokens"] == 20


# --- the stream and the non-stream answer agree (the mock's own answers) ------------------------------------


def mock_answer(request: dict[str, Any]) -> chat_synth.Answer:
    accepted = validation.accept("/v1/chat/completions", json.dumps(request).encode(), "application/json")
    outcome = endpoints.chat(accepted)
    assert outcome.answer is not None
    return outcome.answer


AGREEMENT_CASES = {
    "text": {"model": "mistral-large-latest", "messages": [{"role": "user", "content": "Hi"}], "n": 2},
    "reasoning": {
        "model": "mistral-small-latest",
        "reasoning_effort": "high",
        "messages": [{"role": "user", "content": "Why is the sky blue?"}],
    },
    "tools": {
        "model": "mistral-large-latest",
        "tool_choice": "required",
        "messages": [{"role": "user", "content": "Weather and time in Paris?"}],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": n,
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
            for n in ("get_weather", "get_time")
        ],
    },
}


@pytest.mark.parametrize("case", AGREEMENT_CASES)
def test_the_reassembled_stream_equals_the_non_stream_answer(case: str) -> None:
    answer = mock_answer(AGREEMENT_CASES[case])
    whole = responses.translate_chat_response(chat_synth.render(answer, 1), USAGE)
    state = ChatCompletionStreamState()
    for event in run(chat_synth.chunks(answer, 1), USAGE):
        state.handle_chunk(ChatCompletionChunk.model_validate(event))
    streamed = state.get_final_completion().model_dump(exclude_none=True)
    for got, want in zip(streamed["choices"], whole["choices"], strict=True):
        assert got["finish_reason"] == want["finish_reason"]
        for call in got["message"].get("tool_calls", []):
            del call["index"]  # the SDK's accumulator keeps the stream's index on each call
        for key in ("content", "reasoning_content", "tool_calls"):
            assert got["message"].get(key) == want["message"].get(key), key
    assert streamed["usage"] == whole["usage"]
    if case == "reasoning":
        assert whole["choices"][0]["message"]["reasoning_content"]
    if case == "tools":
        assert len(whole["choices"][0]["message"]["tool_calls"]) == 2


# --- legacy completions -------------------------------------------------------------------------------------

FIM_PLAN = completions.LegacyPlan("fim", completions.FIM_PATH, {})
CHAT_PLAN = completions.LegacyPlan("chat", completions.CHAT_PATH, {}, include_usage=True)


def test_a_fim_answer_becomes_a_text_completion() -> None:
    body = mistral_answer({"content": "    return a + b", "prefix": False}, "stop", model="codestral-latest")
    out = completions.translate_completion_response(body)
    assert out == {
        "id": body["id"],
        "object": "text_completion",
        "created": body["created"],
        "model": "codestral-latest",
        "choices": [{"text": "    return a + b", "index": 0, "logprobs": None, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 8,
            "total_tokens": 20,
            "service_tier": "standard",
        },
    }


@pytest.mark.parametrize(
    ("mistral", "openai"),
    [("model_length", "length"), ("tool_calls", "stop"), ("length", "length"), (None, "stop")],
)
def test_legacy_finish_reasons_stay_in_the_legacy_enum(mistral: Any, openai: str) -> None:
    out = completions.translate_completion_response(mistral_answer({"content": "x"}, mistral))
    assert out["choices"][0]["finish_reason"] == openai


def test_a_legacy_answer_drops_thinking_and_refuses_error() -> None:
    out = completions.translate_completion_response(
        mistral_answer({"content": [THINKING, {"type": "text", "text": "ok"}]})
    )
    assert out["choices"][0]["text"] == "ok"
    with pytest.raises(OpenAIError) as caught:
        completions.translate_completion_response(mistral_answer({"content": "x"}, "error"))
    assert caught.value.status == 502


@pytest.mark.parametrize(("plan", "usage_chunks"), [(CHAT_PLAN, 1), (FIM_PLAN, 0)])
def test_a_legacy_stream_sends_text_chunks_and_usage_only_when_asked(
    plan: completions.LegacyPlan, usage_chunks: int
) -> None:
    translator = completions.CompletionStreamTranslator(plan.include_usage)
    out = [event for mistral in TEXT_STREAM for event in translator.feed(mistral)] + translator.finish()
    texts = [event["choices"][0]["text"] for event in out if event["choices"]]
    assert texts == ["Hel", "lo"]
    assert [event["choices"][0]["finish_reason"] for event in out if event["choices"]] == [None, "stop"]
    tail = [event for event in out if not event["choices"]]
    assert len(tail) == usage_chunks
    if tail:
        assert tail[0]["usage"]["total_tokens"] == 20 and tail[0]["object"] == "text_completion"
