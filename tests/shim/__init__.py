"""Tests of the shim (package ``shim``): translation, its HTTP edges, hardening, operations."""
