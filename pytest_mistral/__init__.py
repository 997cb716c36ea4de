"""The pytest plugin of mistral-compat (entry point ``mistral_compat``): test code written for the OpenAI SDK
or Mistral's against one offline mock and one shim per session, recorded once and replayed in CI.

It is the one package that puts the two servers together (the shim never imports the mock, nor the mock
the shim); the fixtures and hooks are in ``plugin``, the session's servers in ``servers``, one test's
recordings folder, mode and fixture rules in ``cassette``.
"""
