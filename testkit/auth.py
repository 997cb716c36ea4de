"""The keys tests present: ``KEY`` for every test client (the mock accepts any key unless configured), and
for a shim configured with its own Mistral key, that key (``UPSTREAM_KEY``) and the one its clients must
present (``CLIENT_KEY``)."""

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}

UPSTREAM_KEY = "sk-upstream-pass-61Qd"
CLIENT_KEY = "client-pass-93Lm"
