"""A translated request, ready for the pipeline: what to send Mistral, and how to translate what comes back.

Every translated endpoint turns an OpenAI request into a ``Plan``, purely; the pipeline (``shim.pipeline``)
sends its bodies, one or several (a batch of embeddings split to fit Mistral's limit), and hands Mistral's
answers to ``answer``, or, when the client asked for a stream, each event to the translator ``stream``
makes. The pipeline knows nothing of any endpoint, and no endpoint knows HTTP.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from shim.translate.problem import OpenAIError


class StreamTranslation(Protocol):
    """One stream's state machine: Mistral's events in, the client's events out, nothing buffered."""

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]: ...

    def finish(self) -> list[dict[str, Any]]:
        """The events that follow Mistral's ``[DONE]``, before the client's own ``[DONE]``."""
        ...


class SelfEnding(Protocol):
    """A stream that ends with an event of its own rather than ``[DONE]`` (Mistral's audio streams end with
    ``transcription.done`` and ``speech.audio.done``): ``ended`` once that event was fed. Such a stream is
    complete when the upstream closes after it, and the client gets no ``[DONE]`` either, as OpenAI's own
    audio streams send none."""

    @property
    def ended(self) -> bool: ...


@dataclass(frozen=True)
class Raw:
    """An answer that is not JSON: the bytes and their content type (speech audio, subtitles, text)."""

    body: bytes
    content_type: str


@runtime_checkable
class LifecycleTranslation(StreamTranslation, Protocol):
    """A stream with events of its own around Mistral's: the Responses API opens with ``response.created``
    before Mistral's first chunk, and ends a failed stream with its own events rather than chat's error."""

    def start(self) -> list[dict[str, Any]]:
        """The events sent as soon as the stream is open."""
        ...

    def fail(self, error: OpenAIError) -> list[dict[str, Any]]:
        """The events that end a stream which failed after it started."""
        ...


@dataclass(frozen=True)
class StreamFraming:
    """How a translated stream is written: chat's ``data:`` events ending with ``data: [DONE]``, or the
    Responses API's named events (``event: <type>`` before each ``data:``), which end without a marker."""

    named: bool = False
    done: bool = True


CHAT_FRAMING = StreamFraming()
EVENT_FRAMING = StreamFraming(named=True, done=False)


@dataclass(frozen=True)
class Plan:
    path: str
    # One body per upstream request (None for a GET).
    bodies: tuple[dict[str, Any] | None, ...]
    # Mistral's JSON answers, one per body, in order → the client's answer.
    answer: Callable[[Sequence[Any]], Any]
    # Set when the client asked for a stream (then there is exactly one body).
    stream: Callable[[], StreamTranslation] | None = None
    # OpenAI parameters removed (``x-shim-dropped-params``) and repairs made (``x-shim-repairs``).
    dropped: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    method: str = "POST"
    framing: StreamFraming = CHAT_FRAMING
    # Run once the answer is known: after the JSON answer is made and before it is sent, or, in a stream,
    # after Mistral's end and before the last events (the Responses API starts its store's write there).
    settle: Callable[[], Awaitable[None]] | None = None
