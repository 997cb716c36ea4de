"""Message repairs (``shim/translate/messages.py``): each one named in its docstring, each asserted exactly.

Every repaired conversation is also checked with the mock's contract (schema and mistral-common's
serving rules), so a repair that produced something Mistral still refuses would fail here.
"""

import base64
import re
from typing import Any

import pytest

from mistral_wire.contract import semantics
from mistral_wire.contract.errors import MistralError
from mistral_wire.contract.requests import ChatCompletionRequest
from shim.translate import ids
from shim.translate.chat import messages
from shim.translate.chat import request as params
from shim.translate.context import Options

MODEL = "mistral-large-latest"  # refuses a user turn right after a tool result
LENIENT = "mistral-small-latest"  # accepts it (Family.user_after_tool)
WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}
OPENAI_ID = "call_PTLP8xhu3uwZk4l3nlnrrJha"
MISTRAL_SHAPED = re.compile(r"^[a-zA-Z0-9]{9}$")


def translate(history: list[Any], *, user_after_tool: bool = False) -> tuple[list[Any], tuple[str, ...]]:
    return messages.translate_messages(history, user_after_tool=user_after_tool)


def accepted(history: list[Any], model: str = MODEL, tools: bool = False) -> None:
    """Mistral's contract accepts the translated history (schema, then the serving validator)."""
    body: dict[str, Any] = {"model": model, "messages": history}
    if tools:
        body["tools"] = [WEATHER]
    semantics.check_chat(ChatCompletionRequest.model_validate(body))


def call(call_id: Any, arguments: Any = '{"city": "Paris"}', **extra: Any) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": "get_weather", "arguments": arguments},
        **extra,
    }


# --- roles --------------------------------------------------------------------------------------------------


def test_developer_becomes_system() -> None:
    out, repairs = translate(
        [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    )
    assert out == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert repairs == ("developer-role",)
    accepted(out)


def test_legacy_function_turns_become_a_tool_call_and_its_result() -> None:
    history = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "function_call": {"name": "get_weather", "arguments": "{}"}},
        {"role": "function", "name": "get_weather", "content": "sunny"},
    ]
    out, repairs = translate(history)
    call_id = out[1]["tool_calls"][0]["id"]
    assert MISTRAL_SHAPED.fullmatch(call_id)
    assert out[1] == {
        "role": "assistant",
        "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
        ],
    }
    assert out[2] == {"role": "tool", "content": "sunny", "tool_call_id": call_id, "name": "get_weather"}
    assert "function-role" in repairs and "tool-result-ids" in repairs
    assert translate(history)[0] == out, "the legacy call id must be the same on every replay"
    accepted(out, tools=True)


# --- per-role keys ------------------------------------------------------------------------------------------


def test_name_is_dropped_except_on_tool_messages() -> None:
    history = [
        {"role": "system", "name": "policy", "content": "Be kind."},
        {"role": "user", "name": "User", "content": "Hi", "tool_calls": None},
        {"role": "assistant", "name": "bot", "content": "Hello", "tool_calls": [call("abcDEF123")]},
        {"role": "tool", "name": "get_weather", "tool_call_id": "abcDEF123", "content": "18C"},
        {"role": "tool", "name": "not a valid name!", "tool_call_id": "abcDEF124", "content": "x"},
    ]
    out, repairs = translate(history)
    assert [set(message) for message in out] == [
        {"role", "content"},
        {"role", "content"},
        {"role", "content", "tool_calls"},
        {"role", "content", "tool_call_id", "name"},
        {"role", "content", "tool_call_id"},
    ]
    assert out[3]["name"] == "get_weather"
    assert "message-keys" in repairs


