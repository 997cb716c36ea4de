"""``mistral-mock import-vcr`` over every cassette of real Mistral traffic, replayed to real clients.

The cassettes in ``../shared/real-traffic`` are converted at test time (never committed), served by a
replaying mock, and every chat, embeddings, OCR and models interaction is sent again: as raw HTTP (the
answer must be the recorded one), through Mistral's SDK and through the openai client (the parsed answer
must equal the recorded one).
"""

import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
import openai
import pytest
from mistralai.client import Mistral
from mistralai.client import errors as mistral_errors
from mistralai.client import models as mistral_models
from mistralai.client.utils.serializers import unmarshal_json
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from mockserver.cli import main as mistral_mock
from mockserver.recording.cassettes import Interaction, iter_cassette_files, load_cassette
from mockserver.recording.importer import import_files
from testkit.paths import require_shared

# The openai types expect string content; Mistral's thinking lists (what the shim translates) make pydantic
# warn while the client reads them, which is exactly the mismatch these recordings document.
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")


def test_the_import_summary_counts_every_cassette_and_every_file_written(
    converted: tuple[Path, list[Path], str],
) -> None:
    out, files, summary = converted
    names = [f.name for f in files]
    assert len(set(names)) < len(names), "the corpus has cassettes of the same name in different folders"
    written = len(list(out.rglob("*.json")))
    total = sum(len(load_cassette(f)) for f in files)
    assert written == total
    assert summary.splitlines()[-1] == f"{total} interactions imported from {len(files)} cassettes, 0 failed"
    # One line per cassette, named by its path, so cassettes of the same name stay apart.
    for cassette in files:
        assert f"  {cassette}" in summary


CASSETTE = """interactions:
- request:
    body: '{"model":"mistral-small-latest","messages":[{"role":"user","content":"QUESTION"}]}'
    headers:
      Content-Type: [application/json]
    method: POST
    uri: https://api.mistral.ai/v1/chat/completions
  response:
    body: {string: '{"id":"a","object":"chat.completion","choices":[]}'}
    headers:
      Content-Type: [application/json]
    status: {code: 200, message: OK}
version: 1
"""


def test_cassettes_of_the_same_name_are_reported_apart(tmp_path: Path) -> None:
    first, second = tmp_path / "suite-a" / "test_chat.yaml", tmp_path / "suite-b" / "test_chat.yaml"
    for index, cassette in enumerate((first, second)):
        cassette.parent.mkdir()
        cassette.write_text(CASSETTE.replace("QUESTION", f"Question {index}"))
    report = import_files([first, second], tmp_path / "out")
    assert report.imported == {str(first): 1, str(second): 1}
    assert report.summary().splitlines()[-1] == "2 interactions imported from 2 cassettes, 0 failed"
    assert len(list((tmp_path / "out").rglob("*.json"))) == 2


def _raw_body(interaction: Interaction) -> bytes | None:
    request = interaction.request
    if request.method == "GET":
        return None
    return request.raw_body if request.raw_body is not None else json.dumps(request.body).encode()


def test_every_interaction_replays_as_recorded(replaying_mock: tuple[str, list[Interaction]]) -> None:
    url, interactions = replaying_mock
    assert len(interactions) >= 250
    with httpx.Client(
        base_url=url, headers={"Authorization": "Bearer k", "Content-Type": "application/json"}
    ) as client:
        for interaction in interactions:
            recorded = interaction.response
            response = client.request(
                interaction.request.method, interaction.request.path, content=_raw_body(interaction)
            )
            assert response.status_code == recorded.status, interaction.source
            if recorded.events is not None:
                replayed = [line[6:] for line in response.text.split("\n\n") if line.startswith("data: ")]
                expected = [
                    e if isinstance(e, str) else json.dumps(e, ensure_ascii=False, separators=(",", ":"))
                    for e in recorded.events
                ]
                assert [r if r == "[DONE]" else json.loads(r) for r in replayed] == [
                    e if e == "[DONE]" else json.loads(e) for e in expected
                ], interaction.source
            elif recorded.body is not None:
                assert response.json() == recorded.body, interaction.source
                if interaction.request.raw_body is not None:
                    assert response.content == recorded.raw_body, f"not byte-exact: {interaction.source}"


def _mistral_call(client: Mistral, interaction: Interaction) -> Any:
    request = interaction.request
    body = dict(request.body or {})
    if request.path == "/v1/models":
        return client.models.list()
    if request.path == "/v1/embeddings":
        body["inputs"] = body.pop("input")
        return client.embeddings.create(**body)
    if request.path == "/v1/ocr":
        return client.ocr.process(**body)
    if body.pop("stream", False):
        return list(client.chat.stream(**body))
    return client.chat.complete(**body)


