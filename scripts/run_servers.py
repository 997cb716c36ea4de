"""``make run``: start the servers on loopback and print how to point a client at them.

The mock listens on :8081. Each server is its own process, so Ctrl-C stops them all cleanly.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request

MOCK_PORT = int(os.environ.get("MOCK_PORT", "8081"))
MOCK_URL = f"http://127.0.0.1:{MOCK_PORT}"

SNIPPET = f"""
The mock Mistral API is up at {MOCK_URL} (synthetic answers; any API key is accepted).

With the openai client:

    from openai import OpenAI
    client = OpenAI(base_url="{MOCK_URL}/v1", api_key="any-key")
    print(client.chat.completions.create(
        model="mistral-small-latest",
        messages=[{{"role": "user", "content": "Hello!"}}],
    ).choices[0].message.content)

With Mistral's SDK:

    from mistralai.client import Mistral
    client = Mistral(api_key="any-key", server_url="{MOCK_URL}")
    answer = client.chat.complete(
        model="mistral-small-latest", messages=[{{"role": "user", "content": "Hello!"}}]
    )
    print(answer.choices[0].message.content)

Press Ctrl-C to stop.
"""


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server at {url} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"the server at {url} did not become healthy within {timeout:.0f} s")


def main() -> None:
    mock = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", str(MOCK_PORT)])
    processes = [mock]
    try:
        wait_healthy(MOCK_URL, mock)
        print(SNIPPET, flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
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


if __name__ == "__main__":
    main()
