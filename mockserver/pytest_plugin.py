"""pytest plugin: record a test suite's Mistral traffic once, replay it in CI with no key and no network.

Modelled on pytest-recording. Each test that uses the ``mistral_mock`` fixture gets its own recordings
folder (``<module>/<name>``, the name from the node id: ``test_x``, or ``TestA.test_x`` inside a class,
or ``@pytest.mark.mistral_recording("name")``) and a mock server on a free loopback port in front of it:

    def test_answer(openai_client):
        reply = openai_client.chat.completions.create(model="mistral-small-latest", messages=[...])

``--mistral-record-mode`` picks what happens: ``none`` (the default) replays only and fails loudly on a
request with no recording; ``once`` records a test whose folder is empty and replays the others;
``new_episodes`` replays what matches and records the rest; ``all`` records every test afresh. A request no
recording matched fails the test even when the test never looked at the answer (raw HTTP against
``mistral_mock``): the test fails naming the request, the closest recording and the fields that differ.
"""

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the mock's modules load only when a test asks for mistral_mock
    from mockserver.settings import Mode

RECORD_MODES = ("none", "once", "new_episodes", "all")
_USED_KEY = pytest.StashKey[dict[Path, set[Path]]]()
# The misses of the test's replaying mock, and how many of them were already reported.
_MISSES_KEY = pytest.StashKey[list[str]]()
_REPORTED_KEY = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mistral", "Mistral recordings (mistral-compat)")
    group.addoption(
        "--mistral-record-mode",
        choices=RECORD_MODES,
        default=None,
        help="none: replay only (default); once: record tests without recordings; "
        "new_episodes: record what does not match; all: record everything again",
    )
    group.addoption(
        "--mistral-fail-unused", action="store_true", help="fail when some recordings were not used"
    )
    group.addoption(
        "--mistral-upstream", default=None, help="API to record from (default: MISTRAL_BASE_URL or Mistral)"
    )
    parser.addini(
        "mistral_recordings_dir", "folder holding per-test recordings (default: <test dir>/recordings)"
    )
    parser.addini("mistral_record_mode", "default --mistral-record-mode", default="none")
    parser.addini(
        "mistral_replay_speed",
        "replay speed for SSE timing: 0 (default) sends at once, 1 as recorded",
        default="0",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mistral_recording(name): the recordings folder name for this test")
    config.stash[_USED_KEY] = {}


def _record_mode(config: pytest.Config) -> str:
    mode = config.getoption("--mistral-record-mode") or config.getini("mistral_record_mode")
    if not isinstance(mode, str) or mode not in RECORD_MODES:
        raise pytest.UsageError(f"mistral_record_mode must be one of {', '.join(RECORD_MODES)}, got {mode!r}")
    return mode


def recordings_dir(request: pytest.FixtureRequest) -> Path:
    configured = request.config.getini("mistral_recordings_dir")
    module: Path = request.node.path  # FixtureRequest.node is typed Any; a test item has a path
    root = Path(request.config.rootpath, configured) if configured else module.parent / "recordings"
    marker = request.node.get_closest_marker("mistral_recording")
    name = marker.args[0] if marker and marker.args else recording_name(request.node)
    return root / module.stem / re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def recording_name(node: pytest.Item) -> str:
    """The test's name within its module, classes included (``TestA.test_x``), as pytest-recording names
    cassettes: ``TestA::test_x`` and ``TestB::test_x`` must not share a folder. A module-level test keeps its
    bare name."""
    classes = [n.name for n in node.listchain() if isinstance(n, pytest.Class)]
    return ".".join([*classes, node.name])


def _unreported_misses(item: pytest.Item) -> list[str]:
    misses = item.stash.get(_MISSES_KEY, [])
    reported = item.stash.get(_REPORTED_KEY, 0)
    item.stash[_REPORTED_KEY] = len(misses)
    return misses[reported:]


def _miss_report(misses: list[str]) -> str:
    lines = [f"{len(misses)} request(s) to mistral_mock matched no recording:"]
    lines += [f"  {message}" for message in misses]
    lines.append("Record them with --mistral-record-mode=once (or new_episodes), or fix the request.")
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Fail a test whose requests missed, even if it passed (it may never have read the 404)."""
    try:
        result = yield
    except BaseException:
        _unreported_misses(item)  # the test already failed, usually with the miss's own message
        raise
    misses = _unreported_misses(item)
    if misses:
        pytest.fail(_miss_report(misses), pytrace=False)
    return result


def _mode_for(record_mode: str, folder: Path) -> "Mode":
    has_recordings = folder.is_dir() and any(folder.rglob("*.json"))
    if record_mode == "none":
        return "replay"
    if record_mode == "once":
        return "replay" if has_recordings else "record"
    if record_mode == "new_episodes":
        return "auto"
    return "record"


@pytest.fixture
def mistral_mock(request: pytest.FixtureRequest) -> Iterator[str]:
    """The base URL of a mock that replays (or records) this test's Mistral traffic."""
    from mockserver import extras

    try:
        extras.require("the mistral_mock fixture")
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    from mockserver.app import MISSES, STORE, create_app
    from mockserver.serving import ServerThread
    from mockserver.settings import MockSettings

    record_mode = _record_mode(request.config)
    folder = recordings_dir(request)
    mode = _mode_for(record_mode, folder)
    if record_mode == "all" and folder.is_dir():
        shutil.rmtree(folder)
    upstream = (
        request.config.getoption("--mistral-upstream")
        or os.environ.get("MISTRAL_BASE_URL")
        or "https://api.mistral.ai"
    )
    config = MockSettings(
        mode=mode,
        recordings=folder,
        upstream=upstream,
        upstream_key=os.environ.get("MISTRAL_API_KEY") or None,
        speed=float(request.config.getini("mistral_replay_speed")),
    )
    apps: list[Any] = []

    def make() -> Any:
        app = create_app(config)
        apps.append(app)
        return app

    with ServerThread(make) as url:
        store = apps[0][STORE]
        request.node.stash[_MISSES_KEY] = apps[0].get(MISSES, [])
        yield url
    used = request.config.stash[_USED_KEY].setdefault(folder, set())
    used.update(p.resolve() for p in store.used())
    misses = _unreported_misses(request.node)  # made after the test body (in another fixture's teardown)
    if misses:
        pytest.fail(_miss_report(misses), pytrace=False)


@pytest.fixture
def mistral_client(mistral_mock: str) -> Any:
    """Mistral's SDK pointed at ``mistral_mock``."""
    from mistralai.client import Mistral

    return Mistral(api_key=os.environ.get("MISTRAL_API_KEY", "recorded"), server_url=mistral_mock)


@pytest.fixture
def openai_client(mistral_mock: str) -> Any:
    """The openai client pointed at ``mistral_mock`` (no retries: a miss must fail at once)."""
    from openai import OpenAI

    return OpenAI(
        base_url=f"{mistral_mock}/v1", api_key=os.environ.get("MISTRAL_API_KEY", "recorded"), max_retries=0
    )


def _unused(config: pytest.Config) -> list[Path]:
    unused: list[Path] = []
    for folder, used in config.stash.get(_USED_KEY, {}).items():
        if folder.is_dir():
            unused.extend(p for p in sorted(folder.rglob("*.json")) if p.resolve() not in used)
    return unused


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    unused = _unused(config)
    if unused:
        terminalreporter.section("unused Mistral recordings")
        for path in unused:
            terminalreporter.write_line(str(path))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.getoption("--mistral-fail-unused", default=False) and _unused(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
