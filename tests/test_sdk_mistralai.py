"""Mistral's own SDK against ``mistral-mock serve``: the mock is held to the client Mistral ships."""

import base64
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from mistralai.client import Mistral
from mistralai.client import errors as sdk_errors

from tests.conftest import KEY

PROMPT = [{"role": "user", "content": "What's the weather in Paris?"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """``mistral-mock serve`` as a user starts it: a separate process on a loopback port."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        process.kill()
        raise RuntimeError(process.stdout.read().decode() if process.stdout else "mock did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def client(served: str) -> Mistral:
    return Mistral(api_key=KEY, server_url=served)


def test_chat_complete(client: Mistral) -> None:
    response = client.chat.complete(
        model="mistral-small-latest", messages=[{"role": "user", "content": "Hello"}], random_seed=3
    )
    assert response.object == "chat.completion"
    assert response.choices[0].finish_reason == "stop"
    assert isinstance(response.choices[0].message.content, str)
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_chat_complete_with_tools(client: Mistral) -> None:
    response = client.chat.complete(
        model="mistral-small-latest", messages=PROMPT, tools=[WEATHER], tool_choice="any"
    )
    call = response.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert len(call.id) == 9


def test_chat_stream(client: Mistral) -> None:
    events = list(
        client.chat.stream(model="mistral-small-latest", messages=[{"role": "user", "content": "Hello"}])
    )
    text = "".join(
        e.data.choices[0].delta.content or ""
        for e in events
        if isinstance(e.data.choices[0].delta.content, str)
    )
    assert text
    assert events[-1].data.choices[0].finish_reason == "stop"
    assert events[-1].data.usage.completion_tokens == len(events) - 1


def test_chat_stream_tool_call(client: Mistral) -> None:
    events = list(client.chat.stream(model="mistral-small-latest", messages=PROMPT, tools=[WEATHER]))
    calls = events[-1].data.choices[0].delta.tool_calls
    assert calls[0].function.name == "get_weather"


def test_fim_complete(client: Mistral) -> None:
    response = client.fim.complete(model="codestral-latest", prompt="def add(a, b):", suffix="    return c")
    assert response.choices[0].message.content


def test_fim_stream(client: Mistral) -> None:
    events = list(client.fim.stream(model="codestral-latest", prompt="def add(a, b):"))
    assert events[-1].data.choices[0].finish_reason == "stop"


def test_embeddings_create(client: Mistral) -> None:
    response = client.embeddings.create(model="mistral-embed", inputs=["hello", "world"])
    assert [len(d.embedding) for d in response.data] == [1024, 1024]
    again = client.embeddings.create(model="mistral-embed", inputs=["world"])
    assert again.data[0].embedding == response.data[1].embedding


def test_embeddings_output_dimension(client: Mistral) -> None:
    response = client.embeddings.create(model="codestral-embed", inputs="def f(): pass", output_dimension=256)
    assert len(response.data[0].embedding) == 256


def test_ocr_process(client: Mistral) -> None:
    png = _tiny_png()
    response = client.ocr.process(
        model="mistral-ocr-latest",
        document={
            "type": "image_url",
            "image_url": f"data:image/png;base64,{base64.b64encode(png).decode()}",
        },
    )
    assert response.usage_info.pages_processed == len(response.pages) == 1
    assert response.pages[0].dimensions.width == 40


def test_models_list_and_retrieve(client: Mistral) -> None:
    models = client.models.list()
    ids = [m.id for m in models.data]
    assert "mistral-small-latest" in ids and "mistral-embed" in ids
    card = client.models.retrieve(model_id="mistral-small-latest")
    assert card.id == "mistral-small-latest"
    assert card.capabilities.completion_chat


def test_validation_errors_reach_the_sdk(client: Mistral) -> None:
    with pytest.raises(sdk_errors.SDKError) as raised:
        client.chat.complete(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
    assert raised.value.status_code == 400
    assert "Invalid model: no-such-model" in raised.value.body


def test_wrong_key_is_refused(served: str) -> None:
    with pytest.raises(sdk_errors.SDKError) as raised:
        Mistral(api_key="wrong", server_url=served).models.list()
    assert raised.value.status_code == 401


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return buffer.getvalue()
