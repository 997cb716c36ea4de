"""Deterministic synthetic answers in Mistral's exact wire format."""
