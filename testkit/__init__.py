"""The helper package of both test trees (``tests/`` and ``contract_tests/``)."""
