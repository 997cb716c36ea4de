"""Mistral's own SDK (``mistralai``) straight at the mock, and at api.mistral.ai with a key.

The mock is the oracle every shim test stands on, so it is held to the client Mistral ships too: chat,
streams, tool calls, FIM, embeddings, OCR, models, files, batch jobs, moderation, classification,
transcription and errors, parsed by the SDK's own models (which refuse a
missing required field), with every answer also checked against Mistral's spec by the suite's oracle. The
same tests run against ``live-direct`` when ``MISTRAL_API_KEY`` is set, so a difference between the mock and
the real API shows up as a failing cell there.

The last tests start the mock the way a user does, ``python -m mockserver serve`` in its own process, and
point the SDK at it: the package's entry point, flags and shutdown, not only the in-process app.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import httpx2 as httpx
import pytest
from mistralai.client import Mistral
from mistralai.client import errors as mistral_errors
from mistralai.client.utils import BackoffStrategy, RetryConfig

from contract_tests.conftest import TIMEOUT
from contract_tests.oracle import Oracle
from contract_tests.targets import Target
from testkit.audio import tone_wav
from testkit.scenarios import WEATHER

pytestmark = pytest.mark.targets("mock", "live-direct")

CHAT = "mistral-small-latest"
FIM = "codestral-latest"
HELLO = [{"role": "user", "content": "Say hello."}]
ASK = [{"role": "user", "content": "What's the weather in Paris?"}]
MISTRAL_ID = re.compile(r"^[0-9a-f]{32}$")
TOOL_CALL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")


def _stream_text(events: list[Any]) -> str:
    return "".join(
        event.data.choices[0].delta.content
        for event in events
        if event.data.choices and isinstance(event.data.choices[0].delta.content, str)
    )


def _assert_usage(usage: Any) -> None:
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


# --- chat -----------------------------------------------------------------------------------------------


@pytest.mark.feature("Mistral SDK", "chat.complete")
def test_chat_complete(sdk: Mistral) -> None:
    response = sdk.chat.complete(model=CHAT, messages=HELLO, max_tokens=40)  # type: ignore[arg-type]
    assert MISTRAL_ID.match(response.id)
    assert response.object == "chat.completion"
    choice = response.choices[0]
    assert choice.finish_reason in ("stop", "length")
    assert isinstance(choice.message.content, str) and choice.message.content
    _assert_usage(response.usage)


@pytest.mark.feature("Mistral SDK", "chat.complete")
async def test_chat_complete_async(async_sdk: Mistral) -> None:
    response = await async_sdk.chat.complete_async(model=CHAT, messages=HELLO, max_tokens=40, random_seed=7)  # type: ignore[arg-type]
    assert response.choices[0].message.content
    _assert_usage(response.usage)


@pytest.mark.feature("Mistral SDK", "chat.stream")
def test_chat_stream(sdk: Mistral) -> None:
    events = list(sdk.chat.stream(model=CHAT, messages=HELLO, max_tokens=40))  # type: ignore[arg-type]
    assert _stream_text(events)
    assert len({event.data.id for event in events}) == 1
    last = events[-1].data
    assert last.choices[0].finish_reason in ("stop", "length")
    assert all(event.data.usage is None for event in events[:-1]), "usage comes on the last chunk only"
    _assert_usage(last.usage)


def _assert_token_logprobs(entries: Any, text: str, alternatives: int) -> None:
    """Mistral's entries: every token of the text with its id and bytes, logprob at most 0, and the
    alternatives asked for, most likely first."""
    assert entries, "no logprobs came back"
    assert "".join(entry.token for entry in entries) == text
    for entry in entries:
        assert entry.logprob <= 0 and isinstance(entry.token_id, int)
        assert bytes(entry.bytes_).decode() == entry.token
        assert len(entry.top_logprobs) == alternatives
        scores = [alternative.logprob for alternative in entry.top_logprobs]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.feature("Mistral SDK", "logprobs")
def test_chat_logprobs(sdk: Mistral) -> None:
    response = sdk.chat.complete(model=CHAT, messages=HELLO, logprobs=True, top_logprobs=3)  # type: ignore[arg-type]
    choice = response.choices[0]
    assert choice.logprobs is not None
    _assert_token_logprobs(choice.logprobs.content, choice.message.content, 3)


@pytest.mark.feature("Mistral SDK", "logprobs")
def test_chat_logprobs_stream(sdk: Mistral) -> None:
    events = list(sdk.chat.stream(model=CHAT, messages=HELLO, logprobs=True, top_logprobs=2))  # type: ignore[arg-type]
    entries = [
        entry
        for event in events
        for choice in event.data.choices
        for entry in getattr(choice.logprobs, "content", None) or []  # unset on chunks with no text
    ]
    _assert_token_logprobs(entries, _stream_text(events), 2)


@pytest.mark.feature("Mistral SDK", "logprobs")
def test_chat_prompt_logprobs(sdk: Mistral) -> None:
    response = sdk.chat.complete(  # type: ignore[call-arg]
        model=CHAT, messages=HELLO, prompt_logprobs=True, top_prompt_logprobs=1, max_tokens=5
    )
    prompt = response.choices[0].prompt_logprobs
    assert prompt is not None and prompt.content
    assert all(entry.logprob <= 0 and len(entry.top_logprobs) == 1 for entry in prompt.content)


@pytest.mark.feature("Mistral SDK", "tool calls and a round trip")
def test_tool_call_round_trip(sdk: Mistral) -> None:
    """A forced tool call with Mistral's 9-character id, answered with that id, then the final text."""
    first = sdk.chat.complete(model=CHAT, messages=ASK, tools=[WEATHER], tool_choice="any")  # type: ignore[arg-type]
    assert first.choices[0].finish_reason == "tool_calls"
    message = first.choices[0].message
    (call,) = message.tool_calls or []
    assert call.function.name == "get_weather"
    assert TOOL_CALL_ID.match(call.id or "")
    arguments = call.function.arguments
    assert isinstance(json.loads(arguments) if isinstance(arguments, str) else arguments, dict)
    history: list[Any] = [
        *ASK,
        {"role": "assistant", "content": message.content or "", "tool_calls": [call.model_dump()]},
        {"role": "tool", "name": "get_weather", "content": '{"temperature_c": 18}', "tool_call_id": call.id},
    ]
    second = sdk.chat.complete(model=CHAT, messages=history, tools=[WEATHER])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content


