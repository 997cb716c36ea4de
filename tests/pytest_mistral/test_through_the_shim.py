"""OpenAI-SDK code tested through the plugin's shim, as a migrating team writes it.

``openai_client`` goes app -> shim -> mock, so OpenAI-only habits (a ``developer`` turn, ``seed``,
``max_completion_tokens``, ``user``, a ``gpt-4o-mini`` alias from the project's shim config) work as in
production; what is recorded is the Mistral side, and a replay goes through the shim again. One mock and
one shim serve the whole session.
"""

import json

import pytest

OPENAI_STYLE = """
import pytest
from openai import OpenAI

MESSAGES = [
    {"role": "developer", "content": "You answer in one sentence."},
    {"role": "user", "content": "What is the capital of France?"},
]


def test_sync(openai_client):
    reply = openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, seed=-7, max_completion_tokens=50, user="u-42"
    )
    assert reply.model == "gpt-4o-mini"
    assert reply.choices[0].message.content


async def test_async(async_openai_client):
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].usage.total_tokens > 0


def test_own_client(mistral_shim):
    client = OpenAI(max_retries=0)  # OPENAI_BASE_URL and OPENAI_API_KEY come from the fixture
    assert str(client.base_url).rstrip("/") == mistral_shim
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert len(vectors.data) == 2 and vectors.model == "text-embedding-3-small"


def test_urls(mistral_shim, mistral_mock, request):
    with open(request.config.rootpath / "urls.txt", "a") as out:
        out.write(f"{mistral_shim} {mistral_mock}\\n")


def test_urls_again(mistral_shim, mistral_mock, request):
    test_urls(mistral_shim, mistral_mock, request)
"""

SHIM_TOML = """
unsupported = "drop"

[aliases]
"gpt-4o-mini" = "mistral-small-latest"
"""


def ini(pytester: pytest.Pytester, *lines: str) -> None:
    pytester.makeini(
        "\n".join(
            ["[pytest]", "asyncio_mode = auto", "asyncio_default_fixture_loop_scope = function", *lines]
        )
    )


def test_openai_style_code_records_and_replays_through_the_shim(
    pytester: pytest.Pytester, mock_upstream: str
) -> None:
    pytester.makefile(".toml", shim=SHIM_TOML)
    ini(
        pytester,
        "mistral_shim_config = shim.toml",
        "mistral_shim_aliases = text-embedding-3-small = mistral-embed",
    )
    pytester.makepyfile(test_app=OPENAI_STYLE)
    recorded = pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}")
    recorded.assert_outcomes(passed=5)
    # What was recorded is what Mistral was sent: the shim's translation, not the OpenAI request.
    (chat,) = (pytester.path / "recordings" / "test_app" / "test_sync").rglob("*.json")
    sent = json.loads(chat.read_text())["request"]["body"]
    assert sent["model"] == "mistral-small-latest"
    assert sent["messages"][0]["role"] == "system"
    assert sent["random_seed"] == 2**32 - 7 and sent["max_tokens"] == 50 and "user" not in sent
    replayed = pytester.runpytest("--mistral-upstream=http://127.0.0.1:9")
    replayed.assert_outcomes(passed=5)


def test_one_mock_and_one_shim_serve_the_session(pytester: pytest.Pytester, mock_upstream: str) -> None:
    ini(pytester)
    pytester.makepyfile(test_app=OPENAI_STYLE)
    pytester.runpytest("-k", "urls", f"--mistral-upstream={mock_upstream}").assert_outcomes(passed=2)
    lines = (pytester.path / "urls.txt").read_text().splitlines()
    assert len(lines) == 2 and lines[0] == lines[1], "the servers were restarted between tests"


def test_openai_client_straight_to_the_mock_is_mistral_openai_client(
    pytester: pytest.Pytester, mock_upstream: str
) -> None:
    """Without the shim, OpenAI's habits meet Mistral's refusals: what mistral_openai_client shows."""
    ini(pytester)
    pytester.makepyfile(
        test_app="""
import openai
import pytest


@pytest.mark.mistral_synthetic
def test_direct(mistral_openai_client):
    with pytest.raises(openai.UnprocessableEntityError):
        mistral_openai_client.chat.completions.create(
            model="mistral-small-latest", messages=[{"role": "user", "content": "hi"}], seed=1
        )
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_old_meaning_of_openai_client_is_deprecated_but_kept(pytester: pytest.Pytester) -> None:
    ini(pytester, "mistral_openai_client = mock")
    pytester.makepyfile(
        test_app="""
import pytest


@pytest.mark.mistral_synthetic
def test_old(openai_client):
    raw = openai_client.chat.completions.with_raw_response.create(
        model="mistral-small-latest", messages=[{"role": "user", "content": "hi"}]
    )
    assert "x-mock-source" in raw.headers and "x-request-id" not in raw.headers  # the mock, no shim
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*PytestDeprecationWarning: mistral_openai_client = mock*"])


def test_a_bad_shim_config_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", shim="timeout = -1\n")
    ini(pytester, "mistral_shim_config = shim.toml")
    pytester.makepyfile(test_app="def test_x(openai_client):\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, "the mistake was found only when a test ran"
    result.stderr.fnmatch_lines(["*mistral-compat: timeout must be a positive number, not -1*"])


def test_recording_from_a_mistral_base_url_ending_in_v1(
    pytester: pytest.Pytester, mock_upstream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini(pytester)
    monkeypatch.setenv("MISTRAL_BASE_URL", f"{mock_upstream}/v1")
    pytester.makepyfile(test_app=OPENAI_STYLE.replace("gpt-4o-mini", "mistral-small-latest"))
    pytester.runpytest("-k", "test_sync", "--mistral-record-mode=once").assert_outcomes(
        passed=1, deselected=4
    )
    assert list((pytester.path / "recordings").rglob("*.json"))
