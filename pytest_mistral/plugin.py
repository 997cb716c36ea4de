"""pytest plugin: test OpenAI-SDK (and Mistral-SDK) code against an offline Mistral, recorded once, replayed
in CI with no key and no network, with authored answers for what a test checks.

Modelled on pytest-recording. The fixtures:

- ``openai_client`` / ``async_openai_client``: the openai client going app -> shim -> mock, the path the
  project exists for (``developer`` turns, ``seed``, ``gpt-4o-mini`` aliases all work as in production);
- ``mistral_shim``: the shim's OpenAI base URL (``.../v1``), with ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``
  set for the test, for code that builds its own client;
- ``mistral_mock``: the mock's URL; ``mistral_client`` (Mistral's SDK) and ``mistral_openai_client`` (the
  openai client straight to the mock, as if only ``base_url`` had changed) go there;
- ``mistral_fixtures``: ``.add(match=..., answer=...)`` authored answers for this test only.

One mock and one shim serve the whole session (``servers``); each test gets its own recordings folder,
mode and fixture rules (``cassette``). ``--mistral-record-mode`` picks the mode: ``none`` (the default)
replays only; ``once`` records the tests with no recordings; ``new_episodes`` records what no recording
matches; ``all`` records afresh. A request no recording matched, an answer the recorder refused to save
(a 401 without ``MISTRAL_API_KEY``, a ``/v1/v1`` URL) or an impossible fixture fails the test even when it
never read the answer, and the report says which record mode fixes it.
"""

import dataclasses
import os
import shutil
import warnings
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_mistral.cassette import FAILING, RECORD_MODES, folder_name, shown

if TYPE_CHECKING:  # the servers load only when a test asks for them
    from mockserver.settings import MockSettings
    from mockserver.sources.fixtures import Rule
    from pytest_mistral.cassette import Cassette
    from pytest_mistral.servers import Servers

try:  # pytest-asyncio's strict mode runs only the async fixtures it was told about
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - without pytest-asyncio, async tests need another runner
    _async_fixture = pytest.fixture  # type: ignore[assignment]  # the same decorator, as far as callers go

CLIENT_KEY = "mistral-compat-tests"
"""The key test clients present: the mock accepts any key; recording uses MISTRAL_API_KEY."""