@pytest.mark.feature("Mistral SDK", "tool calls and a round trip")
def test_tool_call_in_a_stream(sdk: Mistral) -> None:
    """Mistral sends a streamed tool call whole, in one delta (MISTRAL-CONTRACT §3)."""
    events = list(sdk.chat.stream(model=CHAT, messages=ASK, tools=[WEATHER], tool_choice="any"))  # type: ignore[arg-type]
    calls = [call for event in events for call in event.data.choices[0].delta.tool_calls or []]
    assert [call.function.name for call in calls] == ["get_weather"]
    assert isinstance(json.loads(calls[0].function.arguments), dict)  # type: ignore[arg-type]
    assert events[-1].data.choices[0].finish_reason == "tool_calls"


# --- FIM, embeddings, OCR, models -----------------------------------------------------------------------


@pytest.mark.feature("Mistral SDK", "fim.complete and fim.stream")
def test_fim_complete(sdk: Mistral) -> None:
    response = sdk.fim.complete(
        model=FIM, prompt="def add(a, b):\n    ", suffix="\n\nprint(add(1, 2))", max_tokens=32
    )
    assert response.choices[0].finish_reason in ("stop", "length")
    assert isinstance(response.choices[0].message.content, str) and response.choices[0].message.content
    _assert_usage(response.usage)


@pytest.mark.feature("Mistral SDK", "fim.complete and fim.stream")
async def test_fim_stream_async(async_sdk: Mistral) -> None:
    stream = await async_sdk.fim.stream_async(model=FIM, prompt="def add(a, b):\n    ", max_tokens=32)
    events = [event async for event in stream]
    assert _stream_text(events)
    assert events[-1].data.choices[0].finish_reason in ("stop", "length")
    _assert_usage(events[-1].data.usage)


@pytest.mark.feature("Mistral SDK", "embeddings.create")
def test_embeddings(sdk: Mistral) -> None:
    response = sdk.embeddings.create(model="mistral-embed", inputs=["hello", "world"])
    assert [item.index for item in response.data] == [0, 1]
    assert [len(item.embedding or []) for item in response.data] == [1024, 1024]
    again = sdk.embeddings.create(model="mistral-embed", inputs=["world"])
    assert again.data[0].embedding == pytest.approx(response.data[1].embedding, abs=1e-4)
    assert response.usage.prompt_tokens > 0


@pytest.mark.feature("Mistral SDK", "embeddings.create")
async def test_embeddings_output_dimension_async(async_sdk: Mistral) -> None:
    response = await async_sdk.embeddings.create_async(
        model="codestral-embed", inputs="def f(): pass", output_dimension=256
    )
    assert len(response.data[0].embedding or []) == 256


@pytest.mark.feature("Mistral SDK", "ocr.process")
def test_ocr_of_an_image(sdk: Mistral) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    response = sdk.ocr.process(model="mistral-ocr-latest", document={"type": "image_url", "image_url": url})
    assert response.usage_info.pages_processed == len(response.pages) == 1
    dimensions = response.pages[0].dimensions
    assert dimensions is not None and (dimensions.width, dimensions.height) == (400, 300)