# What the SDK parses each route's answer into (as ``unmarshal_json_response`` does).
SDK_TYPES = {
    "/v1/chat/completions": mistral_models.ChatCompletionResponse,
    "/v1/embeddings": mistral_models.EmbeddingResponse,
    "/v1/ocr": mistral_models.OCRResponse,
    "/v1/models": mistral_models.ModelList,
}


def _sdk_original(interaction: Interaction) -> Any:
    """The original answer as the SDK reads it: the recorded bytes through the SDK's own unmarshalling."""
    recorded = interaction.response
    if recorded.events is not None:
        return [
            unmarshal_json(json.dumps({"data": event}), mistral_models.CompletionEvent).model_dump()
            for event in recorded.events
            if event != "[DONE]"
        ]
    return unmarshal_json(recorded.raw_body.decode(), SDK_TYPES[interaction.request.path]).model_dump()


def test_mistral_sdk_reads_every_replay_as_the_original(
    replaying_mock: tuple[str, list[Interaction]],
) -> None:
    url, interactions = replaying_mock
    client = Mistral(api_key="k", server_url=url)
    inexpressible = []
    compared = {"answers": 0, "streams": 0, "errors": 0}
    for interaction in interactions:
        recorded = interaction.response
        try:
            result = _mistral_call(client, interaction)
        except mistral_errors.MistralError as error:
            if error.raw_response.headers.get("x-mock-source") != "replay":  # a miss, or Mistral's refusal
                inexpressible.append((interaction.source, "the SDK sent another request"))
                continue
            # An error answer reaches the SDK whole: the same status and the very same body.
            assert error.status_code == recorded.status >= 400, interaction.source
            assert error.body == recorded.raw_body.decode(), interaction.source
            compared["errors"] += 1
            continue
        except (TypeError, ValueError) as refused:
            inexpressible.append((interaction.source, type(refused).__name__))  # the SDK will not send it
            continue
        assert recorded.status == 200, interaction.source
        # Whole models: content, tool calls and their arguments, finish_reason, usage, every chunk, every
        # OCR page and every model card, as the SDK reads the original.
        if isinstance(result, list):
            assert [event.model_dump() for event in result] == _sdk_original(interaction), interaction.source
            compared["streams"] += 1
        else:
            assert result.model_dump() == _sdk_original(interaction), interaction.source
            compared["answers"] += 1
    # Only requests Mistral's own SDK refuses or rewrites (malformed on purpose, OpenAI-shaped audio parts).
    assert len(inexpressible) <= 5, inexpressible
    assert compared["answers"] >= 200 and compared["streams"] >= 50 and compared["errors"] >= 10, compared


def test_openai_client_reads_every_replay_as_the_original(
    replaying_mock: tuple[str, list[Interaction]],
) -> None:
    url, interactions = replaying_mock
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0)
    for interaction in interactions:
        request, recorded = interaction.request, interaction.response
        path = request.path.removeprefix("/v1")
        try:
            if request.method == "GET":
                result: Any = client.get(path, cast_to=object)
            elif recorded.events is not None:
                stream = client.post(
                    path,
                    body=request.body,
                    cast_to=ChatCompletionChunk,
                    stream=True,
                    stream_cls=openai.Stream[ChatCompletionChunk],
                )
                result = list(stream)
            else:
                cast = {"/chat/completions": ChatCompletion, "/embeddings": CreateEmbeddingResponse}.get(
                    path, object
                )
                result = client.post(path, body=request.body, cast_to=cast)
        except openai.APIStatusError as error:
            assert error.status_code == recorded.status >= 400, interaction.source
            assert error.response.text == recorded.raw_body.decode(), interaction.source
            continue
        assert recorded.status == 200, interaction.source
        if isinstance(result, list):
            streamed = [chunk.to_dict() for chunk in result]
            assert streamed == [e for e in recorded.events if e != "[DONE]"], interaction.source
        elif hasattr(result, "to_dict"):
            assert result.to_dict() == recorded.body, interaction.source
        else:
            assert result == recorded.body, interaction.source


def test_import_reports_and_writes_one_file_per_interaction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cassette = next(
        p
        for p in iter_cassette_files(require_shared() / "real-traffic")
        if "test_mistral_model_list" in p.name
    )
    assert mistral_mock(["import-vcr", str(cassette), "--out", str(tmp_path)]) == 0
    assert "1 interactions imported from 1 cassettes, 0 failed" in capsys.readouterr().out
    (saved,) = tmp_path.rglob("*.json")
    data = json.loads(saved.read_text())
    assert data["request"]["path"] == "/v1/models" and data["response"]["status"] == 200
    assert data["meta"]["imported_from"] == cassette.name
    assert "authorization" not in json.dumps(data).lower()
