"""Tests of the mock's recording: cassettes, record and replay, matching, integrity, committed recordings."""
