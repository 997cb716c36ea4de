"""The contract suite's targets, clients and matrix: ``pytest contract_tests --target shim+mock,mock``.

Every test that asks for ``target`` (or a client built on it) runs once per selected target. The default is
every offline target; ``--target all`` adds the live ones, which need ``MISTRAL_API_KEY`` and skip visibly
without it. Clients are the official ones, configured as a migrating team would, with one addition: their
transport hands each complete answer to the spec oracle (``contract_tests/oracle.py``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from mistralai.client import Mistral
from openai import AsyncOpenAI, OpenAI

from contract_tests.columns import skip_unless_selected
from contract_tests.matrix import BREAKS, Matrix
from contract_tests.oracle import Oracle
from contract_tests.real_traffic import Layers, import_vcr, load_cases, sources
from contract_tests.targets import KEY, LIVE, LIVE_API, OFFLINE, RECORD, TARGETS, Servers, Target
from testkit.paths import require_shared
from testkit.processes import mock_process
from testkit.upstream import Upstream
from testkit.wire import OPENAI_ANSWER, OPENAI_CHUNK, json_answer, sse_answer

TIMEOUT = 60.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "contract tests")
    group.addoption(
        "--target",
        default=",".join(OFFLINE),
        help=f"comma-separated targets for contract_tests/ ({', '.join(TARGETS)}, or 'all'); "
        f"default: the offline ones, {','.join(OFFLINE)}",
    )
    group.addoption("--matrix-file", type=Path, help="write the compatibility matrix here as Markdown")
    group.addoption(
        "--matrix-readme", type=Path, help="with --matrix-file: also update this README's summary block"
    )
    group.addoption(
        "--record-live",
        action="store_true",
        help=f"with --target {RECORD}: record api.mistral.ai (MISTRAL_API_KEY) instead of the synthetic mock",
    )


def _selected(config: pytest.Config) -> list[str]:
    names = [name.strip() for name in str(config.getoption("--target")).split(",") if name.strip()]
    if names == ["all"]:
        return list(TARGETS)
    unknown = [name for name in names if name not in (*TARGETS, RECORD)]
    if unknown:
        raise pytest.UsageError(f"unknown --target {', '.join(unknown)}; known: {', '.join(TARGETS)}, all")
    return names


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "feature(section, name): the compatibility-matrix row of a test")
    config.addinivalue_line("markers", "targets(*names): the only targets a contract test applies to")
    config.addinivalue_line("markers", "column(name): the matrix column of a test that takes no target")
    matrix = Matrix(config.getoption("--matrix-file"), config.getoption("--matrix-readme"))
    config.pluginmanager.register(matrix, "contract-matrix")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" not in metafunc.fixturenames:
        return
    selected = _selected(metafunc.config)
    marker = metafunc.definition.get_closest_marker("targets")
    if marker is not None:
        allowed = set(marker.args)
        if RECORD in selected and "shim+replay" in allowed:
            allowed.add(RECORD)
        selected = [name for name in selected if name in allowed]
    metafunc.parametrize("target", selected, indirect=True, scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out, rather than skip, a test none of whose targets was selected (e.g. Mistral's SDK tests
    under ``--target shim+mock``): a skip would read as a gap in the matrix."""
    unselected = [
        item for item in items if "target" in getattr(item, "fixturenames", ()) and not _target_of(item)
    ]
    if unselected:
        config.hook.pytest_deselected(items=unselected)
        items[:] = [item for item in items if item not in unselected]


def _target_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    name = callspec.params.get("target") if callspec is not None else None
    return name if isinstance(name, str) else None


@pytest.fixture(scope="session")
def servers(pytestconfig: pytest.Config) -> Iterator[Servers]:
    live_key = os.environ.get("MISTRAL_API_KEY") or None
    record_live = pytestconfig.getoption("--record-live")
    if record_live and not live_key:
        raise pytest.UsageError("--record-live needs MISTRAL_API_KEY")
    started = Servers(live_key, record_upstream=LIVE_API if record_live else None)
    yield started
    started.close()


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, servers: Servers) -> Target:
    name = request.param
    if name in LIVE and not os.environ.get("MISTRAL_API_KEY"):
        pytest.skip("no MISTRAL_API_KEY: live targets run with make contract-live")
    return servers.get(name)


