"""The README's translation tables are generated from the shim's tables, and must not go stale."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_translation_tables_match_the_code() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/migration_table.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_chat_field_appears_in_the_readme() -> None:
    from shim.translate.params import FIELDS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in FIELDS if f"| `{name}` |" not in readme]
    assert not missing, f"README lacks rows for {missing}"
