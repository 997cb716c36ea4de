"""Tests of the pytest plugin (pytest_mistral)."""