@pytest.mark.parametrize(
    "extra",
    [
        {"refusal": None},
        {"refusal": "I cannot"},
        {"audio": {"id": "audio_1"}},
        {"id": "b4405b59-0000"},
        {"metadata": {"source": "open-webui"}},
        {"reasoning_content": "\n"},
        {"annotations": []},
    ],
)
def test_assistant_bookkeeping_keys_are_left_out(extra: dict[str, Any]) -> None:
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello", **extra}]
    history.append({"role": "user", "content": "Again"})
    out, _ = translate(history)
    assert out[1] == {"role": "assistant", "content": "Hello"}
    accepted(out)


@pytest.mark.parametrize("role", ["system", "user", "tool"])
def test_id_and_metadata_are_left_out_of_every_role(role: str) -> None:
    message = {"role": role, "id": "b4405b59", "metadata": {"a": 1}, "content": "x"}
    if role == "tool":
        message["tool_call_id"] = "abcDEF123"
    out, repairs = translate([message])
    assert "id" not in out[0] and "metadata" not in out[0]
    assert repairs == ("message-keys",)


def test_null_valued_keys_are_not_a_repair() -> None:
    _, repairs = translate([{"role": "user", "content": "Hi", "name": None, "tool_calls": None}])
    assert repairs == ()


# --- tool calls ---------------------------------------------------------------------------------------------


def test_tool_calls_are_rebuilt_with_mistrals_keys_only() -> None:
    history = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "tool_calls": [
                call("abcDEF123", index=0, name=None),
                call("abcDEF124", arguments={"city": "Rome"}, index=1),
                call("abcDEF125", arguments=None, index=None),
                call("abcDEF126", arguments="", index="2"),
            ],
        },
        *({"role": "tool", "tool_call_id": f"abcDEF12{i}", "content": "ok"} for i in (3, 4, 5, 6)),
    ]
    out, _ = translate(history)
    assert out[1]["tool_calls"] == [
        {
            "id": "abcDEF123",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            "index": 0,
        },
        {
            "id": "abcDEF124",
            "type": "function",
            "function": {"name": "get_weather", "arguments": {"city": "Rome"}},
            "index": 1,
        },
        {"id": "abcDEF125", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
        {"id": "abcDEF126", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
    ]
    accepted(out, tools=True)


def test_content_beside_tool_calls_is_kept_unless_empty() -> None:
    kept, _ = translate(
        [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "Let me check", "tool_calls": [call("abcDEF123")]},
        ]
    )
    assert kept[1]["content"] == "Let me check"
    emptied, _ = translate(
        [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "", "tool_calls": [call("abcDEF123")]},
        ]
    )
    assert "content" not in emptied[1]


def tool_history(first: Any, second: Any) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [call(first), call(second)]},
        {"role": "tool", "tool_call_id": first, "content": "18C"},
        {"role": "tool", "tool_call_id": second, "content": "24C"},
    ]


def test_foreign_tool_call_ids_are_mapped_in_calls_and_results_alike() -> None:
    out, repairs = translate(tool_history(OPENAI_ID, "toolu_01VpEm654HvfMoRcrE3Hgdc6"))
    first, second = (c["id"] for c in out[1]["tool_calls"])
    assert MISTRAL_SHAPED.fullmatch(first) and MISTRAL_SHAPED.fullmatch(second)
    assert first != second
    assert (out[2]["tool_call_id"], out[3]["tool_call_id"]) == (first, second)
    assert first == ids.derive_id(OPENAI_ID)
    assert "tool-call-ids" in repairs
    accepted(out, tools=True)


def test_the_id_mapping_is_deterministic_across_requests() -> None:
    short, _ = translate(tool_history(OPENAI_ID, "turn1_0"))
    longer_history = [
        *tool_history(OPENAI_ID, "turn1_0"),
        {"role": "assistant", "content": "Paris 18C, Rome 24C."},
        {"role": "user", "content": "And Oslo?"},
        {"role": "assistant", "tool_calls": [call("call_second_turn")]},
        {"role": "tool", "tool_call_id": "call_second_turn", "content": "3C"},
    ]
    longer, _ = translate(longer_history)
    assert longer[1]["tool_calls"] == short[1]["tool_calls"]
    assert longer[6]["tool_calls"][0]["id"] == longer[7]["tool_call_id"] != short[1]["tool_calls"][0]["id"]
    accepted(longer, tools=True)


