"""Running the openai Node SDK's scripts (``contract_tests/node/*.mjs``) against a server on loopback.

``make test`` installs the scripts' packages with ``npm ci`` (``contract_tests/node/package-lock.json``);
without Node or without those packages the tests that need them skip, saying which is missing.
"""

import json
import shutil
import subprocess
from typing import Any

import pytest

from testkit.paths import ROOT

NODE_DIR = ROOT / "contract_tests" / "node"


def run_script(name: str, env: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    """Run ``contract_tests/node/NAME`` with ``env`` added; the JSON of its last output line."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (NODE_DIR / "node_modules" / "openai").is_dir():
        pytest.skip("the Node packages are not installed: npm ci --prefix contract_tests/node")
    result = subprocess.run(
        [node, str(NODE_DIR / name)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=timeout,
        cwd=NODE_DIR,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines, f"{name} printed nothing:\n{result.stderr}"
    return dict(json.loads(lines[-1]))
