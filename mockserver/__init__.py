"""An offline Mistral: accepts, rejects and answers like api.mistral.ai."""

__version__ = "0.1.0"