def test_mistral_shaped_ids_are_kept() -> None:
    out, repairs = translate(tool_history("D681PevKs", "abcDEF123"))
    assert [c["id"] for c in out[1]["tool_calls"]] == ["D681PevKs", "abcDEF123"]
    assert repairs == ()


def test_a_derived_id_never_collides_with_an_id_already_in_the_conversation() -> None:
    taken = ids.derive_id(OPENAI_ID)  # a Mistral-shaped id that happens to be OPENAI_ID's first candidate
    out, _ = translate(tool_history(OPENAI_ID, taken))
    first, second = (c["id"] for c in out[1]["tool_calls"])
    assert second == taken
    assert first == ids.derive_id(OPENAI_ID, 1) != taken
    assert (out[2]["tool_call_id"], out[3]["tool_call_id"]) == (first, second)
    accepted(out, tools=True)


def test_the_mapping_is_one_to_one_over_many_ids() -> None:
    originals = [f"call_{n}" for n in range(2000)] + [ids.derive_id("call_7")]
    mapping = ids.map_ids(originals)
    assert len(set(mapping.values())) == len(originals)
    assert all(MISTRAL_SHAPED.fullmatch(value) for value in mapping.values())


def test_calls_without_ids_and_results_without_ids_are_paired_in_order() -> None:
    history = tool_history(None, "")
    for message in history[2:]:
        del message["tool_call_id"]
    out, repairs = translate(history)
    first, second = (c["id"] for c in out[1]["tool_calls"])
    assert MISTRAL_SHAPED.fullmatch(first) and MISTRAL_SHAPED.fullmatch(second) and first != second
    assert (out[2]["tool_call_id"], out[3]["tool_call_id"]) == (first, second)
    assert {"tool-call-ids", "tool-result-ids"} <= set(repairs)
    accepted(out, tools=True)


# --- content parts ------------------------------------------------------------------------------------------


def user_parts(*parts: Any) -> list[Any]:
    out, _ = translate([{"role": "user", "content": list(parts)}])
    return out[0]["content"]


