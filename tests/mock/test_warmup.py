"""The tokenizer loads for the chains that generate answers, and only they wait for it.

A replaying mock never needs Mistral's tokenizer: loading it anyway cost its first second and a half of
CPU, with every request waiting (the replay bench's answers/s halved). A chain that generates (the
synthetic mode, or authored fixtures, or one the pytest plugin switches to while the server runs) still
gets the tokenizer loaded in a thread, before its first answer.
"""

from pathlib import Path

import httpx2 as httpx

from mockserver.app import create_app
from mockserver.chain import CHAIN, build, switch
from mockserver.keys import WARM
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings

CHAT = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}]}
AUTH = {"Authorization": "Bearer k"}


def test_a_replaying_mock_never_starts_loading_the_tokenizer(tmp_path: Path) -> None:
    server = ServerThread(lambda: create_app(MockSettings(mode="replay", recordings=tmp_path)))
    with server as url:
        answer = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=AUTH)
        assert answer.status_code == 404, answer.text  # no recording: the miss, answered at once
        assert "No recording matched" in answer.json()["message"]
        assert not server.app[WARM].started


def test_a_synthetic_mock_starts_loading_it_at_startup() -> None:
    server = ServerThread(lambda: create_app(MockSettings()))
    with server as url:
        assert server.app[WARM].started
        answer = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=AUTH)
        assert answer.status_code == 200, answer.text
        assert server.app[WARM].done


def test_a_chain_switched_to_synthetic_loads_it_before_its_first_answer(tmp_path: Path) -> None:
    settings = MockSettings(mode="replay", recordings=tmp_path)
    server = ServerThread(lambda: create_app(settings, any_route=True))
    with server as url:
        assert not server.app[CHAIN].chain.generates
        assert not server.app[WARM].started
        server.run(lambda: switch(server.app, build(MockSettings())))
        assert server.app[CHAIN].chain.generates
        answer = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=AUTH)
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["content"]
        assert server.app[WARM].done
