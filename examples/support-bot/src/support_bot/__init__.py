"""A customer-support bot written for the OpenAI SDK, running on Mistral through mistral-shim."""

from support_bot.bot import SupportBot, Triage

__all__ = ["SupportBot", "Triage"]