@pytest.mark.feature("Mistral SDK", "models.list and models.retrieve")
def test_models(sdk: Mistral) -> None:
    listed = sdk.models.list()
    ids = {model.id for model in listed.data or []}
    assert {CHAT, FIM, "mistral-embed", "mistral-ocr-latest"} <= ids
    card = sdk.models.retrieve(model_id=CHAT)
    assert card.id == CHAT
    assert card.capabilities.completion_chat is True


# --- files, batch jobs, moderation, classification, transcription (issue 16) -----------------------------

BATCH_LINES = b"".join(
    json.dumps(
        {"custom_id": f"q{n}", "body": {"messages": [{"role": "user", "content": f"What is {n} + {n}?"}]}}
    ).encode()
    + b"\n"
    for n in range(3)
)
TERMINAL = {"SUCCESS", "FAILED", "TIMEOUT_EXCEEDED", "CANCELLED"}


@pytest.mark.feature("Mistral SDK", "files (upload to delete)")
def test_files_round_trip(sdk: Mistral) -> None:
    uploaded = sdk.files.upload(file={"file_name": "contract.jsonl", "content": BATCH_LINES}, purpose="batch")
    assert uploaded.size_bytes == len(BATCH_LINES) and uploaded.purpose == "batch"
    assert uploaded.sample_type == "batch_request" and uploaded.num_lines == 3
    listed = sdk.files.list(purpose="batch", page_size=100)
    assert uploaded.id in {item.id for item in listed.data}
    retrieved = sdk.files.retrieve(file_id=uploaded.id)
    assert (retrieved.id, retrieved.deleted, retrieved.filename) == (uploaded.id, False, "contract.jsonl")
    assert sdk.files.download(file_id=uploaded.id).read() == BATCH_LINES
    assert sdk.files.get_signed_url(file_id=uploaded.id, expiry=1).url
    deleted = sdk.files.delete(file_id=uploaded.id)
    assert deleted.deleted is True and deleted.id == uploaded.id


@pytest.mark.feature("Mistral SDK", "batch jobs, polled to SUCCESS")
def test_batch_job_lifecycle(sdk: Mistral) -> None:
    uploaded = sdk.files.upload(file={"file_name": "batch.jsonl", "content": BATCH_LINES}, purpose="batch")
    job = sdk.batch.jobs.create(input_files=[uploaded.id], model=CHAT, endpoint="/v1/chat/completions")
    assert job.status == "QUEUED" and job.input_files == [uploaded.id]
    seen = [job.status]
    deadline = time.monotonic() + 900  # a live job takes minutes; the mock's, a fraction of a second
    while job.status not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.05 if job.total_requests < 100 else 5)
        job = sdk.batch.jobs.get(job_id=job.id)
        seen.append(job.status)
    assert job.status == "SUCCESS", seen
    assert (job.total_requests, job.succeeded_requests, job.failed_requests) == (3, 3, 0)
    assert job.output_file is not None
    lines = [json.loads(line) for line in sdk.files.download(file_id=job.output_file).read().splitlines()]
    assert sorted(line["custom_id"] for line in lines) == ["q0", "q1", "q2"]
    for line in lines:
        assert line["response"]["status_code"] == 200
        assert line["response"]["body"]["choices"][0]["message"]["content"]
    assert job.id in {listed.id for listed in sdk.batch.jobs.list(status=["SUCCESS"]).data or []}


@pytest.mark.feature("Mistral SDK", "classifiers.moderate(_chat)")
def test_moderation(sdk: Mistral) -> None:
    moderated = sdk.classifiers.moderate(
        model="mistral-moderation-latest", inputs=["Hello!", "Have a nice day."]
    )
    assert len(moderated.results) == 2
    for result in moderated.results:
        assert result.categories is not None and result.category_scores is not None
        assert {"sexual", "hate_and_discrimination", "violence_and_threats", "selfharm", "pii"} <= set(
            result.categories
        )
        assert all(0 <= score <= 1 for score in result.category_scores.values())
    chat = sdk.classifiers.moderate_chat(model="mistral-moderation-latest", inputs=HELLO)  # type: ignore[arg-type]
    assert len(chat.results) == 1


@pytest.mark.feature("Mistral SDK", "classifiers.classify")
def test_classification(sdk: Mistral) -> None:
    classified = sdk.classifiers.classify(model="mistral-moderation-latest", inputs=["Hello!"])
    (result,) = classified.results
    assert result and all(target.scores for target in result.values())


