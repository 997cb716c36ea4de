"""The OpenAI-compatible shim in front of Mistral (not built yet)."""