_SERVERS = pytest.StashKey["Servers | None"]()
_CASSETTE = pytest.StashKey["Cassette"]()
# Per recordings folder: the recordings replayed or written by tests that passed.
_USED = pytest.StashKey[dict[Path, set[Path]]]()
_RULES_CACHE = pytest.StashKey[dict[tuple[Path, float], "list[Rule]"]]()
_SETTINGS = pytest.StashKey[tuple["MockSettings", Path | None, dict[str, str]]]()


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
        "--mistral-fail-unused",
        action="store_true",
        help="fail the run when recordings of tests that passed were not used",
    )
    group.addoption(
        "--mistral-upstream",
        default=None,
        help="the API to record from (default: MISTRAL_BASE_URL, else https://api.mistral.ai; "
        "a trailing /v1 is removed)",
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
    parser.addini("mistral_shim_config", "a mistral-shim TOML file (aliases, unsupported = ...) for the shim")
    parser.addini(
        "mistral_shim_aliases",
        'model aliases for the shim, one "openai-name = mistral-model" a line',
        type="linelist",
    )
    parser.addini(
        "mistral_openai_client",
        "what openai_client talks to: shim (the default) or mock (deprecated: use mistral_openai_client)",
        default="shim",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mistral_recording(name): the recordings folder name for this test")
    config.addinivalue_line(
        "markers", "mistral_fixtures(*files): rules files of authored answers (paths from the test's folder)"
    )
    config.addinivalue_line(
        "markers", "mistral_synthetic: generated answers behind the fixtures; nothing recorded or replayed"
    )
    config.stash[_USED] = {}
    config.stash[_SERVERS] = None
    config.stash[_RULES_CACHE] = {}
    config.stash[_SETTINGS] = _settings(config)
    record_mode(config)


def record_mode(config: pytest.Config) -> str:
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
    return root / module.stem / folder_name(name)


def recording_name(node: pytest.Item) -> str:
    """The test's name within its module, classes included (``TestA.test_x``), as pytest-recording names
    cassettes: ``TestA::test_x`` and ``TestB::test_x`` must not share a folder. A module-level test keeps its
    bare name."""
    classes = [n.name for n in node.listchain() if isinstance(n, pytest.Class)]
    return ".".join([*classes, node.name])


# --- the session's servers -----------------------------------------------------------------------------


def _aliases(config: pytest.Config) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for line in config.getini("mistral_shim_aliases"):
        name, sep, model = str(line).partition("=")
        if not sep or not name.strip() or not model.strip():
            raise pytest.UsageError(f"mistral_shim_aliases: {line!r} is not 'openai-name = mistral-model'")
        aliases[name.strip().strip("\"'")] = model.strip().strip("\"'")
    return aliases


def _shim_file(config: pytest.Config) -> Path | None:
    configured = config.getini("mistral_shim_config")
    if not configured:
        return None
    base = config.inipath.parent if config.inipath else config.rootpath
    path = Path(base, str(configured))
    if not path.is_file():
        raise pytest.UsageError(f"mistral_shim_config: {path} is not a file")
    return path


def _settings(config: pytest.Config) -> tuple["MockSettings", Path | None, dict[str, str]]:
    """The session mock's settings, the shim's config file and aliases, each checked: a mistake is a
    usage error before any test runs, in one line."""
    from mistral_wire.settings import SettingsError
    from mockserver.settings import MockSettings
    from pytest_mistral.servers import shim_config

    upstream = config.getoption("--mistral-upstream") or os.environ.get("MISTRAL_BASE_URL") or None
    try:
        speed = float(config.getini("mistral_replay_speed"))
    except ValueError:
        raise pytest.UsageError(
            "mistral_replay_speed must be a number (0: at once, 1: as recorded)"
        ) from None
    base = MockSettings(
        mode="synthetic",
        speed=speed,
        # A test that fails on an error it got from a recording says which file it came from.
        name_replayed_errors=True,
    )
    if upstream:
        base = dataclasses.replace(base, upstream=upstream)
    shim_file, aliases = _shim_file(config), _aliases(config)
    try:
        base.check()
        shim_config(shim_file, aliases, "http://127.0.0.1:1")
    except SettingsError as error:
        raise pytest.UsageError(f"mistral-compat: {error}") from None
    return base, shim_file, aliases


def _servers(config: pytest.Config) -> "Servers":
    servers = config.stash[_SERVERS]
    if servers is not None:
        return servers
    from mockserver import extras

    try:
        extras.require("the mistral-compat pytest plugin")
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    from pytest_mistral.servers import Servers

    base, shim_file, aliases = config.stash[_SETTINGS]
    servers = Servers(base, shim_file, aliases)
    config.stash[_SERVERS] = servers
    return servers


def pytest_unconfigure(config: pytest.Config) -> None:
    servers = config.stash.get(_SERVERS, None)
    if servers is not None:
        servers.stop()
        config.stash[_SERVERS] = None


# --- one test's mock -------------------------------------------------------------------------------------


def _marked_rules(request: pytest.FixtureRequest) -> "list[Rule]":
    """The rules of the ``mistral_fixtures`` markers, the closest marker's first (a test's, then its
    class's, then its module's), each file read once per session while it is unchanged."""
    from mockserver.sources.fixtures import FixtureError, load

    cache = request.config.stash[_RULES_CACHE]
    rules: list[Rule] = []
    folder: Path = request.node.path.parent
    for marker in request.node.iter_markers("mistral_fixtures"):
        for name in marker.args:
            path = (folder / str(name)).resolve()
            if not path.is_file():
                pytest.fail(f"mistral_fixtures: {path} is not a file", pytrace=False)
            key = (path, path.stat().st_mtime)
            if key not in cache:
                try:
                    cache[key] = load(path)
                except FixtureError as error:
                    pytest.fail(str(error), pytrace=False)
            rules.extend(cache[key])
    return rules


@pytest.fixture
def mistral_mock(request: pytest.FixtureRequest) -> Iterator[str]:
    """The base URL of the session's mock, answering this test: its fixture rules first, then its
    recordings (replayed, or recorded from the upstream) or generated answers, by record mode."""
    from pytest_mistral.cassette import Cassette

    servers = _servers(request.config)
    mode = record_mode(request.config)
    folder = recordings_dir(request)
    synthetic = request.node.get_closest_marker("mistral_synthetic") is not None
    if mode == "all" and folder.is_dir() and not synthetic:
        shutil.rmtree(folder)
    cassette = Cassette.open(servers.base, folder, mode, synthetic, _marked_rules(request), servers.synthetic)
    servers.use(cassette.chain)
    request.node.stash[_CASSETTE] = cassette
    yield servers.mock_url
    # Problems made after the test body (in a later fixture's teardown) fail the test here.
    fresh = cassette.unreported()
    if fresh:
        pytest.fail(cassette.fail(fresh, request.config.rootpath), pytrace=False)


@pytest.fixture
def mistral_shim(mistral_mock: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """The shim's OpenAI base URL (``http://127.0.0.1:PORT/v1``), in front of this test's mock.

    ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` are set for the test, so code that builds its own
    ``OpenAI()`` (or a framework's client) goes through the shim too."""
    url = f"{_servers(request.config).shim_url}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", CLIENT_KEY)
    return url


def _old_meaning(config: pytest.Config) -> bool:
    """Whether ``openai_client`` keeps its old meaning (straight to the mock), for a project migrating."""
    value = str(config.getini("mistral_openai_client")).strip()
    if value not in ("shim", "mock"):
        raise pytest.UsageError(f"mistral_openai_client must be shim or mock, not {value!r}")
    if value == "mock":
        warnings.warn(
            pytest.PytestDeprecationWarning(
                "mistral_openai_client = mock: openai_client goes straight to the mock, its old meaning. Use "
                "the mistral_openai_client fixture for that, and let openai_client go through the shim."
            ),
            stacklevel=2,
        )
    return value == "mock"


@pytest.fixture
def openai_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The openai client going app -> shim -> mock (no retries: a miss must fail at once)."""
    from openai import OpenAI

    if _old_meaning(request.config):
        base_url = f"{request.getfixturevalue('mistral_mock')}/v1"
    else:
        base_url = request.getfixturevalue("mistral_shim")
    with OpenAI(base_url=base_url, api_key=CLIENT_KEY, max_retries=0, timeout=120) as client:
        yield client


@_async_fixture
async def async_openai_client(mistral_shim: str) -> Any:
    """The async openai client going app -> shim -> mock."""
    from openai import AsyncOpenAI

    async with AsyncOpenAI(base_url=mistral_shim, api_key=CLIENT_KEY, max_retries=0, timeout=120) as client:
        yield client


@pytest.fixture
def mistral_openai_client(mistral_mock: str) -> Iterator[Any]:
    """The openai client straight to the mock, as if only ``base_url`` had changed (no shim)."""
    from openai import OpenAI

    with OpenAI(base_url=f"{mistral_mock}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=120) as client:
        yield client


@pytest.fixture
def mistral_client(mistral_mock: str) -> Any:
    """Mistral's SDK pointed at ``mistral_mock``."""
    from mistralai.client import Mistral

    return Mistral(api_key=os.environ.get("MISTRAL_API_KEY", CLIENT_KEY), server_url=mistral_mock)


class MistralFixtures:
    """Authored answers for one test: ``add(match=..., answer=...)``, first match wins, gone after it."""

    def __init__(self, cassette: "Cassette", nodeid: str) -> None:
        self._cassette = cassette
        self._nodeid = nodeid
        self._added: list[Rule] = []

    def add(
        self, match: Mapping[str, Any] | None = None, answer: Any = None, *, name: str | None = None
    ) -> None:
        """A rule as a fixtures file writes one (``match``, ``answer``), checked now: a mistake fails here."""
        from mockserver.sources.fixtures import parse_rule

        item: dict[str, Any] = {"match": dict(match or {}), "answer": answer}
        if name is not None:
            item["name"] = name
        rule = parse_rule(item, f"{self._nodeid}: mistral_fixtures.add #{len(self._added) + 1}")
        self._cassette.chain.fixtures.add(rule)
        self._added.append(rule)

    def clear(self) -> None:
        for rule in self._added:
            self._cassette.chain.fixtures.remove(rule)
        self._added.clear()


@pytest.fixture
def mistral_fixtures(mistral_mock: str, request: pytest.FixtureRequest) -> Iterator[MistralFixtures]:
    """Add authored answers for this test only (they win over the module's fixtures files)."""
    added = MistralFixtures(request.node.stash[_CASSETTE], request.node.nodeid)
    yield added
    added.clear()


# --- reporting -------------------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Fail a test whose requests the mock could not answer, even if it passed (it may never have read the
    answer). When the test failed already, the problems go in its report instead (``makereport``)."""
    result = yield  # a test that raised is reported as it failed, with the mock's section added
    cassette = item.stash.get(_CASSETTE, None)
    if cassette is not None:
        fresh = cassette.unreported()
        if fresh:
            pytest.fail(cassette.fail(fresh, item.config.rootpath), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """A failed test's report gets a section with what the mock noted (misses and their fix, refused
    recordings, errors replayed from recordings), even when the SDK raised the error with a message of its
    own; a passed test's recordings count as used (``--mistral-fail-unused``)."""
    report: pytest.TestReport = yield
    cassette = item.stash.get(_CASSETTE, None)
    if cassette is None:
        return report
    if report.failed and cassette.problems and not cassette.explained:
        cassette.reported = len(cassette.problems)
        report.sections.append(("Mistral mock", cassette.report(cassette.problems, item.config.rootpath)))
    cassette.explained = False
    if report.when == "call" and report.passed and cassette.mode in ("replay", "auto"):
        item.config.stash[_USED].setdefault(cassette.folder.resolve(), set()).update(cassette.used())
    return report


