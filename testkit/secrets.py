"""The scan for keys written to disk, which every recording test runs on what the recorder wrote.

``assert_no_secrets`` reads every byte of every file under a folder, and every file and folder name
(lowercased, as names are slugs), and fails naming each file that holds a key, in any of the forms a key could
be written in (raw, JSON-escaped, percent-encoded).
"""

import json
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote


def _forms(key: str) -> set[bytes]:
    """The byte strings a key can appear as in a file: as is, JSON-escaped, percent-encoded."""
    return {key.encode(), json.dumps(key)[1:-1].encode(), quote(key, safe="").encode()}


def secrets_in(folder: Path, keys: Iterable[str]) -> list[str]:
    """``path: key`` for every file (or file name) under ``folder`` that holds one of ``keys``."""
    found = []
    keys = [k for k in keys if k]
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        for key in keys:
            # Names are slugs, lowercased: a key lowercased in a name is still the key.
            if any(form.decode().lower() in relative.lower() for form in _forms(key)):
                found.append(f"{relative} (in its name): {key}")
        if path.is_file():
            data = path.read_bytes()
            found.extend(f"{relative}: {key}" for key in keys if any(f in data for f in _forms(key)))
    return found


def assert_no_secrets(folder: Path, *keys: str) -> int:
    """Fail if any key is written anywhere under ``folder``; return how many bytes were scanned."""
    assert all(len(k) >= 8 for k in keys), "scan for distinctive keys, not ones that occur by chance"
    leaks = secrets_in(folder, keys)
    assert not leaks, f"keys written to disk: {leaks}"
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
