"""``make example`` (run by ``make test``): the example project's whole CI journey, as its user lives it.

examples/support-bot is a user's project: its own app on the openai SDK, tests with the pytest plugin,
recordings and a fixtures file, LangChain's standard suites, and a GitHub Actions workflow. This script
does what that workflow does, on this machine: a virtualenv of the example's own (``.venv-example``,
git-ignored, kept between runs while the dependency lists are unchanged), this repository installed into
it NOT editably (``pip install "<a clean copy of the repo>[mock]"``: what a user gets, package data and
entry points included), the example's requirements, then the workflow's own test command, with no key and
only loopback reachable. The exit status is the tests'.
"""

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "support-bot"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "tests.yml"
VENV = Path(os.environ.get("EXAMPLE_VENV", ROOT / ".venv-example"))
# What a clean copy of the repository leaves out: environments, caches, the examples themselves.
IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "node_modules",
    "examples",
    "bench",
    ".hypothesis",
)


def run(command: list[str], **kwargs: object) -> None:
    print("+", shlex.join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def stamp() -> str:
    """What the venv was built from: the dependency lists and this Python."""
    digest = hashlib.sha256(sys.version.encode())
    for path in (ROOT / "pyproject.toml", EXAMPLE / "requirements.txt"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def test_command() -> str:
    """The workflow's test step, so that what runs here is what the user's CI runs."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["test"]["steps"]
    (command,) = [step["run"] for step in steps if str(step.get("run", "")).startswith("pytest")]
    return str(command)


def main() -> int:
    started = time.monotonic()
    python = VENV / "bin" / "python"
    marker = VENV / f".built-{stamp()}"
    fresh = not marker.exists()
    if fresh:
        shutil.rmtree(VENV, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(VENV)])
        run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    with tempfile.TemporaryDirectory(prefix="mistral-compat-") as temporary:
        copy = Path(temporary) / "mistral-compat"
        shutil.copytree(ROOT, copy, ignore=IGNORED)
        if fresh:
            run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    f"{copy}[mock]",
                    "-r",
                    str(EXAMPLE / "requirements.txt"),
                ]
            )
            marker.touch()
        else:  # the dependencies are those of the marker: only this repository's code changed
            run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(copy)])
    installed = ROOT.resolve() / "shim"
    where = subprocess.run(
        [str(python), "-c", "import shim, pytest_mistral; print(shim.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=EXAMPLE,
    ).stdout.strip()
    if Path(where).resolve().is_relative_to(installed):
        print(f"the example imported this checkout ({where}), not the installed package", file=sys.stderr)
        return 1
    installed_at = time.monotonic()
    # No key, no base URL, no path into this checkout: the user's CI has none of them.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MISTRAL_", "OPENAI_", "SHIM_", "MOCK_"))}
    env.pop("PYTHONPATH", None)
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    command = test_command()
    print(f"+ (in {EXAMPLE.relative_to(ROOT)}) {command}", flush=True)
    status = subprocess.run(command, shell=True, cwd=EXAMPLE, env=env).returncode
    finished = time.monotonic()
    print(
        f"example project: install {installed_at - started:.0f} s "
        f"({'fresh venv' if fresh else 'reinstall'}), "
        f"tests {finished - installed_at:.0f} s, exit status {status}",
        flush=True,
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
