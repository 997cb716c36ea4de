"""The bot under test, on the plugin's ``openai_client``: app -> mistral-shim -> the offline Mistral."""

import pytest
from support_bot import SupportBot

ORDERS = {"A-17": {"order_id": "A-17", "status": "shipped", "carrier": "DHL"}}


@pytest.fixture
def bot(openai_client) -> SupportBot:  # type: ignore[no-untyped-def]
    return SupportBot(openai_client, orders=lambda order_id: ORDERS.get(order_id, {"status": "unknown"}))
