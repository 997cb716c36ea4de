"""The OpenAI-compatible shim in front of Mistral: ``OpenAI(base_url=shim_url)`` works unchanged."""

__version__ = "0.1.0"