def _unused(used: Mapping[Path, set[Path]]) -> list[Path]:
    unused: list[Path] = []
    for folder, paths in used.items():
        if folder.is_dir():
            unused.extend(p for p in sorted(folder.rglob("*.json")) if p.resolve() not in paths)
    return unused


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    used = config.stash.get(_USED, {})
    worker_output = getattr(config, "workeroutput", None)
    if worker_output is not None:  # a pytest-xdist worker: the controller adds up every worker's use
        worker_output["mistral_used"] = {str(f): sorted(map(str, paths)) for f, paths in used.items()}
        return
    failing = config.getoption("--mistral-fail-unused", default=False) and _unused(used)
    if failing and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker's recordings used, added to the controller's."""
    config: pytest.Config = node.config
    sent = getattr(node, "workeroutput", {}).get("mistral_used", {})
    used = config.stash.get(_USED, {})
    for folder, paths in sent.items():
        used.setdefault(Path(folder), set()).update(Path(p) for p in paths)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workeroutput"):
        return
    used: dict[Path, set[Path]] = config.stash[_USED]
    unused = _unused(used)
    if not unused:
        return
    terminalreporter.section("unused Mistral recordings")
    for path in unused:
        terminalreporter.write_line(shown(path, config.rootpath))
    terminalreporter.write_line(
        f"{len(unused)} recording(s) of tests that passed were not used: the requests that made them are no "
        "longer sent. Delete them, or re-record those tests with --mistral-record-mode=all."
    )
    if config.getoption("--mistral-fail-unused", default=False):
        terminalreporter.write_line(
            f"The run FAILED because of --mistral-fail-unused: {len(unused)} unused recording(s).", red=True
        )


__all__ = ["FAILING", "MistralFixtures"]
