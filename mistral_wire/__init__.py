"""Mistral's wire, shared by the shim and the mock, importing neither.

What Mistral accepts (``contract``), its tokenizers (``tokens``), and one of each primitive both servers
need to speak it: the JSON codec (``jsonio``), Server-Sent Events (``sse``), header helpers (``headers``),
the secret scrubber (``scrub``), and the settings table both command lines are built from (``settings``).
The import contracts in pyproject.toml keep it free of ``shim`` and ``mockserver``.
"""