@pytest.fixture
def oracle(target: Target) -> Iterator[Oracle]:
    """The spec oracle of this test's answers; a body the spec refuses fails the test at teardown."""
    judge = Oracle(openai_protocol=target.via_shim)
    yield judge
    problems = judge.reset().problems
    if problems:
        pytest.fail("answers the published spec refuses:\n" + "\n".join(problems[:20]), pytrace=False)


@pytest.fixture
def client(target: Target, oracle: Oracle) -> Iterator[OpenAI]:
    """The official openai client, sync, as a team points it at ``target``; no retries unless a test asks."""
    http = httpx.Client(transport=oracle.transport(), timeout=TIMEOUT)
    with OpenAI(base_url=target.base_url, api_key=target.api_key, max_retries=0, http_client=http) as made:
        yield made


@pytest.fixture
async def aclient(target: Target, oracle: Oracle) -> AsyncIterator[AsyncOpenAI]:
    """The official openai client, async."""
    http = httpx.AsyncClient(transport=oracle.async_transport(), timeout=TIMEOUT)
    async with AsyncOpenAI(
        base_url=target.base_url, api_key=target.api_key, max_retries=0, http_client=http
    ) as made:
        yield made


@pytest.fixture
def raw(target: Target, oracle: Oracle) -> Iterator[httpx.Client]:
    """Plain httpx at the target's root URL with its bearer: for routes no openai method covers (OCR)."""
    with httpx.Client(
        base_url=target.root_url,
        headers={"Authorization": f"Bearer {target.api_key}"},
        transport=oracle.transport(),
        timeout=TIMEOUT,
    ) as made:
        yield made


class Breaks:
    """What a test expects where there is no shim: ``with breaks(UnprocessableEntityError, "how"):``.

    Behind the shim the block must simply work. Without it (the mock alone, the live API direct) the block
    must raise the given exception, and the matrix cell says how it broke. ``breaks.expected`` and
    ``breaks.note(how)`` cover breakage that raises nothing (wrong vectors, a lost field).
    """

    def __init__(self, target: Target, node: pytest.Item) -> None:
        self._target = target
        self._node = node

    @property
    def expected(self) -> bool:
        return not self._target.via_shim

    def note(self, how: str) -> None:
        assert self.expected, "only a target without the shim can document a breakage"
        self._node.user_properties.append((BREAKS, how))

    def __call__(self, error: type[BaseException], how: str) -> AbstractContextManager[Any]:
        if not self.expected:
            return nullcontext()
        self.note(how)
        return pytest.raises(error)


@pytest.fixture
def breaks(target: Target, request: pytest.FixtureRequest) -> Breaks:
    return Breaks(target, request.node)


def needs_faults(target: Target) -> None:
    """Skip on targets where the mock's ``x-mock-fault`` header reaches no mock (the live API)."""
    if not target.faults:
        pytest.skip("needs the mock's x-mock-fault header; the live API has no fault injection")


@pytest.fixture
def fault(target: Target) -> Callable[[str], dict[str, str]]:
    """``extra_headers`` asking the mock behind the target for a fault; skips on live targets."""
    needs_faults(target)
    return lambda spec: {"x-mock-fault": spec}


# --- clients that retry, with every attempt counted (test_errors.py) ----------------------------------------


class Attempts:
    """The requests a client sent, as the SDK numbered them in ``x-stainless-retry-count``."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def hook(self, request: httpx.Request) -> None:
        self.seen.append(request.headers.get("x-stainless-retry-count", "?"))

    async def ahook(self, request: httpx.Request) -> None:
        self.hook(request)


@pytest.fixture
def attempts() -> Attempts:
    return Attempts()


@pytest.fixture
def retrying(target: Target, oracle: Oracle, attempts: Attempts) -> Iterator[OpenAI]:
    """The sync client as the SDK ships it, retrying twice, with every attempt counted."""
    http = httpx.Client(
        transport=oracle.transport(), timeout=TIMEOUT, event_hooks={"request": [attempts.hook]}
    )
    with OpenAI(base_url=target.base_url, api_key=target.api_key, max_retries=2, http_client=http) as made:
        yield made


@pytest.fixture
async def aretrying(target: Target, oracle: Oracle, attempts: Attempts) -> AsyncIterator[AsyncOpenAI]:
    http = httpx.AsyncClient(
        transport=oracle.async_transport(), timeout=TIMEOUT, event_hooks={"request": [attempts.ahook]}
    )
    async with AsyncOpenAI(
        base_url=target.base_url, api_key=target.api_key, max_retries=2, http_client=http
    ) as made:
        yield made


# --- Mistral's SDK (test_mistral_sdk.py), and `mistral-mock serve` as a user starts it ----------------------


@pytest.fixture
def sdk(target: Target, oracle: Oracle) -> Iterator[Mistral]:
    """``Mistral(api_key=..., server_url=...)`` as its docs say, on the oracle's transport."""
    http = httpx.Client(transport=oracle.transport(), timeout=TIMEOUT, follow_redirects=True)
    with Mistral(api_key=target.api_key, server_url=target.mistral_url, client=http) as made:
        yield made


