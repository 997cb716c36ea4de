"""What the README shows about the shim must stay true: its generated tables and its config example."""

import re
import subprocess
import sys
from pathlib import Path

from testkit.paths import ROOT
from testkit.processes import child_env
from testkit.readme import README_END, README_START, readme_summary


def test_readme_translation_tables_match_the_code() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/migration_table.py", "--check"],
        cwd=ROOT,
        env=child_env(),  # the script imports this checkout's shim, not the installed one
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_chat_field_appears_in_the_readme() -> None:
    from shim.translate.chat.request import FIELDS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in FIELDS if f"| `{name}` |" not in readme]
    assert not missing, f"README lacks rows for {missing}"


def test_the_readme_config_example_is_a_config_the_shim_accepts(tmp_path: Path) -> None:
    from shim.settings import load as build

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n# shim.toml\n(.*?)```", readme, re.DOTALL)
    assert example is not None, "README has no TOML example"
    path = tmp_path / "shim.toml"
    path.write_text(example.group(1), encoding="utf-8")
    config = build({}, environ={}, config_file=path)
    assert config.aliases["gpt-4o-mini"] == "mistral-small-latest"
    assert (config.timeout, config.retries, config.unsupported) == (120.0, 2, "drop")
    assert config.client_keys == frozenset({"team-key"})


def test_the_readme_matrix_summary_is_that_of_the_committed_matrix() -> None:
    matrix = (ROOT / "contract_tests" / "MATRIX.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(README_START, 1)[1].split(README_END, 1)[0]
    assert block.strip() == readme_summary(matrix).strip(), "run `make matrix` and commit both files"
    assert "⛔" in block and "✅" in block, "the summary shows neither what works nor what breaks"
