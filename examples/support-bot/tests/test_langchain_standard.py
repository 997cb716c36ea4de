"""LangChain's own standard integration tests (package ``langchain-tests``) for ``ChatOpenAI`` and
``OpenAIEmbeddings``, run through the plugin's shim: the OpenAI integration a team already uses, on Mistral,
offline.

The models are built from the environment the ``mistral_shim`` fixture sets (``OPENAI_BASE_URL``,
``OPENAI_API_KEY``). The answers are generated (``mistral_synthetic``: these tests check shapes, not words,
so they need no recordings) except where a test checks content: those requests are answered by
``langchain_fixtures.yaml``, beside this file. The image and PDF tests fetch files from the internet; here
those URLs are served from a local HTTP server instead.
"""

import http.server
import io
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from langchain_tests.integration_tests import ChatModelIntegrationTests, EmbeddingsIntegrationTests
from langchain_tests.integration_tests import chat_models as standard_chat_tests

pytestmark = [pytest.mark.mistral_synthetic, pytest.mark.mistral_fixtures("langchain_fixtures.yaml")]

# The files the standard tests download, and the local copies served in their place.
IMAGE_URL = (
    "https://raw.githubusercontent.com/langchain-ai/docs/4d11d08b6b0e210bd456943f7a22febbd168b543/"
    "src/images/agentic-rag-output.png"
)
PDF_URL = "https://www.w3.org/WAI/ER/tests/xhtml/testfiles/resources/pdf/dummy.pdf"


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def _pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def local_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A loopback HTTP server with a PNG and a PDF, and the URL each downloaded file maps to."""
    root = tmp_path_factory.mktemp("served")
    (root / "image.png").write_bytes(_png())
    (root / "dummy.pdf").write_bytes(_pdf())

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield {IMAGE_URL: f"{base}/image.png", PDF_URL: f"{base}/dummy.pdf"}
    server.shutdown()


@pytest.fixture(autouse=True)
def offline(mistral_shim: str, local_files: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The shim in the environment (the models read it), and the standard tests' downloads served locally."""
    real_get = httpx.get

    def get(url: str, *args: Any, **kwargs: Any) -> httpx.Response:
        if url not in local_files:
            raise AssertionError(f"the standard tests asked for {url}, which is not served locally")
        return real_get(local_files[url], *args, **kwargs)

    monkeypatch.setattr(standard_chat_tests.httpx, "get", get)


class TestChatOpenAIThroughTheShim(ChatModelIntegrationTests):
    """``ChatOpenAI(model="gpt-4o-mini")``, which the shim sends to mistral-small-latest (shim.toml).

    Four standard tests skip, each for a reason of LangChain's own: audio inputs (the model behind the
    alias takes no audio; Mistral's Voxtral models do), PDFs inside tool messages (Mistral's tool
    messages carry text and images only), Anthropic-style inputs (not an OpenAI client's concern), and
    ``test_stream_time``, a benchmark that needs VCR cassettes (this project's recordings replace them).
    """

    @property
    def chat_model_class(self) -> type[ChatOpenAI]:
        return ChatOpenAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # stream_usage: ChatOpenAI asks for usage in streams only from api.openai.com unless told to.
        return {"model": "gpt-4o-mini", "max_retries": 0, "timeout": 60, "stream_usage": True}

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_pdf_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "gpt-4o"


class TestOpenAIEmbeddingsThroughTheShim(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[OpenAIEmbeddings]:
        return OpenAIEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        # check_embedding_ctx_length=False: send the texts, not tiktoken's token ids (Mistral embeds text).
        return {"model": "text-embedding-3-small", "check_embedding_ctx_length": False, "max_retries": 0}
