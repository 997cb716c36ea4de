"""Fixtures of the recording tests: the real cassettes (``../shared/real-traffic``), read and imported, and a
round trip recorded once per module."""

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from mockserver.app import create_app
from mockserver.cli import main as mistral_mock
from mockserver.recording.cassettes import Interaction, iter_cassette_files, load_cassette
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from testkit.paths import REAL_TRAFFIC, require_shared
from testkit.scenarios import INTERACTIONS, RECORDING_HEADERS, send

# --- the real cassettes, as the reader loads them (test_cassettes.py) ---------------------------------------


@pytest.fixture(scope="module")
def corpus() -> dict[Path, list[Interaction]]:
    """Every interaction of every real cassette, Mistral or not, by file."""
    if not REAL_TRAFFIC.is_dir():
        pytest.skip(f"real recordings not present at {REAL_TRAFFIC}")
    return {path: load_cassette(path, mistral_only=False) for path in iter_cassette_files(REAL_TRAFFIC)}


@pytest.fixture(scope="module")
def mistral_corpus(corpus: dict[Path, list[Interaction]]) -> dict[Path, list[Interaction]]:
    """Only the Mistral interactions, as ``load_cassette`` filters them by default."""
    return {path: load_cassette(path) for path in corpus}


# --- the real cassettes, imported by ``mistral-mock import-vcr`` and replayed (test_import.py) --------------

# The routes whose imported interactions are sent again.
ROUTES = ("/v1/chat/completions", "/v1/embeddings", "/v1/ocr", "/v1/models")


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], str]:
    """Every cassette converted once by the command line: the folder, the cassettes and the summary."""
    files = list(iter_cassette_files(require_shared() / "real-traffic"))
    out = tmp_path_factory.mktemp("imported")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert mistral_mock(["import-vcr", *map(str, files), "--out", str(out)]) == 0
    return out, files, printed.getvalue()


@pytest.fixture(scope="module")
def imported(converted: tuple[Path, list[Path], str]) -> tuple[Path, list[Interaction]]:
    """The converted folder, with the interactions to send again in cassette order."""
    out, files, _ = converted
    interactions = [
        i
        for f in files
        for i in load_cassette(f)
        if i.request.path.startswith(ROUTES) and i.request.method in ("GET", "POST")
    ]
    return out, interactions


@pytest.fixture
def replaying_mock(imported: tuple[Path, list[Interaction]]) -> Iterator[tuple[str, list[Interaction]]]:
    """A fresh replaying mock per test: repeated requests are answered in recorded order from the start."""
    out, interactions = imported
    with ServerThread(lambda: create_app(MockSettings(mode="replay", recordings=out, speed=0))) as url:
        yield url, interactions


# --- one round trip through a recorder (test_roundtrip.py) --------------------------------------------------


@pytest.fixture(scope="module")
def recorded(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, tuple[int, dict[str, str], bytes]]]]:
    """Every interaction sent through a recorder in front of a synthetic upstream (20 ms between events)."""
    folder = tmp_path_factory.mktemp("roundtrip") / "recordings"
    with ServerThread(lambda: create_app(MockSettings(chunk_ms=20))) as upstream:
        config = MockSettings(mode="record", upstream=upstream, recordings=folder)
        with (
            ServerThread(lambda: create_app(config)) as recorder,
            httpx.Client(base_url=recorder, headers=RECORDING_HEADERS) as client,
        ):
            answers = {name: send(client, method, path, body) for name, method, path, body in INTERACTIONS}
    yield folder, answers