def test_text_parts_lose_extra_keys() -> None:
    part = {"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}
    assert user_parts(part) == [{"type": "text", "text": "Hi"}]


@pytest.mark.parametrize(
    ("image", "sent"),
    [
        ("https://example.com/a.png", "https://example.com/a.png"),
        ({"url": "https://example.com/a.png"}, {"url": "https://example.com/a.png"}),
        (
            {"url": "data:image/png;base64,iVBORw0K", "detail": "high"},
            {"url": "data:image/png;base64,iVBORw0K", "detail": "high"},
        ),
        ({"url": "https://example.com/a.png", "detail": None}, {"url": "https://example.com/a.png"}),
    ],
)
def test_image_parts_keep_both_shapes_and_detail(image: Any, sent: Any) -> None:
    out = user_parts({"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": image})
    assert out[1] == {"type": "image_url", "image_url": sent}
    accepted([{"role": "user", "content": out}])


def test_input_audio_data_and_format_become_mistrals_string() -> None:
    audio = base64.b64encode(b"RIFF....WAVEfmt ").decode()
    out, repairs = translate(
        [
            {
                "role": "user",
                "content": [{"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}}],
            }
        ]
    )
    assert out[0]["content"] == [{"type": "input_audio", "input_audio": audio}]
    assert repairs == ("input-audio",)
    accepted(out, model="voxtral-small-latest")


def test_a_file_id_part_becomes_mistrals_file_chunk() -> None:
    file_id = "1f3b8c2e-6a1d-4c2a-9d8b-0c7e2f5a9b10"
    out = user_parts({"type": "file", "file": {"file_id": file_id}})
    assert out == [{"type": "file", "file_id": file_id}]
    accepted([{"role": "user", "content": out}])


@pytest.mark.parametrize(
    ("file", "sent"),
    [
        (
            {"file_data": "JVBERi0xLjQ=", "filename": "report.pdf"},
            {
                "type": "document_url",
                "document_url": "data:application/pdf;base64,JVBERi0xLjQ=",
                "document_name": "report.pdf",
            },
        ),
        (
            {"file_data": "aGVsbG8=", "filename": "notes.txt"},
            {
                "type": "document_url",
                "document_url": "data:text/plain;base64,aGVsbG8=",
                "document_name": "notes.txt",
            },
        ),
        (
            {"file_data": "data:application/pdf;base64,JVBERi0xLjQ="},
            {"type": "document_url", "document_url": "data:application/pdf;base64,JVBERi0xLjQ="},
        ),
        (
            {"file_data": "JVBERi0xLjQ="},
            {"type": "document_url", "document_url": "data:application/pdf;base64,JVBERi0xLjQ="},
        ),
    ],
)
def test_file_data_becomes_a_document_data_uri(file: dict[str, Any], sent: dict[str, Any]) -> None:
    out, repairs = translate([{"role": "user", "content": [{"type": "file", "file": file}]}])
    assert out[0]["content"] == [sent]
    assert repairs == ("file-part",)
    accepted(out)


def test_refusal_parts_become_text() -> None:
    history = [
        {"role": "user", "content": "Do it"},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help with that."}]},
        {"role": "user", "content": "OK"},
    ]
    out, repairs = translate(history)
    assert out[1]["content"] == [{"type": "text", "text": "I can't help with that."}]
    assert "refusal-part-as-text" in repairs
    accepted(out)


@pytest.mark.parametrize(
    "chunk",
    [
        {"type": "document_url", "document_url": "https://example.com/a.pdf", "document_name": "a.pdf"},
        {"type": "reference", "reference_ids": [1, "2"]},
        {"type": "file", "file_id": "1f3b8c2e-6a1d-4c2a-9d8b-0c7e2f5a9b10"},
    ],
)
def test_mistral_native_chunks_pass_unchanged(chunk: dict[str, Any]) -> None:
    assert user_parts(chunk) == [chunk]
    accepted([{"role": "user", "content": [chunk]}])


def test_a_thinking_chunk_in_assistant_history_passes_unchanged() -> None:
    thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}], "closed": True}
    history = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [thinking, {"type": "text", "text": "a"}]},
        {"role": "user", "content": "q2"},
    ]
    out, _ = translate(history)
    assert out[1]["content"][0] == thinking
    accepted(out)


def test_empty_text_parts_are_left_out_of_a_list() -> None:
    assert user_parts({"type": "text", "text": ""}, {"type": "text", "text": "Hi"}) == [
        {"type": "text", "text": "Hi"}
    ]


# --- the conversation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content", ["", None, [], "   ", [{"type": "text", "text": ""}], [{"type": "text", "text": ""}] * 2]
)
def test_empty_assistant_turns_are_dropped(content: Any) -> None:
    history = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": content},
        {"role": "user", "content": "Hello?"},
    ]
    out, repairs = translate(history)
    assert out == [{"role": "user", "content": "Hi"}, {"role": "user", "content": "Hello?"}]
    assert repairs == ("empty-assistant-dropped",)
    accepted(out)


def test_an_assistant_turn_with_tool_calls_is_never_empty() -> None:
    out, repairs = translate(tool_history("abcDEF123", "abcDEF124"))
    assert out[1] == {"role": "assistant", "tool_calls": [call("abcDEF123"), call("abcDEF124")]}
    assert "empty-assistant-dropped" not in repairs


def test_a_system_turn_after_the_assistant_spoke_moves_up() -> None:
    history = [
        {"role": "system", "content": "One."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "system", "content": "Two."},
        {"role": "user", "content": "Bye"},
    ]
    out, repairs = translate(history)
    assert [m["content"] for m in out] == ["One.", "Two.", "Hi", "Hello", "Bye"]
    assert repairs == ("system-moved-first",)
    accepted(out)


