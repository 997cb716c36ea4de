"""Whether a synthetic answer calls tools, which ones, and with what arguments.

``tool_choice`` decides first: ``none`` never calls; ``any``/``required`` and a named function always do.
Under ``auto`` the model calls a tool when the last user turn plainly asks for it, that is when it names
the function or a distinctive word of its name ("weather" for ``get_weather``). After tool results it
answers in prose, as a model closing the loop would.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from mistral_wire.contract import chunks, messages
from mistral_wire.contract.requests import ChatCompletionRequest
from mistral_wire.contract.tools import Function, Tool, ToolChoice
from mockserver.sources.synthetic import schema_values, seeds

# Words that say nothing about what a function is for.
_GENERIC = frozenset(
    """get set fetch make do run call the a an of for to by with and or list create update delete add
    remove find compute calculate check retrieve lookup look up read write send tool function api data
    info current""".split()
)


@dataclass(frozen=True)
class PlannedCall:
    id: str
    name: str
    arguments: str


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.text for p in content if isinstance(p, chunks.TextChunk))
    return ""


def last_user_text(request: ChatCompletionRequest) -> str:
    for message in reversed(request.messages):
        if isinstance(message, messages.UserMessage):
            return text_of(message.content)
    return ""


def _keywords(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    words = {w.lower() for w in re.split(r"[\s_\-.]+", spaced) if len(w) >= 3}
    return words - _GENERIC


def _mentions(text: str, function: Function) -> int:
    lowered = text.lower()
    if function.name.lower() in lowered or function.name.replace("_", " ").lower() in lowered:
        return 100
    found = set(re.findall(r"[a-z0-9]+", lowered))
    found |= {w[:-1] for w in found if w.endswith("s")}
    return len(_keywords(function.name) & found)


def _functions(request: ChatCompletionRequest) -> list[Function]:
    return [tool.function for tool in request.tools or [] if isinstance(tool, Tool)]


def _chosen(request: ChatCompletionRequest, functions: list[Function], text: str) -> list[Function]:
    choice = request.tool_choice
    if isinstance(choice, ToolChoice):
        return [f for f in functions if f.name == choice.function.name][:1] or functions[:1]
    if choice == "none":
        return []
    ranked = sorted(functions, key=lambda f: -_mentions(text, f))
    mentioned = [f for f in functions if _mentions(text, f) > 0]
    if choice in ("any", "required"):
        picked = mentioned or ranked[:1]
    else:
        if isinstance(request.messages[-1], messages.ToolMessage):
            return []
        picked = mentioned
    return picked if request.parallel_tool_calls else picked[:1]


def plan(request: ChatCompletionRequest, seed: int) -> list[PlannedCall]:
    """The calls the synthetic model makes, with arguments valid against each tool's schema."""
    functions = _functions(request)
    if not functions:
        return []
    text = last_user_text(request)
    calls = []
    for index, function in enumerate(_chosen(request, functions, text)):
        value = schema_values.generate(function.parameters, seeds.derive(seed, "args", index), text)
        calls.append(
            PlannedCall(
                id=seeds.tool_call_id(seed, index),
                name=function.name,
                # Mistral writes arguments with Python's json.dumps defaults: '{"city": "Paris"}'.
                arguments=json.dumps(value, ensure_ascii=False),
            )
        )
    return calls