@pytest.fixture
async def async_sdk(target: Target, oracle: Oracle) -> AsyncIterator[Mistral]:
    http = httpx.AsyncClient(transport=oracle.async_transport(), timeout=TIMEOUT, follow_redirects=True)
    async with Mistral(api_key=target.api_key, server_url=target.mistral_url, async_client=http) as made:
        yield made


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m mockserver serve`` in its own process on a free loopback port; stopped at the end."""
    with mock_process(["--api-key", KEY], tmp_path_factory.mktemp("served")) as mock:
        yield mock.url


@pytest.fixture
def served_sdk(served: str) -> Iterator[Mistral]:
    judge = Oracle(openai_protocol=False)
    http = httpx.Client(transport=judge.transport(), timeout=TIMEOUT)
    with Mistral(api_key=KEY, server_url=served, client=http) as made:
        yield made
    problems = judge.reset().problems
    if problems:
        pytest.fail("answers Mistral's spec refuses:\n" + "\n".join(problems[:20]), pytrace=False)


# --- OCR by plain HTTP and by Mistral's SDK at the target's root (test_ocr.py) ------------------------------


@pytest.fixture
def ocr_http(raw: httpx.Client) -> httpx.Client:
    """Plain httpx at the target's root with its bearer, as a script calling OCR would be written; the
    oracle judges its answers with Mistral's spec on every target (the shim passes OCR through)."""
    return raw


@pytest.fixture
def ocr_sdk(target: Target, oracle: Oracle) -> Iterator[Mistral]:
    """Mistral's SDK with ``server_url`` at the target's root: the shim, or Mistral (the mock) itself."""
    http = httpx.Client(transport=oracle.transport(), timeout=TIMEOUT, follow_redirects=True)
    with Mistral(api_key=target.api_key, server_url=target.root_url, client=http) as made:
        yield made


@pytest.fixture
async def async_ocr_sdk(target: Target, oracle: Oracle) -> AsyncIterator[Mistral]:
    http = httpx.AsyncClient(transport=oracle.async_transport(), timeout=TIMEOUT, follow_redirects=True)
    async with Mistral(api_key=target.api_key, server_url=target.root_url, async_client=http) as made:
        yield made


# --- real traffic, imported and served layer by layer (test_real_traffic.py) --------------------------------


@pytest.fixture(scope="module")
def layers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layers]:
    """The corpus imported by the command line, served layer by layer (see ``real_traffic``)."""
    skip_unless_selected(request.config, "shim+replay")
    root = require_shared() / "real-traffic"
    work = tmp_path_factory.mktemp("real-traffic")
    given = sources(root, work / "answers")
    summary = import_vcr([source.cassette for source in given], work / "imported")
    assert summary.splitlines()[-1].endswith(f"from {len(given)} cassettes, 0 failed"), summary
    served = Layers(work / "imported", load_cases(given), work)
    yield served
    served.close()


@pytest.fixture
def openai_oracle() -> Iterator[Oracle]:
    """OpenAI's spec applied to every answer the shim sends in a test, whatever the target (the real traffic
    tests have none)."""
    judge = Oracle(openai_protocol=True)
    yield judge
    problems = judge.reset().problems
    if problems:
        pytest.fail("answers OpenAI's spec refuses:\n" + "\n".join(problems[:20]), pytrace=False)


# --- generated requests (test_schemathesis.py) --------------------------------------------------------------


