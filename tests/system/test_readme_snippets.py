"""``make run`` as the README promises it: the snippets run as written against it, it has the README's
example aliases, and a port another process holds is one line and exit status 2, before anything starts.

The servers are started exactly as ``make run`` starts them (``scripts/run_servers.py``), on free ports
(``MOCK_PORT``/``SHIM_PORT``, as a user with busy ports would): the README's snippets are run with the
port numbers changed and nothing else.
"""

import re
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from testkit.paths import ROOT
from testkit.processes import child_env, free_port

README = (ROOT / "README.md").read_text()
SCRIPT = ROOT / "scripts" / "run_servers.py"


@dataclass
class Running:
    mock_port: int
    shim_port: int
    banner: str


@pytest.fixture(scope="module")
def make_run() -> Iterator[Running]:
    mock_port, shim_port = free_port(), free_port()
    env = child_env(MOCK_PORT=str(mock_port), SHIM_PORT=str(shim_port))
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C" in line:
            break
    try:
        assert "Press Ctrl-C" in "".join(lines), "".join(lines)
        yield Running(mock_port, shim_port, "".join(lines))
    finally:
        process.send_signal(2)
        process.wait(timeout=20)


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=child_env(**env),
        timeout=120,
        cwd=ROOT,
    )


def readme_blocks_for_make_run() -> list[str]:
    """The README's Python snippets that talk to ``make run``'s servers (127.0.0.1:8080 or :8081)."""
    blocks = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
    return [block for block in blocks if "127.0.0.1:808" in block]


def test_the_readme_snippets_run_as_written(make_run: Running) -> None:
    blocks = readme_blocks_for_make_run()
    assert blocks, "the README has no snippet for make run"
    for block in blocks:
        code = block.replace(":8080", f":{make_run.shim_port}").replace(":8081", f":{make_run.mock_port}")
        result = run(code, MISTRAL_API_KEY="a-key-of-your-own")
        assert result.returncode == 0, f"{block}\n{result.stderr}"


def test_the_printed_snippets_run_as_printed(make_run: Running) -> None:
    snippets = re.findall(r"\n\n((?:    .*\n)+)", make_run.banner)
    assert len(snippets) == 2, make_run.banner
    for snippet in snippets:
        code = "\n".join(line[4:] for line in snippet.splitlines())
        result = run(code)
        assert result.returncode == 0, f"{code}\n{result.stderr}"
        assert result.stdout.strip(), "the snippet printed no answer"


def test_make_run_has_the_readme_example_aliases(make_run: Running) -> None:
    example = re.search(r"```toml\n# shim.toml\n(.*?)```", README, re.DOTALL)
    assert example is not None
    aliases = tomllib.loads(example.group(1))["aliases"]
    for alias, model in aliases.items():
        assert f"{alias} -> {model}" in make_run.banner
    code = (
        "from openai import OpenAI\n"
        f"client = OpenAI(base_url='http://127.0.0.1:{make_run.shim_port}/v1', api_key='k', max_retries=0)\n"
        "print(client.embeddings.create(model='text-embedding-3-small', input='hi').model)\n"
    )
    assert run(code).stdout.strip() == "text-embedding-3-small"


def test_a_busy_port_is_one_line_and_exit_2_before_anything_is_announced() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(SCRIPT)],
            capture_output=True,
            text=True,
            env=child_env(MOCK_PORT=str(free_port()), SHIM_PORT=str(busy)),
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"make run: port {busy} on 127.0.0.1 is in use by another process; set SHIM_PORT to another port"
    ]
