"""Real frameworks (LangChain, pydantic-ai, LiteLLM) pointed at the shim with their own base-URL setting."""
