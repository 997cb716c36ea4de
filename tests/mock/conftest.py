"""Fixtures of the mock's tests: recordings to replay."""

from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from mockserver.app import create_app
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from testkit.auth import AUTH
from testkit.wire import CHAT, CHAT_STREAM


@pytest.fixture(scope="module")
def replay_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One plain chat answer, one stream and the models list, recorded from a synthetic upstream."""
    folder = tmp_path_factory.mktemp("faults") / "recordings"
    with (
        ServerThread(lambda: create_app(MockSettings())) as upstream,
        ServerThread(
            lambda: create_app(MockSettings(mode="record", upstream=upstream, recordings=folder))
        ) as rec,
        httpx.Client(base_url=rec, headers=AUTH) as client,
    ):
        assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
        assert client.post("/v1/chat/completions", json=CHAT_STREAM).status_code == 200
        assert client.get("/v1/models").status_code == 200
    yield folder