def test_a_system_turn_where_mistral_accepts_it_stays() -> None:
    history = [
        {"role": "user", "content": "Hi"},
        {"role": "system", "content": "Now be brief."},
        {"role": "user", "content": "?"},
    ]
    out, repairs = translate(history)
    assert out == history and repairs == ()
    accepted(out)


def test_a_user_turn_after_a_tool_result_gets_a_bridge() -> None:
    history = [*tool_history("abcDEF123", "abcDEF124"), {"role": "user", "content": "Thanks"}]
    out, repairs = translate(history)
    assert out[4] == {"role": "assistant", "content": messages.BRIDGE_TEXT}
    assert out[5] == {"role": "user", "content": "Thanks"}
    assert repairs == ("assistant-after-tool",)
    accepted(out, tools=True)


def test_no_bridge_for_a_family_that_accepts_user_after_tool() -> None:
    history = [*tool_history("abcDEF123", "abcDEF124"), {"role": "user", "content": "Thanks"}]
    out, repairs = translate(history, user_after_tool=True)
    assert [m["role"] for m in out] == ["user", "assistant", "tool", "tool", "user"]
    assert repairs == ()
    accepted(out, model=LENIENT, tools=True)


@pytest.mark.parametrize(("model", "bridged"), [(MODEL, True), (LENIENT, False)])
def test_the_chat_table_asks_the_catalogue_whether_to_bridge(model: str, bridged: bool) -> None:
    history = [*tool_history("abcDEF123", "abcDEF124"), {"role": "user", "content": "Thanks"}]
    body = params.translate_chat_request(
        {"model": model, "messages": history, "tools": [WEATHER]}, Options()
    ).body
    assert (len(body["messages"]) == 6) is bridged
    accepted(body["messages"], model=model, tools=True)


def test_a_trailing_assistant_turn_is_continued_as_a_prefix() -> None:
    history = [
        {"role": "user", "content": "Capital of Argentina?"},
        {"role": "assistant", "content": "Buenos"},
    ]
    out, repairs = translate(history)
    assert out[-1] == {"role": "assistant", "content": "Buenos", "prefix": True}
    assert repairs == ("assistant-prefix",)
    accepted(out)


def test_a_prefix_the_client_set_is_kept() -> None:
    history = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "prefix": True}]
    out, repairs = translate(history)
    assert out[-1] == {"role": "assistant", "content": "a", "prefix": True}
    assert repairs == ()


def test_orphan_results_and_missing_results_are_sent_for_mistral_to_refuse() -> None:
    # OpenAI refuses both too; Mistral's reason reaches the client as an OpenAI 400.
    orphan = [{"role": "user", "content": "q"}, {"role": "tool", "tool_call_id": "abcDEF123", "content": "x"}]
    out, repairs = translate(orphan)
    assert out == orphan and repairs == ()
    with pytest.raises(MistralError, match="Unexpected role 'tool' after role 'user'"):
        accepted(out)
    missing = tool_history("abcDEF123", "abcDEF124")[:3]
    out, repairs = translate(missing)
    assert [len(m.get("tool_calls") or []) for m in out] == [0, 2, 0] and repairs == ()
    with pytest.raises(MistralError, match="Not the same number of function calls and responses"):
        accepted(out, tools=True)


@pytest.mark.parametrize(
    "value",
    ["not a list", None, [{"role": "wizard", "content": "x"}], ["not a message"], [{"content": "no role"}]],
)
def test_what_is_not_an_openai_message_is_passed_on_unchanged(value: Any) -> None:
    out, repairs = translate(value)
    assert out == value and repairs == ()


def test_the_callers_history_is_not_modified() -> None:
    history = tool_history(OPENAI_ID, None)
    history.append({"role": "assistant", "content": "done"})
    snapshot = repr(history)
    translate(history)
    assert repr(history) == snapshot
