"""Tests of the mock's synthetic answers (``mockserver.sources.synthetic``), as pure functions."""
