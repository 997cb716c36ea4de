"""A shim deployment loads none of the mock: not its modules, not the libraries only the mock needs.

The import contracts (``lint-imports`` in ``make test``) forbid the imports in the source; this checks what
a running process actually loads, transitively, the way ``python -X importtime`` lists it.
"""

import subprocess
import sys

from testkit.paths import ROOT

# (brotli is not here: aiohttp itself imports it when it is installed, to decode br answers.)
MOCK_ONLY = frozenset({"mockserver", "faker", "pypdf", "yaml", "numpy", "PIL"})
# Loaded only when a request needs a tokenizer, in a thread, never at import.
LAZY = frozenset({"mistral_common", "sentencepiece", "tiktoken"})
# The Responses store's SQL engines: imported when the store URL names theirs (shim/store/factory.py).
STORE_ENGINES = frozenset({"sqlite3", "asyncpg"})


def imported_by(statement: str) -> set[str]:
    """Every module ``statement`` imports in a fresh interpreter, from ``-X importtime``'s report."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert len(lines) > 50, result.stderr[-500:]
    return {line.rsplit("|", 1)[-1].strip() for line in lines[1:]}


def roots(modules: set[str]) -> set[str]:
    return {name.split(".", 1)[0] for name in modules}


def test_importing_the_shim_loads_none_of_the_mock() -> None:
    loaded = roots(imported_by("import shim.app, shim.cli"))
    assert "shim" in loaded and "aiohttp" in loaded
    assert loaded & MOCK_ONLY == set()
    assert loaded & LAZY == set()
    assert loaded & STORE_ENGINES == set()


def test_the_check_sees_what_the_mock_loads() -> None:
    """The same check on the mock finds its libraries: the test above can fail."""
    loaded = roots(imported_by("import mockserver.app"))
    assert {"mockserver", "faker"} <= loaded
