"""A scripted Mistral for the shim's tests of files, batch jobs, moderation and audio: ``FakeMistral``.

It runs inside ``testkit.upstream.Upstream(handler=fake.handle)`` and answers in Mistral's exact shapes, key
for key in the order of live traffic (ruby_llm, 2026-08; ../tools/notes/files-batches-moderation-audio.md):
the file object, ``{"data", "object", "total"}`` listings, the batch job with its seven statuses, output
lines ``{"id", "custom_id", "response": {"status_code", "body"}, "error"}``, moderation results, a
transcription with segments, speech as ``{"audio_data"}``. Nothing is validated beyond what a test needs:
the mock is the oracle of what Mistral accepts; this is a stand-in whose answers a test controls.

A job does nothing until the test runs it (``run_job``): every line is answered with a chat completion (or
an embedding list), except a line whose body asks for ``max_tokens: -1``, which Mistral fails in the error
file. ``moderation``, ``transcription`` and ``speech`` hold the next answers, for a test to change.
"""

import base64
import email.parser
import email.policy
import hashlib
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from openai import OpenAI

from testkit.upstream import Received, Upstream
from testkit.wire import Canned, json_answer

CHAT_ANSWER = {
    "id": "cmpl-1",
    "object": "chat.completion",
    "model": "mistral-small-latest",
    "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
    "created": 1786389977,
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "4",
                "tool_calls": None,
                "tool_call_id": None,
                "index": None,
                "metadata": None,
            },
            "finish_reason": "stop",
        }
    ],
}
"""A chat answer as a batch's output line carries it (the inline batch of ruby_llm, 2026-08)."""

MODERATION_V1 = {
    "sexual": 0.0011,
    "hate_and_discrimination": 0.0021,
    "violence_and_threats": 0.93,
    "dangerous_and_criminal_content": 0.41,
    "selfharm": 0.0004,
    "health": 0.0013,
    "financial": 0.0009,
    "law": 0.0017,
    "pii": 0.62,
}
"""Scores of ``mistral-moderation-2411``'s nine categories (the spec's example keys)."""


@dataclass
class StoredFile:
    meta: dict[str, Any]
    data: bytes


@dataclass
class Part:
    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None


def parse_form(received: Received) -> list[Part]:
    """A multipart body's parts, in order."""
    head = f"Content-Type: {received.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + received.body)
    parts = []
    for part in message.iter_parts():
        disposition = part.get("Content-Disposition", "")
        params = dict(part.get_params(header="content-disposition") or [])
        payload = part.get_payload(decode=True) or b""
        parts.append(
            Part(
                str(params.get("name", "")),
                payload,
                params.get("filename"),
                part.get("Content-Type") if "filename" in disposition else None,
            )
        )
    return parts


