"""The pytest plugin as a user meets it: record once, replay offline, fail on a miss, report leftovers.

``openai_client`` goes through the session's shim, ``mistral_client`` and ``mistral_mock`` straight to the
mock; either way the recordings are the Mistral side of the traffic.
"""

from pathlib import Path

import pytest

from testkit.paths import ROOT

USER_TESTS = """
import pytest


def test_chat(openai_client):
    reply = openai_client.chat.completions.create(
        model="mistral-small-latest", messages=[{"role": "user", "content": "Hello there"}]
    )
    assert reply.choices[0].message.content


def test_stream_and_embeddings(mistral_client):
    hi = [{"role": "user", "content": "Hi"}]
    events = list(mistral_client.chat.stream(model="mistral-small-latest", messages=hi))
    assert events[-1].data.choices[0].finish_reason == "stop"
    vectors = mistral_client.embeddings.create(model="mistral-embed", inputs=["a", "b"])
    assert len(vectors.data) == 2


@pytest.mark.mistral_recording("shared-name")
def test_named(mistral_mock):
    import httpx2
    answer = httpx2.get(f"{mistral_mock}/v1/models", headers={"Authorization": "Bearer k"})
    assert answer.status_code == 200
"""


def recordings(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.json"))


def test_record_once_then_replay_offline(pytester: pytest.Pytester, mock_upstream: str) -> None:
    pytester.makepyfile(test_app=USER_TESTS)
    first = pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}")
    first.assert_outcomes(passed=3)
    saved = recordings(pytester.path / "recordings")
    assert [name.split("/")[:2] for name in saved] == [
        ["test_app", "shared-name"],
        ["test_app", "test_chat"],
        ["test_app", "test_stream_and_embeddings"],
        ["test_app", "test_stream_and_embeddings"],
    ]
    # The upstream is unreachable from now on: replay must not need it.
    replay = pytester.runpytest("--mistral-upstream=http://127.0.0.1:9")
    replay.assert_outcomes(passed=3)
    assert recordings(pytester.path / "recordings") == saved


def test_a_miss_fails_loudly_in_the_default_mode(pytester: pytest.Pytester, mock_upstream: str) -> None:
    pytester.makepyfile(test_app=USER_TESTS)
    pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}").assert_outcomes(
        passed=3
    )
    changed = USER_TESTS.replace("Hello there", "Hello again")
    pytester.makepyfile(test_app=changed)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*No recording matched POST /v1/chat/completions*fields that differ: messages.0.content"
            ' (asked "Hello again", recorded "Hello there")*'
        ]
    )


def test_new_episodes_records_only_what_is_missing(pytester: pytest.Pytester, mock_upstream: str) -> None:
    pytester.makepyfile(test_app=USER_TESTS)
    pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}")
    before = recordings(pytester.path / "recordings")
    pytester.makepyfile(test_app=USER_TESTS.replace("Hello there", "Hello again"))
    pytester.runpytest(
        "--mistral-record-mode=new_episodes", f"--mistral-upstream={mock_upstream}"
    ).assert_outcomes(passed=3)
    after = recordings(pytester.path / "recordings")
    assert set(before) < set(after) and len(after) == len(before) + 1


def test_unused_recordings_are_reported_and_can_fail_the_run(
    pytester: pytest.Pytester, mock_upstream: str
) -> None:
    pytester.makepyfile(test_app=USER_TESTS)
    pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}")
    stale = pytester.path / "recordings" / "test_app" / "test_chat" / "chat" / "chat-stale-00000000.json"
    stale.write_text(
        next((pytester.path / "recordings" / "test_app" / "test_chat").rglob("*.json")).read_text()
    )
    report = pytester.runpytest()
    report.assert_outcomes(passed=3)
    report.stdout.fnmatch_lines(
        [
            "*unused Mistral recordings*",
            "recordings/test_app/test_chat/chat/chat-stale-00000000.json",
            "1 recording(s) of tests that passed were not used*--mistral-record-mode=all.",
        ]
    )
    assert report.ret == 0
    strict = pytester.runpytest("--mistral-fail-unused")
    strict.assert_outcomes(passed=3)
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.stdout.fnmatch_lines(["*The run FAILED because of --mistral-fail-unused: 1 unused recording(s).*"])


def test_record_all_starts_afresh(pytester: pytest.Pytester, mock_upstream: str) -> None:
    pytester.makepyfile(test_app=USER_TESTS)
    pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}")
    marker = pytester.path / "recordings" / "test_app" / "test_chat" / "leftover.json"
    marker.write_text("{}")
    pytester.runpytest("--mistral-record-mode=all", f"--mistral-upstream={mock_upstream}").assert_outcomes(
        passed=3
    )
    assert not marker.exists()