@pytest.mark.feature("Mistral SDK", "audio.transcriptions")
def test_transcription_of_a_wav_file(sdk: Mistral) -> None:
    audio = tone_wav(3.0)
    answer = sdk.audio.transcriptions.complete(
        model="voxtral-mini-latest",
        file={"file_name": "tone.wav", "content": audio},
        timestamp_granularities=["segment"],
    )
    assert isinstance(answer.text, str)
    assert all(segment.end is None or segment.end <= 3.5 for segment in answer.segments or [])
    assert answer.usage.prompt_audio_seconds in (2, 3, 4)
    events = list(
        sdk.audio.transcriptions.stream(
            model="voxtral-mini-latest", file={"file_name": "tone.wav", "content": audio}
        )
    )
    assert events and events[-1].event == "transcription.done"


# --- errors and retries ---------------------------------------------------------------------------------


@pytest.mark.feature("Mistral SDK", "errors as the SDK's classes")
def test_an_unknown_model_is_an_sdk_error(sdk: Mistral) -> None:
    with pytest.raises(mistral_errors.SDKError) as raised:
        sdk.chat.complete(model="no-such-model", messages=HELLO)  # type: ignore[arg-type]
    assert raised.value.status_code == 400
    body = json.loads(raised.value.body)
    assert body["message"] == "Invalid model: no-such-model"
    assert (body["type"], body["code"]) == ("invalid_model", "1500")


@pytest.mark.feature("Mistral SDK", "errors as the SDK's classes")
def test_a_schema_violation_is_an_http_validation_error(sdk: Mistral) -> None:
    """Mistral's 422 is the one error the SDK parses into a model: its pydantic details."""
    with pytest.raises(mistral_errors.HTTPValidationError) as raised:
        sdk.chat.complete(model=CHAT, messages=HELLO, max_tokens=-1)  # type: ignore[arg-type]
    assert raised.value.status_code == 422
    body = json.loads(raised.value.body)
    details = body["message"]["detail"] if "message" in body else body["detail"]
    assert [detail["loc"] for detail in details] == [["body", "max_tokens"]]


@pytest.mark.feature("Mistral SDK", "errors as the SDK's classes")
def test_a_wrong_key_is_a_401(target: Target, oracle: Oracle) -> None:
    http = httpx.Client(transport=oracle.transport(), timeout=TIMEOUT)
    with (
        Mistral(api_key="wrong-key", server_url=target.mistral_url, client=http) as sdk,
        pytest.raises(mistral_errors.SDKError) as raised,
    ):
        sdk.models.list()
    assert raised.value.status_code == 401
    assert "Unauthorized" in raised.value.body


@pytest.mark.feature("Mistral SDK", "retries honour Retry-After")
def test_the_sdks_retries_honour_retry_after(
    target: Target, oracle: Oracle, fault: Callable[[str], dict[str, str]]
) -> None:
    """With a RetryConfig the SDK retries a 429; its own back-off here is 50 ms, so gaps of a second or
    more are the mock's ``Retry-After: 1`` honoured. It gives up after 1.5 s and raises the 429."""
    sent: list[float] = []
    http = httpx.Client(
        transport=oracle.transport(),
        timeout=TIMEOUT,
        event_hooks={"request": [lambda request: sent.append(time.monotonic())]},
    )
    backoff = BackoffStrategy(
        initial_interval=50, max_interval=50, exponent=1.0, max_elapsed_time=1500, jitter_ms=0
    )
    retry = RetryConfig("backoff", backoff, retry_connection_errors=False)
    with (
        Mistral(
            api_key=target.api_key, server_url=target.mistral_url, client=http, retry_config=retry
        ) as sdk,
        pytest.raises(mistral_errors.SDKError) as raised,
    ):
        sdk.models.list(http_headers=fault("status=429;retry_after=1"))
    assert raised.value.status_code == 429
    assert len(sent) >= 2
    gaps = [later - earlier for earlier, later in pairwise(sent)]
    assert all(gap >= 0.95 for gap in gaps), gaps


# --- `mistral-mock serve`, as a user starts it ----------------------------------------------------------


@pytest.mark.feature("Mistral SDK", "mistral-mock serve (its own process)")
@pytest.mark.column("mistral-mock serve")
def test_served_mock_answers_chat_streams_and_models(served_sdk: Mistral) -> None:
    response = served_sdk.chat.complete(model=CHAT, messages=HELLO, random_seed=3)  # type: ignore[arg-type]
    assert response.choices[0].message.content
    events = list(served_sdk.chat.stream(model=CHAT, messages=HELLO))  # type: ignore[arg-type]
    assert _stream_text(events) and events[-1].data.choices[0].finish_reason == "stop"
    assert CHAT in {model.id for model in served_sdk.models.list().data or []}


@pytest.mark.feature("Mistral SDK", "mistral-mock serve (its own process)")
@pytest.mark.column("mistral-mock serve")
def test_served_mock_checks_the_key_given_on_its_command_line(served: str) -> None:
    with (
        Mistral(api_key="wrong-key", server_url=served) as sdk,
        pytest.raises(mistral_errors.SDKError) as raised,
    ):
        sdk.models.list()
    assert raised.value.status_code == 401
