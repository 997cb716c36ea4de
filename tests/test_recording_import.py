"""``mistral-mock import-vcr`` over every cassette of real Mistral traffic, replayed to real clients.

The cassettes in ``../shared/real-traffic`` are converted at test time (never committed), served by a
replaying mock, and every chat, embeddings, OCR and models interaction is sent again: as raw HTTP (the
answer must be the recorded one), through Mistral's SDK and through the openai client (the parsed answer
must equal the recorded one).
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import openai
import pytest
from mistralai.client import Mistral
from mistralai.client import errors as mistral_errors
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from mockserver.app import create_app
from mockserver.cli import main as mistral_mock
from mockserver.config import MockConfig
from mockserver.recording.cassettes import Interaction, iter_cassette_files, load_cassette
from mockserver.serving import ServerThread
from tests.spec import require_shared

ROUTES = ("/v1/chat/completions", "/v1/embeddings", "/v1/ocr", "/v1/models")
# The openai types expect string content; Mistral's thinking lists (what the shim translates) make pydantic
# warn while the client reads them, which is exactly the mismatch these recordings document.
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Interaction]]:
    """Every cassette converted once, with the interactions to send again in cassette order."""
    files = list(iter_cassette_files(require_shared() / "real-traffic"))
    out = tmp_path_factory.mktemp("imported")
    assert mistral_mock(["import-vcr", *map(str, files), "--out", str(out)]) == 0
    interactions = [
        i
        for f in files
        for i in load_cassette(f)
        if i.request.path.startswith(ROUTES) and i.request.method in ("GET", "POST")
    ]
    return out, interactions


@pytest.fixture
def corpus(imported: tuple[Path, list[Interaction]]) -> Iterator[tuple[str, list[Interaction]]]:
    """A fresh replaying mock per test: repeated requests are answered in recorded order from the start."""
    out, interactions = imported
    with ServerThread(lambda: create_app(MockConfig(mode="replay", recordings=out, speed=0))) as url:
        yield url, interactions


def _raw_body(interaction: Interaction) -> bytes | None:
    request = interaction.request
    if request.method == "GET":
        return None
    return request.raw_body if request.raw_body is not None else json.dumps(request.body).encode()


def test_every_interaction_replays_as_recorded(corpus: tuple[str, list[Interaction]]) -> None:
    url, interactions = corpus
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


def _text_of(message_content: Any) -> Any:
    if isinstance(message_content, list):
        return [
            c.model_dump(by_alias=True, exclude_none=True) if hasattr(c, "model_dump") else c
            for c in message_content
        ]
    return message_content


def test_mistral_sdk_reads_every_replay_as_the_original(corpus: tuple[str, list[Interaction]]) -> None:
    url, interactions = corpus
    client = Mistral(api_key="k", server_url=url)
    inexpressible = []
    for interaction in interactions:
        recorded = interaction.response
        try:
            result = _mistral_call(client, interaction)
        except mistral_errors.SDKError as error:
            if "recording_not_found" in error.body:
                inexpressible.append((interaction.source, "the SDK sent another request"))
                continue
            assert error.status_code == recorded.status >= 400, interaction.source
            continue
        except (TypeError, ValueError) as refused:
            inexpressible.append((interaction.source, type(refused).__name__))  # the SDK will not send it
            continue
        assert recorded.status == 200, interaction.source
        path = interaction.request.path
        if path == "/v1/models":
            assert [m.id for m in result.data] == [m["id"] for m in recorded.body["data"]]
        elif path == "/v1/embeddings":
            assert [d.embedding for d in result.data] == [d["embedding"] for d in recorded.body["data"]]
        elif path == "/v1/ocr":
            assert [p.markdown for p in result.pages] == [p["markdown"] for p in recorded.body["pages"]]
        elif isinstance(result, list):
            assert [e.data.id for e in result] == [e["id"] for e in recorded.events if e != "[DONE]"]
            assert result[-1].data.usage.total_tokens == recorded.events[-2]["usage"]["total_tokens"]
        else:
            assert result.id == recorded.body["id"]
            original = recorded.body["choices"][0]["message"]
            assert _text_of(result.choices[0].message.content) == original.get("content"), interaction.source
            calls = result.choices[0].message.tool_calls or []
            assert [c.function.name for c in calls] == [
                c["function"]["name"] for c in original.get("tool_calls") or []
            ]
    # Only requests Mistral's own SDK refuses or rewrites (malformed on purpose, OpenAI-shaped audio parts).
    assert len(inexpressible) <= 5, inexpressible


def test_openai_client_reads_every_replay_as_the_original(corpus: tuple[str, list[Interaction]]) -> None:
    url, interactions = corpus
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
