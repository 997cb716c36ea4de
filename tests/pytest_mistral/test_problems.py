"""What the plugin says when something goes wrong, so that the fix is obvious from the report alone.

Recording never saves a mistake of the setup (no key, a ``/v1/v1`` URL, no upstream): the test fails with
the cause. A miss names the record mode that fits (``new_episodes`` when the test has recordings, ``once``
when it has none, ``all`` to redo), and reaches the report even when the SDK raised its own error. A
replayed error names its recording; errors a test provokes on purpose are recorded and replayed.
"""

import pytest

from testkit.auth import UPSTREAM_KEY

CHAT = """
import openai
import pytest

HI = [{"role": "user", "content": "QUESTION"}]


def test_chat(openai_client):
    reply = openai_client.chat.completions.create(model="mistral-small-latest", messages=HI)
    assert reply.choices[0].message.content
"""


def recordings(pytester: pytest.Pytester) -> list[str]:
    return sorted(p.name for p in (pytester.path / "recordings").rglob("*.json"))


def test_recording_without_the_key_saves_nothing_and_asks_for_it(
    pytester: pytest.Pytester, keyed_upstream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_app=CHAT.replace("QUESTION", "Hi"))
    result = pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={keyed_upstream}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*recording: Recording refused: the upstream answered 401 (Unauthorized): is MISTRAL_API_KEY set?*"]
    )
    assert recordings(pytester) == []
    monkeypatch.setenv("MISTRAL_API_KEY", UPSTREAM_KEY)
    pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={keyed_upstream}").assert_outcomes(
        passed=1
    )
    assert len(recordings(pytester)) == 1


def test_a_v1_v1_url_saves_nothing_and_says_to_drop_the_v1(
    pytester: pytest.Pytester, mock_upstream: str
) -> None:
    pytester.makepyfile(
        test_app="""
from mistralai.client import Mistral


def test_sdk(mistral_mock):
    client = Mistral(api_key="k", server_url=f"{mistral_mock}/v1")  # LangChain's habit: the SDK adds /v1
    client.chat.complete(model="mistral-small-latest", messages=[{"role": "user", "content": "Hi"}])
"""
    )
    result = pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*/v1/v1/chat/completions: …/v1/v1/… : drop the /v1 from the base URL*"])
    assert recordings(pytester) == []


def test_an_unreachable_upstream_saves_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=CHAT.replace("QUESTION", "Hi"))
    result = pytester.runpytest("--mistral-record-mode=once", "--mistral-upstream=http://127.0.0.1:9")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Recording failed: the upstream http://127.0.0.1:9 could not be reached*"])
    assert recordings(pytester) == []


PROVOKED = """
import openai
import pytest

HI = [{"role": "user", "content": "Hi"}]


def test_unknown_model(openai_client):
    with pytest.raises(openai.NotFoundError) as raised:
        openai_client.chat.completions.create(model="no-such-model", messages=HI)
    print("MESSAGE:", raised.value.message)


def test_forced_rate_limit(openai_client):
    limited = openai_client.with_options(default_headers={"x-mock-fault": "status=429;retry_after=1"})
    with pytest.raises(openai.RateLimitError):
        limited.chat.completions.create(model="mistral-small-latest", messages=HI)


def test_replayed_error_fails(openai_client):
    openai_client.chat.completions.create(model="no-such-model", messages=HI)
"""


def test_provoked_errors_are_recorded_and_replayed_and_name_their_file(
    pytester: pytest.Pytester, mock_upstream: str
) -> None:
    pytester.makepyfile(test_app=PROVOKED)
    first = pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}", "-s")
    first.assert_outcomes(passed=2, failed=1)
    # Mistral's 400 for the unknown model is saved (twice: two tests); the forced 429 is the mock's own.
    assert [name.split("-")[-2] for name in recordings(pytester)] == ["400", "400"]
    replay = pytester.runpytest("--mistral-upstream=http://127.0.0.1:9", "-s")
    replay.assert_outcomes(passed=2, failed=1)
    replay.stdout.fnmatch_lines(
        [
            "*MESSAGE: *(replayed from recordings/test_app/test_unknown_model/chat/chat-hi-400-*.json)*",
            # The failing test's report names the file the error came from, in the SDK's message and below.
            "*openai.NotFoundError*(replayed from recordings/test_app/test_replayed_error_fails/chat/*",
            "*replayed-error: POST /v1/chat/completions got 400 from recording recordings/test_app/"
            "test_replayed_error_fails/chat/chat-hi-400-*.json",
        ]
    )


MISSING = """
def test_chat(openai_client):
    openai_client.chat.completions.create(
        model="mistral-small-latest", messages=[{"role": "user", "content": "QUESTION"}]
    )
"""


def test_a_miss_the_sdk_raised_still_gets_the_hint_in_the_report(
    pytester: pytest.Pytester, mock_upstream: str
) -> None:
    pytester.makepyfile(test_app=MISSING.replace("QUESTION", "Hello there"))
    pytester.runpytest("--mistral-record-mode=once", f"--mistral-upstream={mock_upstream}").assert_outcomes(
        passed=1
    )
    pytester.makepyfile(test_app=MISSING.replace("QUESTION", "Hello again"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * openai.NotFoundError: *No recording matched POST /v1/chat/completions*",
            "*- Mistral mock -*",
            "The Mistral mock noted 1 problem(s) in this test:",
            '*messages.0.content (asked "Hello again", recorded "Hello there")*',
            "Recordings of this test: recordings/test_app/test_chat (1 file(s); --mistral-record-mode=none,*",
            "*record what is missing with --mistral-record-mode=new_episodes*--mistral-record-mode=all*",
        ]
    )


def test_a_test_without_recordings_is_told_to_record_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=MISSING.replace("QUESTION", "Hello"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Recordings of this test: recordings/test_app/test_chat (none yet; --mistral-record-mode=none,*",
            "This test has no recordings yet: record them once with MISTRAL_API_KEY=... pytest "
            "--mistral-record-mode=once*",
        ]
    )