@pytest.fixture
def pinned_constants(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No literals of the project's own modules among the generated values.

    Hypothesis draws about 5% of its values from the literals of the local modules imported so far, and
    which modules are imported depends on which tests were selected: the same seed then sends other
    requests. Without that pool (an internal of hypothesis; left alone if it moves), a run is the same
    alone or among the whole suite.
    """
    from hypothesis.internal.conjecture import providers

    if not all(hasattr(providers, name) for name in ("_get_local_constants", "CONSTANTS_CACHE", "Constants")):
        yield
        return
    empty = providers.Constants()
    monkeypatch.setattr(providers, "_get_local_constants", lambda: empty)
    providers.CONSTANTS_CACHE.cache.clear()
    yield
    providers.CONSTANTS_CACHE.cache.clear()


@pytest.fixture
def mock_target(request: pytest.FixtureRequest, servers: Servers) -> Target:
    """The synthetic mock alone (the suite's ``mock`` target)."""
    skip_unless_selected(request.config, "mock")
    return servers.get("mock")


@pytest.fixture
def shim_target(request: pytest.FixtureRequest, servers: Servers) -> Target:
    """The shim in front of the synthetic mock (the suite's ``shim+mock`` target)."""
    skip_unless_selected(request.config, "shim+mock")
    return servers.get("shim+mock")


@pytest.fixture
def lone_mock(tmp_path: Path) -> Iterator[str]:
    """A synthetic mock in its own process (``mistral-mock serve``), stopped after the test: a request
    that makes it work for minutes must not slow every other test of the session."""
    with mock_process(["--api-key", "KEY"], tmp_path) as mock:
        yield mock.url


# --- the suite's own machinery: lenient servers and a demo suite (test_suite_machinery.py) ------------------


@pytest.fixture
def lenient_server() -> Iterator[str]:
    """A server answering a chat completion the openai SDK parses happily but OpenAI's spec refuses."""
    body = {**OPENAI_ANSWER, "choices": [{**OPENAI_ANSWER["choices"][0], "finish_reason": "model_length"}]}
    with Upstream(answer=json_answer(200, body)) as server:
        yield server.url


@pytest.fixture
def lenient_stream() -> Iterator[str]:
    """A server streaming three chunks, the last ending with a finish_reason OpenAI's spec refuses."""
    chunks = [
        {**OPENAI_CHUNK, "choices": [{**OPENAI_CHUNK["choices"][0], "finish_reason": reason}]}
        for reason in (None, None, "model_length")
    ]
    with Upstream(answer=sse_answer(chunks, chunked=True)) as server:
        yield server.url


DEMO = """
import pytest


@pytest.mark.feature("Demo", "works")
def test_works(target):
    assert target.base_url.endswith("/v1")


@pytest.mark.feature("Demo", "breaks as claimed")
def test_breaks_as_claimed(breaks, target):
    with breaks(ValueError, "raises ValueError without the shim"):
        if not target.via_shim:
            raise ValueError("no shim")


@pytest.mark.feature("Demo", "claims a breakage that does not happen")
def test_claims_a_breakage_that_does_not_happen(breaks):
    with breaks(ValueError, "never happens"):
        pass


@pytest.mark.feature("Demo", "breaks behind the shim too")
def test_breaks_behind_the_shim(breaks):
    with breaks(ValueError, "always raises"):
        raise ValueError("everywhere")


@pytest.mark.feature("Demo", "notes a silent breakage")
def test_notes_a_silent_breakage(breaks):
    breaks.note("wrong result, no error")


@pytest.mark.feature("Demo", "only on mock")
@pytest.mark.targets("mock")
def test_only_on_mock(target):
    assert target.name == "mock"


@pytest.mark.feature("Demo", "skipped")
def test_skipped(target):
    pytest.skip("nothing to see here")


@pytest.mark.feature("Demo", "known gap")
@pytest.mark.xfail(strict=True, reason="a documented gap")
def test_known_gap(target):
    assert False


@pytest.mark.feature("Demo", "gap closed")
@pytest.mark.xfail(strict=True, reason="a gap that closed")
def test_gap_closed(target):
    pass


@pytest.mark.feature("Demo", "no target")
@pytest.mark.column("elsewhere")
def test_without_a_target():
    pass
"""


@pytest.fixture
def demo(pytester: pytest.Pytester) -> pytest.Pytester:
    """A directory with the contract suite's conftest as a plugin and a demo suite to run through it."""
    pytester.makeconftest('pytest_plugins = ["contract_tests.conftest"]\n')
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = ignore::pytest.PytestAssertRewriteWarning\n"
    )
    folder = pytester.mkdir("contract_tests_demo")  # the matrix counts items under a contract_tests* folder
    (folder / "test_demo.py").write_text(DEMO, encoding="utf-8")
    return pytester
