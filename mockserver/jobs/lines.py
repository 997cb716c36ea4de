"""One line of a batch job, answered by the mock's own engine: the contract, then a recording or a generator.

A line is judged exactly as the same request sent to its endpoint would be (``validation.accept``): a line
Mistral would refuse gets Mistral's status and body, and goes to the job's error file. An accepted line is
answered by a recording of the same request when the mock replays (``--on-miss synthetic``), else by the
synthetic generator, as the live endpoint would answer it.

A chat answer inside a batch is not the endpoint's answer byte for byte: the live API writes its message
with every optional key (``"tool_calls": null, "tool_call_id": null, "index": null, "metadata": null``),
its keys in another order (``id, object, model, usage, created, choices``) and a longer ``usage`` (ruby_llm's
batch, 2026-08). ``batch_flavour`` does the same to the mock's answer.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mistral_wire.contract.errors import MistralError, ValidationShape, envelope
from mockserver import validation
from mockserver.recording.format import Body
from mockserver.recording.store import RecordingStore
from mockserver.sources.synthetic.answers import POST_ROUTES

BATCH_USAGE_DEFAULTS: dict[str, Any] = {
    "prompt_audio_seconds": None,
    "prompt_token_details": None,
    "request_count": 0,
    "prompt_tokens_details": {"messages": [], "cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": None,
    "service_tier": None,
}
MESSAGE_DEFAULTS: dict[str, Any] = {"tool_calls": None, "tool_call_id": None, "index": None, "metadata": None}
CHAT_KEY_ORDER = ("id", "object", "model", "usage", "created", "choices")


@dataclass(frozen=True)
class LineAnswer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status == 200


def batch_flavour(body: dict[str, Any]) -> dict[str, Any]:
    """A chat completion as a batch output line carries it (see the module's docstring)."""
    usage = {
        **{k: body["usage"][k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")},
        **BATCH_USAGE_DEFAULTS,
    }
    choices = []
    for choice in body.get("choices", []):
        sent = choice["message"]
        message = {"role": sent.get("role"), "content": sent.get("content")}
        message.update({key: sent.get(key, default) for key, default in MESSAGE_DEFAULTS.items()})
        message.update(sent)
        rest = {k: v for k, v in choice.items() if k not in ("index", "finish_reason", "message")}
        choices.append(
            {"index": choice["index"], "finish_reason": choice["finish_reason"], "message": message, **rest}
        )
    flavoured = {**body, "usage": usage, "choices": choices}
    ordered = {key: flavoured[key] for key in CHAT_KEY_ORDER if key in flavoured}
    return {**ordered, **flavoured}


def _flavoured(endpoint: str, answer: LineAnswer) -> LineAnswer:
    """A chat answer as a batch line carries it (a recorded one too: it was the endpoint's)."""
    if endpoint == "/v1/chat/completions" and answer.ok and isinstance(answer.body, dict):
        return LineAnswer(answer.status, batch_flavour(answer.body))
    return answer


class LineEngine:
    """Answers lines; one engine per mock. ``recordings`` gives the recordings it replays from (None when it
    generates), asked per line: the pytest plugin switches a running mock from one folder to another."""

    def __init__(
        self,
        recordings: Callable[[], RecordingStore | None] = lambda: None,
        shape: ValidationShape = "envelope",
    ) -> None:
        self.recordings = recordings
        self.shape = shape

    def answer(self, endpoint: str, body: Any) -> LineAnswer:
        """The status and body Mistral would answer this line with. Runs in a worker thread."""
        raw = json.dumps(body, ensure_ascii=False).encode()
        if endpoint not in validation.VALIDATORS or endpoint not in POST_ROUTES:
            message = f"The mock does not answer {endpoint} requests in batch jobs."
            return LineAnswer(400, envelope(message, "invalid_request_error"))
        try:
            accepted = validation.accept(endpoint, raw, "application/json")
        except MistralError as error:
            return LineAnswer(error.status, json.loads(error.render(self.shape)))
        recorded = self._recorded(endpoint, raw)
        if recorded is not None:
            return _flavoured(endpoint, recorded)
        try:
            outcome = POST_ROUTES[endpoint](accepted)
        except MistralError as error:  # refused at answer time (an OCR document that cannot be read)
            return LineAnswer(error.status, json.loads(error.render(self.shape)))
        return _flavoured(endpoint, LineAnswer(200, outcome.json(int(time.time()))))

    def _recorded(self, endpoint: str, raw: bytes) -> LineAnswer | None:
        store = self.recordings()
        if store is None:
            return None
        found = store.find("POST", endpoint, "", Body.from_bytes(raw))
        if found is None or found[1].is_stream or found[1].response_body is None:
            return None
        recording = found[1]
        assert recording.response_body is not None
        return LineAnswer(recording.status, recording.response_body.parsed())
