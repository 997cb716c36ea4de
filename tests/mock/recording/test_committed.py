"""The fixtures committed in recordings/mistral replay offline to Mistral's SDK, as recorded."""

import json

import pytest
from mistralai.client import Mistral, errors

from mockserver.app import create_app
from mockserver.chain import CHAIN
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from testkit.paths import ROOT
from testkit.scenarios import scenarios

RECORDINGS = ROOT / "recordings" / "mistral"


def test_every_scenario_replays_and_every_recording_is_used() -> None:
    apps = []

    def make():  # type: ignore[no-untyped-def]
        apps.append(create_app(MockSettings(mode="replay", recordings=RECORDINGS, speed=0)))
        return apps[-1]

    with ServerThread(make) as url:
        client = Mistral(api_key="any-key", server_url=url)
        for name, run in scenarios(client).items():
            if name.startswith("error"):
                with pytest.raises(errors.SDKError) as refused:
                    run()
                assert refused.value.status_code == 400, name
                assert "recording_not_found" not in refused.value.body
            else:
                assert run() is not None, name
        store = apps[0][CHAIN].chain.store
        assert store is not None and store.unused() == []


def test_committed_recordings_hold_no_key() -> None:
    for path in RECORDINGS.rglob("*.json"):
        text = path.read_text()
        data = json.loads(text)
        assert "authorization" not in {h.lower() for h in data["request"]["headers"]}
        assert "offline-recording-key" not in text