def test_the_readme_example_works_as_written(pytester: pytest.Pytester, mock_upstream: str) -> None:
    readme = (ROOT / "README.md").read_text()
    example = readme.split("```python\n# tests/test_support_bot.py\n", 1)[1].split("```", 1)[0]
    pytester.makepyfile(test_support_bot=example)
    recorded = pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}")
    recorded.assert_outcomes(passed=2)
    assert (pytester.path / "recordings" / "test_support_bot" / "weather-tools").is_dir()
    pytester.runpytest("--mistral-upstream=http://127.0.0.1:9").assert_outcomes(passed=2)


CLASS_TESTS = """
def ask(client, text):
    reply = client.chat.completions.create(
        model="mistral-small-latest", messages=[{"role": "user", "content": text}]
    )
    assert reply.choices[0].message.content


class TestAlpha:
    def test_same_name(self, openai_client):
        ask(openai_client, "Alpha question")


class TestBeta:
    def test_same_name(self, openai_client):
        ask(openai_client, "Beta question")

    class TestNested:
        def test_same_name(self, openai_client):
            ask(openai_client, "Nested question")


def test_same_name(openai_client):
    ask(openai_client, "Module question")
"""


def test_tests_of_the_same_name_in_different_classes_get_their_own_folders(
    pytester: pytest.Pytester, mock_upstream: str
) -> None:
    pytester.makepyfile(test_app=CLASS_TESTS)
    pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}").assert_outcomes(
        passed=4
    )
    folders = {name.split("/")[1] for name in recordings(pytester.path / "recordings")}
    # A module-level test keeps its bare name, so recordings committed before classes were named stay valid.
    assert folders == {
        "TestAlpha.test_same_name",
        "TestBeta.test_same_name",
        "TestBeta.TestNested.test_same_name",
        "test_same_name",
    }
    pytester.runpytest("--mistral-upstream=http://127.0.0.1:9").assert_outcomes(passed=4)


RAW_HTTP_TEST = """
import httpx2


def test_raw(mistral_mock):
    body = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "QUESTION"}]}
    httpx2.post(f"{mistral_mock}/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"})
"""


def test_a_miss_fails_the_test_even_when_it_ignores_the_answer(
    pytester: pytest.Pytester, mock_upstream: str
) -> None:
    pytester.makepyfile(test_app=RAW_HTTP_TEST.replace("QUESTION", "Recorded question"))
    pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}").assert_outcomes(
        passed=1
    )
    (recorded,) = (pytester.path / "recordings" / "test_app" / "test_raw").rglob("*.json")
    pytester.makepyfile(test_app=RAW_HTTP_TEST.replace("QUESTION", "Another question"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*The Mistral mock noted 1 problem(s) in this test:*",
            f"*miss: No recording matched POST /v1/chat/completions. Closest recording: chat/{recorded.name};"
            " fields that differ: messages.0.content"
            ' (asked "Another question", recorded "Recorded question").',
            "Recordings of this test: recordings/test_app/test_raw (1 file(s);*replay mode).",
            "*--mistral-record-mode=new_episodes*--mistral-record-mode=all*",
        ]
    )
    # Replaying the recorded request passes, so the failure is the miss and nothing else.
    pytester.makepyfile(test_app=RAW_HTTP_TEST.replace("QUESTION", "Recorded question"))
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_miss_in_a_later_fixture_teardown_fails_at_teardown(
    pytester: pytest.Pytester, mock_upstream: str
) -> None:
    user_tests = """
import httpx2
import pytest


@pytest.fixture
def cleanup(mistral_mock):
    yield
    httpx2.get(f"{mistral_mock}/v1/models/unrecorded-model", headers={"Authorization": "Bearer k"})


def test_body(cleanup, mistral_mock):
    pass
"""
    pytester.makepyfile(test_app=user_tests)
    result = pytester.runpytest("--mistral-upstream=http://127.0.0.1:9")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*No recording matched GET /v1/models/unrecorded-model*"])


def test_the_readme_journey_works_as_written(pytester: pytest.Pytester, mock_upstream: str) -> None:
    """The README's first section, "Use it in your own project": its test file, its pyproject lines and
    the shim.toml it points at (the README's example), recorded once, then replayed with no upstream."""
    readme = (ROOT / "README.md").read_text()
    journey = readme.split("## Use it in your own project", 1)[1].split("\n## ", 1)[0]
    tests = journey.split("```python\n# tests/test_bot.py\n", 1)[1].split("```", 1)[0]
    ini = journey.split("```toml\n", 1)[1].split("```", 1)[0]
    shim_toml = readme.split("```toml\n# shim.toml\n", 1)[1].split("```", 1)[0]
    pytester.makefile(".toml", pyproject=ini + 'asyncio_default_fixture_loop_scope = "function"\n')
    pytester.makefile(".toml", shim=shim_toml.replace("port = 8080\n", ""))
    (pytester.path / "tox.ini").unlink()
    pytester.makepyfile(test_bot=tests)
    pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}").assert_outcomes(
        passed=2
    )
    assert len(recordings(pytester.path / "recordings")) == 2
    pytester.runpytest("--mistral-fail-unused", "--mistral-upstream=http://127.0.0.1:9").assert_outcomes(
        passed=2
    )
