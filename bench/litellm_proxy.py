"""LiteLLM's proxy as a fourth path: installed into its own venv (bench/.venv-litellm), configured with the
``mistral/`` provider pointing at the mock, started on loopback.

Its own venv because LiteLLM's proxy pins its own FastAPI, pydantic and OpenAI SDK versions, which must not
leak into the project's. The version is pinned: LiteLLM releases have been hijacked on PyPI before (1.82.7
and 1.82.8 in March 2026, whose ``litellm_init.pth`` ran at every Python start), so the runner installs
one known release, refuses a venv that holds a ``.pth`` file naming litellm, and starts the proxy with a
scrubbed environment (no keys, a throwaway HOME). The mistral provider appends ``/v1`` to an api_base that
lacks it (``MistralConfig._get_openai_compatible_provider_info``) and its embeddings go through the OpenAI
client, which needs it, so the config gives ``<mock>/v1``.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.mock_bench import free_port
from bench.shim_bench import Server
from bench.workloads import MODELS

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "bench" / ".venv-litellm"
VERSION = "1.83.14"
# LiteLLM fetches its cost map and a few JSON files from GitHub at import unless told to use its copies.
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    "LITELLM_LOG": "ERROR",
    "DISABLE_ADMIN_UI": "True",
}


def _python() -> Path:
    return VENV / "bin" / "python"


def installed_version() -> str | None:
    """The litellm version in the bench venv (from its dist-info folder, without running the venv's
    Python, which would run its ``.pth`` files), or None when there is none."""
    if not _python().exists():
        return None
    found = sorted(VENV.glob("lib/python*/site-packages/litellm-*.dist-info"))
    return found[-1].name.removeprefix("litellm-").removesuffix(".dist-info") if found else None


def suspicious_pth() -> list[Path]:
    """``.pth`` files in the venv that mention litellm: how the hijacked releases ran their payload."""
    return [path for path in VENV.glob("lib/python*/site-packages/*.pth") if "litellm" in path.name.lower()]


def ensure_venv(version: str = VERSION, log: Path | None = None) -> str | None:
    """Install ``litellm[proxy]==version`` into bench/.venv-litellm unless it is there already.

    Returns the installed version, or None (with the reason printed) when it cannot be had, so the run goes
    on without the litellm path.
    """
    if suspicious_pth():
        print(f"litellm: refusing {VENV} with {[p.name for p in suspicious_pth()]}; delete it to reinstall")
        return None
    if installed_version() == version:
        return version
    started = time.perf_counter()
    print(
        f"installing litellm[proxy]=={version} into {VENV.relative_to(ROOT)} (once; about 30 s)", flush=True
    )
    output = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        if not _python().exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(VENV)], check=True, stdout=output, stderr=output
            )
        subprocess.run(
            [str(_python()), "-m", "pip", "install", "--quiet", f"litellm[proxy]=={version}"],
            check=True,
            stdout=output,
            stderr=output,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        print(
            f"litellm: install failed ({error}); skipping the litellm path" + (f", see {log}" if log else "")
        )
        return None
    finally:
        if log:
            output.close()  # type: ignore[union-attr]
    if suspicious_pth():
        print(
            f"litellm: refusing a venv with {[p.name for p in suspicious_pth()]}; skipping the litellm path"
        )
        return None
    got = installed_version()
    print(f"litellm {got} installed in {time.perf_counter() - started:.0f} s", flush=True)
    return got


def write_config(folder: Path, mock_url: str) -> Path:
    """A proxy config routing both bench models to the mock through the ``mistral/`` provider."""
    lines = ["model_list:"]
    for model in MODELS:
        lines += [
            f"  - model_name: {model}",
            "    litellm_params:",
            f"      model: mistral/{model}",
            f"      api_base: {mock_url}/v1",
            "      api_key: bench",
        ]
    lines += ["litellm_settings:", "  telemetry: false", "  drop_params: true", ""]
    path = folder / "litellm-config.yaml"
    path.write_text("\n".join(lines))
    return path


def start(mock_url: str, cpu: int | None, timeout: float = 60.0) -> Server | None:
    """Start the proxy (one worker, the CLI's default) pinned to ``cpu``; None if it will not start."""
    home = Path(tempfile.mkdtemp(prefix="bench-litellm-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    config = write_config(home, mock_url)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **OFFLINE_ENV,
    }
    command = [str(VENV / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--num_workers", "1", "--telemetry", "False"]
    log = open(home / "litellm.log", "w")  # noqa: SIM115 - the child keeps writing to it
    process = subprocess.Popen(
        command,
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
    )
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/liveliness", timeout=1):
                return Server("litellm", process, port, cpu)
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    process.wait()
    tail = (home / "litellm.log").read_text(errors="replace")[-600:]
    print(f"litellm: the proxy did not start; skipping the litellm path. Its log ends:\n{tail}")
    return None
