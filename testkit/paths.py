"""Where things are: the repository, and ``../shared`` next to it (reference material never copied in).

Tests that need ``../shared`` (the published specs, the failure catalogue, real traffic) call
``require_shared()``, which skips them with the reason when this checkout has no reference material.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root (where README.md, recordings/ and scripts/ are)."""

SHARED = ROOT.parent / "shared"
"""The reference material: ``specs/``, ``reference/``, ``real-traffic/``."""

REAL_TRAFFIC = SHARED / "real-traffic"
"""Public test suites' cassettes of real Mistral traffic."""


def shared_dir() -> Path | None:
    """``../shared`` next to the repository, or None when this checkout has no reference material."""
    return SHARED if SHARED.is_dir() else None


def require_shared() -> Path:
    """``../shared``, or skip the calling test with the reason."""
    shared = shared_dir()
    if shared is None:
        pytest.skip(f"../shared is absent: the reference specs are expected at {SHARED}")
    return shared
