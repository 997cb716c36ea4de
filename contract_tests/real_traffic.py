"""The corpus of real Mistral traffic in ``../shared/real-traffic``, imported and served for replay.

The cassettes are read where they lie at collection time (to name one test per interaction) and converted
at test time by ``mistral-mock import-vcr``, run as a user runs it, into a temporary folder: nothing derived
from them is ever written into the project.

A replaying mock answers repeated identical requests in recorded order, and the corpus holds the same
request up to eight times (one test suite's sync and async variants, re-recorded cassettes). One mock
serving everything would make a test's answer depend on which tests ran before it, so the recordings are
spread over layers: layer ``n`` holds the ``n``-th recording of every request, each layer is served by its
own replaying mock with a shim in front, and each test asks the layer of its interaction.

The layers hold copies, and a copy differs from what ``import-vcr`` wrote in one documented way only:
``reverse.equivalent_chat_body`` (an assistant turn's textless content beside tool calls left out, as the
shim sends it and as Mistral reads it anyway).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from contract_tests.real_answers import write_cassettes
from contract_tests.reverse import equivalent_chat_body
from mockserver.app import create_app as create_mock
from mockserver.recording import matching
from mockserver.recording.cassettes import Interaction, iter_cassette_files, load_cassette
from mockserver.recording.format import Body
from mockserver.recording.importer import to_recording
from mockserver.recording.store import endpoint_name, file_stem
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from shim.app import create_app as create_shim
from shim.settings import ShimSettings
from testkit.paths import shared_dir

KEY = "real-traffic-key"
REAL_TRAFFIC = "real-traffic"
ENDPOINTS = {
    ("POST", "/v1/chat/completions"): "chat",
    ("POST", "/v1/embeddings"): "embeddings",
    ("POST", "/v1/ocr"): "OCR",
    ("GET", "/v1/models"): "models",
}
"""The routes this oracle replays (audio, files and batch jobs have no OpenAI counterpart in the shim)."""


@dataclass(frozen=True)
class Case:
    """One recorded interaction, and where its recording lands once imported."""

    id: str
    interaction: Interaction
    endpoint: str
    layer: int
    """1 for the first recording of its request, 2 for the second identical request, ..."""
    file: str
    """The imported recording's path relative to the import folder."""
    served_body: Any = None
    """The request body of the layer's copy of the recording, where ``equivalent_chat_body`` changed it."""
    request_recorded: bool = True
    """False for an answer saved without its request (``real_answers``): the request is a stand-in."""

    @property
    def stream(self) -> bool:
        return self.interaction.response.events is not None


def corpus_root() -> Path | None:
    shared = shared_dir()
    root = shared / REAL_TRAFFIC if shared is not None else None
    return root if root is not None and root.is_dir() else None


@dataclass(frozen=True)
class Source:
    """One cassette given to ``import-vcr``: a real one, or one ``real_answers`` wrote."""

    cassette: Path
    label: str
    """How test ids name it: ``<repository>/<path in the repository's folder>``."""
    request_recorded: bool = True


def _label(root: Path, cassette: Path, suffix: str = "") -> str:
    repository, _, rest = cassette.relative_to(root).as_posix().partition("/")
    return f"{repository.split('__')[-1]}/{rest.removesuffix(suffix)}"


def sources(root: Path, answers: Path) -> list[Source]:
    """The real cassettes under ``root``, then the answer cassettes written under ``answers``."""
    real = [Source(path, _label(root, path)) for path in iter_cassette_files(root)]
    written = write_cassettes(root, answers)
    wrapped = [Source(path, _label(answers, path, ".yaml"), recorded) for path, recorded in written]
    return real + wrapped


def load_cases(given: list[Source]) -> list[Case]:
    """Every replayable interaction, in the order ``import-vcr`` is given the cassettes."""
    cases: list[Case] = []
    keys: Counter[str] = Counter()
    stems: Counter[str] = Counter()
    for source in given:
        cassette = source.cassette
        for position, interaction in enumerate(load_cassette(cassette)):
            recording = to_recording(interaction, cassette.name)
            default_key = matching.request_key(
                recording.method, recording.path, recording.query, recording.request_body
            )
            stem = file_stem(recording, default_key)
            served = None
            if interaction.request.path == "/v1/chat/completions":
                body = recording.request_body.parsed()
                equivalent = equivalent_chat_body(body)
                served = None if equivalent is body else equivalent
            key = default_key
            if served is not None:
                key = matching.request_key(
                    recording.method, recording.path, recording.query, Body(value=served)
                )
            keys[key] += 1
            stems[stem] += 1
            name = f"{stem}.json" if stems[stem] == 1 else f"{stem}.{stems[stem]}.json"
            endpoint = ENDPOINTS.get((interaction.request.method, interaction.request.path))
            if endpoint is None:
                continue
            file = f"{endpoint_name(recording.path)}/{name}"
            case_id = f"{source.label}#{position}"
            cases.append(
                Case(case_id, interaction, endpoint, keys[key], file, served, source.request_recorded)
            )
    return cases


def mistral_mock_command() -> list[str]:
    """``mistral-mock`` as installed next to this interpreter (``python -m mockserver`` otherwise)."""
    script = Path(sys.executable).with_name("mistral-mock")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "mockserver"]


def import_vcr(files: list[Path], out: Path) -> str:
    """Run ``mistral-mock import-vcr`` over ``files`` into ``out``; return its summary."""
    done = subprocess.run(
        [*mistral_mock_command(), "import-vcr", *map(str, files), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import-vcr failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Layers:
    """One replaying mock with a shim in front per layer, started on first use, all stopped at the end."""

    def __init__(self, imported: Path, cases: list[Case], work: Path) -> None:
        self._stack = ExitStack()
        self._urls: dict[int, tuple[str, str]] = {}
        self._folders: dict[int, Path] = {}
        self.cases = len(cases)
        for case in cases:
            source = imported / case.file
            if not source.is_file():
                raise FileNotFoundError(f"import-vcr wrote no {case.file} for {case.id}")
            target = work / f"layer-{case.layer}" / case.file
            target.parent.mkdir(parents=True, exist_ok=True)
            if case.served_body is not None:
                data = json.loads(source.read_text(encoding="utf-8"))
                data["request"].pop("text", None)
                data["request"]["body"] = case.served_body
                target.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
            elif not target.exists():
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copyfile(source, target)
            self._folders[case.layer] = work / f"layer-{case.layer}"

    def _serve(self, make: Callable[[], web.Application]) -> str:
        return self._stack.enter_context(ServerThread(make))

    def urls(self, layer: int) -> tuple[str, str]:
        """``(shim, mock)`` root URLs of a layer."""
        if layer not in self._urls:
            config = MockSettings(
                mode="replay",
                recordings=self._folders[layer],
                speed=0.0,
                on_miss="error",
                api_keys=frozenset({KEY}),
            )
            mock = self._serve(lambda: create_mock(config))
            shim = self._serve(lambda: create_shim(ShimSettings(upstream=mock, responses_store="memory://")))
            self._urls[layer] = (shim, mock)
        return self._urls[layer]

    def close(self) -> None:
        self._stack.close()
