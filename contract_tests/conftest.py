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
from openai import AsyncOpenAI, OpenAI

from contract_tests.matrix import BREAKS, Matrix
from contract_tests.oracle import Oracle
from contract_tests.targets import LIVE, LIVE_API, OFFLINE, RECORD, TARGETS, Servers, Target

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
