"""Reading recorded HTTP traffic (vcrpy / pydantic-ai / Ruby VCR cassettes) of the real Mistral API."""