@dataclass
class FakeMistral:
    files: dict[str, StoredFile] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    moderation: dict[str, float] = field(default_factory=lambda: dict(MODERATION_V1))
    transcription: dict[str, Any] = field(default_factory=dict)
    transcription_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    speech: bytes = b"ID3\x04\x00fake-mp3"
    requests: list[Received] = field(default_factory=list)
    _clock: itertools.count = field(default_factory=lambda: itertools.count(1786389977))

    # --- routing ---

    def handle(self, received: Received) -> Canned:
        self.requests.append(received)
        method, path = received.method, received.path
        query = {k: v for k, v in parse_qs(received.target.partition("?")[2]).items()}
        parts = path.strip("/").split("/")[1:]  # without "v1"
        if parts == ["files"] and method == "POST":
            return self.upload(received)
        if parts == ["files"] and method == "GET":
            return self.list_files(query)
        if parts[:1] == ["files"] and len(parts) >= 2:
            stored = self.files.get(parts[1])
            if stored is None:
                return json_answer(404, {"detail": "File not found"})
            if len(parts) == 3 and parts[2] == "content":
                return Canned(200, stored.data, {"Content-Type": "application/octet-stream"}, chunked=True)
            if method == "DELETE":
                del self.files[parts[1]]
                return json_answer(200, {"id": parts[1], "object": "file", "deleted": True})
            return json_answer(200, {**stored.meta, "deleted": False})
        if parts == ["batch", "jobs"] and method == "POST":
            return self.create_job(json.loads(received.body))
        if parts == ["batch", "jobs"] and method == "GET":
            return self.list_jobs(query)
        if parts[:2] == ["batch", "jobs"] and len(parts) >= 3:
            job = self.jobs.get(parts[2])
            if job is None:
                return json_answer(404, {"detail": "Batch job not found"})
            if len(parts) == 4 and parts[3] == "cancel" and job["status"] in ("QUEUED", "RUNNING"):
                job["status"] = "CANCELLATION_REQUESTED"
            return json_answer(200, job)
        if parts == ["moderations"]:
            return self.moderate(json.loads(received.body))
        if parts == ["audio", "transcriptions"]:
            return self.transcribe(received)
        if parts == ["audio", "speech"]:
            return self.speak(json.loads(received.body))
        return json_answer(404, {"detail": "Not Found"})

    # --- files ---

    def add_file(self, data: bytes, filename: str, purpose: str, sample_type: str) -> str:
        file_id = str(uuid.uuid4())
        self.files[file_id] = StoredFile(
            {
                "id": file_id,
                "object": "file",
                "bytes": len(data),
                "created_at": next(self._clock),
                "filename": filename,
                "purpose": purpose,
                "sample_type": sample_type,
                "num_lines": data.count(b"\n") if purpose != "ocr" else 0,
                "mimetype": "application/jsonl" if filename.endswith(".jsonl") else "application/pdf",
                "source": "upload"
                if sample_type in ("batch_request", "instruct", "ocr_input")
                else "mistral",
                "signature": hashlib.md5(data, usedforsecurity=False).hexdigest(),
                "expires_at": None,
                "visibility": "workspace",
            },
            data,
        )
        return file_id

    def upload(self, received: Received) -> Canned:
        parts = {part.name: part for part in parse_form(received)}
        if "file" not in parts:
            return json_answer(422, {"detail": [{"loc": ["body", "file"], "msg": "Field required"}]})
        purpose = parts["purpose"].value.decode() if "purpose" in parts else "fine-tune"
        sample = {"batch": "batch_request", "ocr": "ocr_input"}.get(purpose, "instruct")
        file_id = self.add_file(parts["file"].value, parts["file"].filename or "file", purpose, sample)
        return json_answer(200, self.files[file_id].meta)

    def list_files(self, query: dict[str, list[str]]) -> Canned:
        page = int(query.get("page", ["0"])[0])
        size = int(query.get("page_size", ["100"])[0])
        chosen = [
            stored.meta
            for stored in reversed(self.files.values())
            if ("purpose" not in query or stored.meta["purpose"] in query["purpose"])
            and ("sample_type" not in query or stored.meta["sample_type"] in query["sample_type"])
        ]
        body = {"data": chosen[page * size : (page + 1) * size], "object": "list", "total": len(chosen)}
        return json_answer(200, body)

    # --- batch jobs ---

    def create_job(self, body: dict[str, Any]) -> Canned:
        job_id = str(uuid.uuid4())
        self.jobs[job_id] = {
            "id": job_id,
            "object": "batch",
            "input_files": body.get("input_files") or [],
            "metadata": body.get("metadata"),
            "endpoint": body["endpoint"],
            "model": body.get("model"),
            "agent_id": None,
            "output_file": None,
            "error_file": None,
            "errors": [],
            "outputs": None,
            "status": "QUEUED",
            "created_at": next(self._clock),
            "total_requests": 0,
            "completed_requests": 0,
            "succeeded_requests": 0,
            "failed_requests": 0,
            "started_at": None,
            "completed_at": None,
        }
        return json_answer(200, self.jobs[job_id])

    def list_jobs(self, query: dict[str, list[str]]) -> Canned:
        page = int(query.get("page", ["0"])[0])
        size = int(query.get("page_size", ["100"])[0])
        ordered = list(reversed(self.jobs.values()))
        return json_answer(
            200, {"data": ordered[page * size : (page + 1) * size], "object": "list", "total": len(ordered)}
        )

    def run_job(self, job_id: str) -> None:
        """Answer every line of the job's input (chat or embeddings), and finish it."""
        job = self.jobs[job_id]
        lines = [
            json.loads(line)
            for file_id in job["input_files"]
            for line in self.files[file_id].data.splitlines()
            if line.strip()
        ]
        outputs, failures = [], []
        for number, line in enumerate(lines):
            line_id = f"batch-{job_id[:8]}-{job['input_files'][0][:8]}-{number}"
            if line["body"].get("max_tokens") == -1:
                detail = [{"type": "greater_than_equal", "loc": ["body", "max_tokens"], "msg": "bad"}]
                failures.append(
                    {
                        "id": line_id,
                        "custom_id": line["custom_id"],
                        "response": {"status_code": 422, "body": {"detail": detail}},
                        "error": None,
                    }
                )
                continue
            if job["endpoint"] == "/v1/embeddings":
                texts = line["body"]["input"]
                count = len(texts) if isinstance(texts, list) else 1
                answer: dict[str, Any] = {
                    "id": "emb-1",
                    "object": "list",
                    "data": [
                        {"object": "embedding", "embedding": [0.5, -0.25], "index": i} for i in range(count)
                    ],
                    "model": job["model"],
                    "usage": {"prompt_tokens": 3, "total_tokens": 3, "completion_tokens": 0},
                }
            else:
                answer = {**CHAT_ANSWER, "model": job["model"]}
            outputs.append(
                {
                    "id": line_id,
                    "custom_id": line["custom_id"],
                    "response": {"status_code": 200, "body": answer},
                    "error": None,
                }
            )
        started = job["created_at"] + 1
        job.update(status="SUCCESS", total_requests=len(lines), started_at=started, completed_at=started + 25)
        job.update(
            completed_requests=len(lines), succeeded_requests=len(outputs), failed_requests=len(failures)
        )
        if outputs:
            data = b"".join(json.dumps(line).encode() + b"\n" for line in outputs)
            job["output_file"] = self.add_file(data, f"{job_id}.jsonl", "batch", "batch_result")
        if failures:
            data = b"".join(json.dumps(line).encode() + b"\n" for line in failures)
            job["error_file"] = self.add_file(data, f"{job_id}_error.jsonl", "batch", "batch_error")

    # --- moderation and audio ---

    def moderate(self, body: dict[str, Any]) -> Canned:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        results = [
            {
                "categories": {key: score >= 0.5 for key, score in self.moderation.items()},
                "category_scores": dict(self.moderation),
            }
            for _ in texts
        ]
        return json_answer(200, {"id": uuid.uuid4().hex, "model": body["model"], "results": results})

    def transcribe(self, received: Received) -> Canned:
        fields: dict[str, list[str]] = {}
        for part in parse_form(received):
            if part.name != "file":
                fields.setdefault(part.name, []).append(part.value.decode())
        if fields.get("stream") == ["true"]:
            events = self.transcription_events or default_transcription_events()
            body = b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)
            return Canned(200, body, {"Content-Type": "text/event-stream"}, chunked=True)
        answer = self.transcription or default_transcription(fields)
        return json_answer(200, answer)

    def speak(self, body: dict[str, Any]) -> Canned:
        if body.get("stream"):
            audio = base64.b64encode(self.speech).decode()
            events = [
                ("speech.audio.delta", {"type": "speech.audio.delta", "audio_data": audio}),
                (
                    "speech.audio.done",
                    {
                        "type": "speech.audio.done",
                        "usage": {"prompt_tokens": 12, "completion_tokens": 40, "total_tokens": 52},
                    },
                ),
            ]
            data = b"".join(f"event: {name}\ndata: {json.dumps(d)}\n\n".encode() for name, d in events)
            return Canned(200, data, {"Content-Type": "text/event-stream"}, chunked=True)
        return json_answer(200, {"audio_data": base64.b64encode(self.speech).decode()})


