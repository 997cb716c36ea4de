"""``make run``: the mock Mistral API on :8081 and the shim in front of it on :8080, on loopback.

Each server is its own process. Ctrl-C (SIGINT to the whole group) or SIGTERM stops both cleanly; if either
exits on its own, the other is stopped too and the exit status says so. ``MOCK_PORT`` and ``SHIM_PORT``
change the ports; a port another process holds is one line and exit status 2, before anything starts or is
announced. The shim has the README's example aliases (``gpt-4o-mini`` and the others), so the README's
snippets run as written against it.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from types import FrameType

from mistral_wire.http import port_taken

HOST = "127.0.0.1"
# The README's example aliases (its shim.toml); tests/system/test_readme_snippets.py holds them equal.
ALIASES = {
    "gpt-4o-mini": "mistral-small-latest",
    "gpt-4o": "mistral-large-latest",
    "text-embedding-3-small": "mistral-embed",
}


def _port(name: str, default: int) -> int:
    text = os.environ.get(name, str(default))
    if not text.strip().isdigit() or not 0 < int(text) < 65536:
        print(f"make run: {name} must be a port number between 1 and 65535, not {text!r}", file=sys.stderr)
        sys.exit(2)
    return int(text)


MOCK_PORT = _port("MOCK_PORT", 8081)
SHIM_PORT = _port("SHIM_PORT", 8080)
MOCK_URL = f"http://{HOST}:{MOCK_PORT}"
SHIM_URL = f"http://{HOST}:{SHIM_PORT}"

SNIPPET = f"""
The mock Mistral API is up at {MOCK_URL} (synthetic answers; any API key is accepted),
and the OpenAI-compatible shim in front of it at {SHIM_URL}.

The shim answers for these OpenAI models: {", ".join(f"{a} -> {m}" for a, m in ALIASES.items())}.

Your OpenAI code, unchanged but for the base URL:

    from openai import OpenAI
    client = OpenAI(base_url="{SHIM_URL}/v1", api_key="any-key")
    print(client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{{"role": "user", "content": "Hello!"}}],
    ).choices[0].message.content)

Mistral's own SDK, straight to the mock (or through the shim's pass-through, {SHIM_URL}/mistral):

    from mistralai.client import Mistral
    client = Mistral(api_key="any-key", server_url="{MOCK_URL}")
    answer = client.chat.complete(
        model="mistral-small-latest", messages=[{{"role": "user", "content": "Hello!"}}]
    )
    print(answer.choices[0].message.content)

Press Ctrl-C to stop both.
"""


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server for {url} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"the server at {url} did not become healthy within {timeout:.0f} s")


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def busy_port() -> str | None:
    """The line that says which port another process holds, or None when both are free."""
    for name, port in (("MOCK_PORT", MOCK_PORT), ("SHIM_PORT", SHIM_PORT)):
        if port_taken(HOST, port):
            return f"make run: port {port} on {HOST} is in use by another process; set {name} to another port"
    return None


def main() -> int:
    taken = busy_port()
    if taken is not None:
        print(taken, file=sys.stderr)
        return 2
    # Explicitly, since a shell that starts this in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    # The shim forwards each client's key to the mock; a MISTRAL_API_KEY from the shell would be sent to
    # the mock instead, and a MISTRAL_BASE_URL would point the shim elsewhere: neither belongs here.
    shim_env = {k: v for k, v in os.environ.items() if k not in ("MISTRAL_API_KEY", "MISTRAL_BASE_URL")}
    processes: list[subprocess.Popen] = []
    status = 0
    try:
        # Own process groups: Ctrl-C reaches this script only, which then stops each server exactly once.
        mock = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(MOCK_PORT)], process_group=0
        )
        processes.append(mock)
        wait_healthy(MOCK_URL, mock)
        aliases = [f"--alias={alias}={model}" for alias, model in ALIASES.items()]
        shim = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shim",
                "serve",
                "--port",
                str(SHIM_PORT),
                "--upstream",
                MOCK_URL,
                *aliases,
            ],
            env=shim_env,
            process_group=0,
        )
        processes.append(shim)
        wait_healthy(SHIM_URL, shim)
        print(SNIPPET, flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(0.3)
        status = 1
        print("a server exited on its own; stopping the other", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return status


if __name__ == "__main__":
    sys.exit(main())
