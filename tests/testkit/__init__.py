"""Tests of the shared test helpers themselves (``testkit``): the spec oracles."""