def default_transcription(fields: dict[str, list[str]]) -> dict[str, Any]:
    """Mistral's answer with two segments (the shape of vercel's diarized fixture, 2025-26)."""
    with_segments = bool(fields.get("timestamp_granularities")) or fields.get("diarize") == ["true"]
    segments = [
        {"type": "transcription_segment", "text": "Ruby is a programming language", "start": 0.1, "end": 2.0},
        {
            "type": "transcription_segment",
            "text": " designed for developer happiness.",
            "start": 2.0,
            "end": 3.6,
        },
    ]
    if fields.get("diarize") == ["true"]:
        for segment in segments:
            segment["speaker_id"] = "speaker_1"
    return {
        "model": fields.get("model", ["voxtral-mini-latest"])[0],
        "text": "Ruby is a programming language designed for developer happiness.",
        "language": None,
        "segments": segments if with_segments else [],
        "usage": {
            "prompt_audio_seconds": 3,
            "prompt_tokens": 3,
            "total_tokens": 389,
            "completion_tokens": 11,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 375},
        },
        "finish_reason": None,
    }


def default_transcription_events() -> list[tuple[str, dict[str, Any]]]:
    text = ["Ruby is", " a language."]
    return [
        ("transcription.language", {"type": "transcription.language", "audio_language": "en"}),
        *[
            ("transcription.text.delta", {"type": "transcription.text.delta", "text": piece})
            for piece in text
        ],
        (
            "transcription.segment",
            {"type": "transcription.segment", "text": "Ruby is a language.", "start": 0.0, "end": 1.5},
        ),
        (
            "transcription.done",
            {
                "type": "transcription.done",
                "model": "voxtral-mini-latest",
                "text": "".join(text),
                "language": "en",
                "segments": [],
                "usage": {
                    "prompt_audio_seconds": 2,
                    "prompt_tokens": 3,
                    "total_tokens": 20,
                    "completion_tokens": 5,
                },
            },
        ),
    ]


@dataclass
class Faked:
    """A shim in front of a ``FakeMistral``: the fake, the openai client on the shim, the shim's root URL,
    and the upstream server (every request the shim sent is in ``upstream.received``)."""

    mistral: FakeMistral
    client: OpenAI
    shim_url: str
    upstream: Upstream
