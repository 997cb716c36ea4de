"""The support bot's tests, offline: recorded answers for the plumbing, authored ones for the content.

``test_reply`` and ``test_stream_reply`` replay what was recorded once (tests/recordings/); the tests marked
with the module's fixtures file get the answers it authors (tests/fixtures.yaml), whatever was recorded.
Re-record with a key: ``MISTRAL_API_KEY=... pytest --mistral-record-mode=all``.
"""

import openai
import pytest
from support_bot import SupportBot, Triage

pytestmark = pytest.mark.mistral_fixtures("fixtures.yaml")

FAQ = [
    "How long does shipping take? Five working days.",
    "How do I return shoes? Send them back within 30 days, free of charge.",
    "When am I charged? When your order ships.",
]


def test_reply(bot: SupportBot) -> None:
    assert bot.reply("Hello, do you sell running shoes?", customer="c-42")


def test_stream_reply(bot: SupportBot) -> None:
    pieces = list(bot.stream_reply("What are your opening hours?"))
    assert len(pieces) > 1, "the answer is streamed in pieces"
    assert "".join(pieces).strip()


def test_triage_reads_the_models_json(bot: SupportBot) -> None:
    assert bot.triage("My parcel hasn't arrived and I leave tomorrow!") == Triage("shipping", urgent=True)
    assert bot.triage("I was charged twice on my invoice.") == Triage("billing", urgent=False)


def test_the_bot_looks_the_order_up_before_answering(bot: SupportBot) -> None:
    looked_up: list[str] = []
    original = bot.orders
    bot.orders = lambda order_id: looked_up.append(order_id) or original(order_id)
    assert bot.answer_with_tools("Where is my order A-17?") == "Your order A-17 has shipped with DHL."
    assert looked_up == ["A-17"]


def test_closest_faq(bot: SupportBot) -> None:
    assert bot.closest_faq("Can I send them back?", FAQ) == FAQ[1]


def test_one_answer_for_one_test(bot: SupportBot, mistral_fixtures) -> None:  # type: ignore[no-untyped-def]
    mistral_fixtures.add(match={"last_user": "refund"}, answer={"content": "Refunds take five days."})
    assert bot.reply("When do I get my refund?") == "Refunds take five days."


def test_a_rate_limit_reaches_the_caller(bot: SupportBot, mistral_fixtures) -> None:  # type: ignore[no-untyped-def]
    mistral_fixtures.add(match={"last_user": "busy"}, answer={"error": {"status": 429, "retry_after": 1}})
    with pytest.raises(openai.RateLimitError):
        bot.reply("Are you busy?")
