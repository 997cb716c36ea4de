"""Tests of the offline Mistral mock (package ``mockserver``)."""
