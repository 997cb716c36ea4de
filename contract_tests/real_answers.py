"""Real Mistral answers saved outside cassettes, wrapped in vcrpy cassettes so ``import-vcr`` takes them too.

About sixty interactions of ``../shared/real-traffic`` are not cassettes: response bodies saved as files by
SDK test suites (``.json``, ``.sse``, vercel's JSON-lines ``.chunks.txt``), curl transcripts in Markdown and
one JSON list of request/response pairs. They hold the oldest shapes of Mistral's API (2023-12's ``cmpl-``
ids, 2024's tool calls without ids or ``index``, ``role: null`` on every chunk), which is why they are worth
replaying through the shim. Each becomes a one-interaction vcrpy cassette, written at test time into a
temporary folder and imported with the same command line as the real cassettes.

Where the request was recorded (curl transcripts, the pairs) it is used as it is. Where it was not, the
request is a stand-in: the model the answer names, and one user turn naming the file (for embeddings, one
input per recorded vector; for OCR, a document URL naming the file). Those cases exercise the answer side
only, and their matrix rows say so. Audio transcriptions and metadata files are out of scope.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MISTRAL = "https://api.mistral.ai"
BOM = "\ufeff"
_CURL = re.compile(r"curl -X POST '(?P<url>[^']+)'.*?-d '(?P<body>.*?)'\s*\n```", re.DOTALL)
_BLOCK = re.compile(r"```[a-z]*\n(?P<text>.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Saved:
    """One answer file turned into an interaction: the request (recorded or stand-in) and the answer."""

    name: str
    """The cassette's path under the answers folder: ``<repository>/<file name>.yaml``."""
    path: str
    request: dict[str, Any]
    response: str
    content_type: str
    request_recorded: bool


def _stand_in(kind: str, relative: str, answer: Any) -> dict[str, Any]:
    if kind == "embeddings":
        count = len(answer.get("data") or [])
        return {"model": answer["model"], "input": [f"Replay of {relative} #{i}" for i in range(count)]}
    if kind == "ocr":
        url = f"https://example.invalid/{Path(relative).stem}.pdf"
        return {"model": "mistral-ocr-latest", "document": {"type": "document_url", "document_url": url}}
    return {"model": answer["model"], "messages": [{"role": "user", "content": f"Replay of {relative}"}]}


def _kind(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return None
    if "choices" in answer:
        return "chat"
    if "pages" in answer:
        return "ocr"
    if answer.get("object") == "list" and any(
        isinstance(item, dict) and item.get("object") == "embedding" for item in answer.get("data") or []
    ):
        return "embeddings"
    return None  # a transcription, or a file that is not an answer (metadata)


PATHS = {"chat": "/v1/chat/completions", "embeddings": "/v1/embeddings", "ocr": "/v1/ocr"}


def _sse(lines: list[str]) -> str:
    """JSON-lines chunk payloads framed as Mistral sends them (the SDK's test harness re-adds this)."""
    return "".join(f"data: {line}\n\n" for line in lines) + "data: [DONE]\n\n"


def _from_file(root: Path, path: Path) -> list[Saved]:
    relative = path.relative_to(root).as_posix()
    repository = relative.split("/", 1)[0]
    name = f"{repository}/{path.name}.yaml"
    text = path.read_text(encoding="utf-8").removeprefix(BOM)  # a BOM is the saving editor's, not Mistral's
    if path.suffix == ".md":
        curl, blocks = _CURL.search(text), _BLOCK.findall(text)
        if curl is None or len(blocks) < 2:
            return []
        request = json.loads(curl["body"])
        answer = blocks[1]
        stream = answer.lstrip().startswith("data:")
        return [
            Saved(
                name,
                curl["url"].removeprefix(MISTRAL),
                request,
                answer.strip() + "\n\n" if stream else answer.strip(),
                "text/event-stream" if stream else "application/json",
                request_recorded=True,
            )
        ]
    if path.name.endswith(".vcr.json"):
        pairs = json.loads(text)
        saved = []
        for index, pair in enumerate(pairs):
            request, answer = pair[f"REQUEST-{index}"], pair[f"RESPONSE-{index}"]
            saved.append(
                Saved(
                    name,
                    PATHS["chat"],
                    request,
                    json.dumps(answer),
                    "application/json",
                    request_recorded=True,
                )
            )
        return saved
    if path.name.endswith(".chunks.txt"):
        lines = [line for line in text.splitlines() if line.strip()]
        request = _stand_in("chat", relative, json.loads(lines[0])) | {"stream": True}
        return [Saved(name, PATHS["chat"], request, _sse(lines), "text/event-stream", request_recorded=False)]
    if text.lstrip().startswith("data:"):
        first = json.loads(text.lstrip().split("\n", 1)[0].removeprefix("data:"))
        request = _stand_in("chat", relative, first) | {"stream": True}
        return [Saved(name, PATHS["chat"], request, text, "text/event-stream", request_recorded=False)]
    try:
        answer = json.loads(text)
    except ValueError:
        return []
    kind = _kind(answer)
    if kind is None:
        return []
    request = _stand_in(kind, relative, answer)
    return [Saved(name, PATHS[kind], request, text, "application/json", request_recorded=False)]


def saved_answers(root: Path) -> list[Saved]:
    """Every chat, embeddings and OCR answer saved outside a cassette under ``root``, sorted by path."""
    saved: list[Saved] = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".json", ".sse", ".txt", ".md") and path.parent != root:
            saved.extend(_from_file(root, path))
    return saved


def cassette_text(saved: list[Saved]) -> str:
    """A vcrpy cassette (the format pytest-recording writes) holding ``saved`` in order."""
    interactions = [
        {
            "request": {
                "body": json.dumps(item.request, ensure_ascii=False),
                "headers": {"Content-Type": ["application/json"]},
                "method": "POST",
                "uri": f"{MISTRAL}{item.path}",
            },
            "response": {
                "body": {"string": item.response},
                "headers": {"Content-Type": [item.content_type]},
                "status": {"code": 200, "message": "OK"},
            },
        }
        for item in saved
    ]
    return yaml.safe_dump({"interactions": interactions, "version": 1}, allow_unicode=True, sort_keys=False)


def write_cassettes(root: Path, folder: Path) -> list[tuple[Path, bool]]:
    """The answer cassettes written under ``folder``, with whether their request was recorded."""
    grouped: dict[str, list[Saved]] = {}
    for item in saved_answers(root):
        grouped.setdefault(item.name, []).append(item)
    written = []
    for name, items in grouped.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(cassette_text(items), encoding="utf-8")
        written.append((target, items[0].request_recorded))
    return written
