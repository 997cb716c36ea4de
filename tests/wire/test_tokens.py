"""The tokenizers (``mistral_wire.tokens``), which both servers count tokens with."""

import threading

from mistral_wire import tokens


def test_a_tokenizer_loads_once_when_two_threads_ask_together() -> None:
    # The background warm-up and the first request used to load the tokenizer twice at the same time.
    calls = []
    entered, release = threading.Event(), threading.Event()

    @tokens.single_flight
    def load(kind: str) -> str:
        calls.append(kind)
        entered.set()
        release.wait(5)
        return f"loaded {kind}"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(load("tekken")))
    first.start()
    assert entered.wait(5)
    second = threading.Thread(target=lambda: results.append(load("tekken")))
    second.start()
    second.join(0.05)
    assert second.is_alive(), "the second caller waits for the load under way"
    assert calls == ["tekken"], "the second caller waits instead of loading again"
    release.set()
    first.join(5)
    second.join(5)
    assert results == ["loaded tekken", "loaded tekken"]
    assert calls == ["tekken"]
    assert load("spm-v3") == "loaded spm-v3" and calls == ["tekken", "spm-v3"]
