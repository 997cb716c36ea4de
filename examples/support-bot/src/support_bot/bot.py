"""The bot: replies, streamed replies, ticket triage (JSON mode), order lookups (tools), FAQ search
(embeddings). Plain OpenAI-SDK code, with OpenAI's habits: a ``developer`` turn, ``seed``,
``max_completion_tokens``, ``user``, and OpenAI model names that the shim maps to Mistral's (shim.toml).
"""

import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from openai import OpenAI

CHAT_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
PERSONA = "You are Ada, the support assistant of Acme Shoes. Answer in at most two sentences."
ORDER_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order's shipping status by its id.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string", "description": "e.g. A-17"}},
            "required": ["order_id"],
        },
    },
}
CATEGORIES = ("billing", "shipping", "returns", "other")


@dataclass(frozen=True)
class Triage:
    category: str
    urgent: bool


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


class SupportBot:
    def __init__(
        self, client: OpenAI | None = None, orders: Callable[[str], dict[str, Any]] | None = None
    ) -> None:
        # OpenAI() reads OPENAI_BASE_URL and OPENAI_API_KEY: in production, the shim's URL.
        self.client = client or OpenAI()
        self.orders = orders or (lambda order_id: {"order_id": order_id, "status": "unknown"})

    def _messages(self, question: str) -> list[dict[str, Any]]:
        return [{"role": "developer", "content": PERSONA}, {"role": "user", "content": question}]

    def reply(self, question: str, customer: str = "anonymous") -> str:
        answer = self.client.chat.completions.create(
            model=CHAT_MODEL,
            messages=self._messages(question),  # type: ignore[arg-type]
            seed=7,
            max_completion_tokens=120,
            user=customer,
        )
        return answer.choices[0].message.content or ""

    def stream_reply(self, question: str) -> Iterator[str]:
        stream = self.client.chat.completions.create(
            model=CHAT_MODEL,
            messages=self._messages(question),  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content

    def triage(self, ticket: str) -> Triage:
        """The ticket's category and urgency, as JSON the model is asked for."""
        answer = self.client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[
                {
                    "role": "developer",
                    "content": "Classify the ticket. Answer in JSON: "
                    f'{{"category": one of {list(CATEGORIES)}, "urgent": true or false}}',
                },
                {"role": "user", "content": ticket},
            ],
            response_format={"type": "json_object"},
        )
        data = json.loads(answer.choices[0].message.content or "{}")
        category = data.get("category") if data.get("category") in CATEGORIES else "other"
        return Triage(category, bool(data.get("urgent")))

    def answer_with_tools(self, question: str, max_steps: int = 3) -> str:
        """Let the model look orders up, then answer."""
        messages: list[Any] = self._messages(question)
        for _ in range(max_steps):
            answer = self.client.chat.completions.create(
                model=CHAT_MODEL,
                messages=messages,
                tools=[ORDER_TOOL],  # type: ignore[list-item]
            )
            message = answer.choices[0].message
            if not message.tool_calls:
                return message.content or ""
            messages.append(message)
            for call in message.tool_calls:
                arguments = json.loads(call.function.arguments)  # type: ignore[union-attr]
                result = self.orders(arguments["order_id"])
                messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
        return "Sorry, I could not find that out."

    def closest_faq(self, question: str, faq: Sequence[str]) -> str:
        """The FAQ entry whose embedding is closest to the question's."""
        vectors = self.client.embeddings.create(model=EMBEDDING_MODEL, input=[question, *faq]).data
        query = vectors[0].embedding
        scores = [_cosine(query, item.embedding) for item in vectors[1:]]
        return faq[scores.index(max(scores))]
