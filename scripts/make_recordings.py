"""``make recordings``: (re)record the replay fixtures in recordings/.

Two sets: ``recordings/mistral`` holds one interaction of each kind (chat, tools, streams, FIM,
embeddings, OCR, models, errors) sent with Mistral's SDK, and ``recordings/contract`` holds what the shim
sends upstream while the contract suite runs (its ``shim+record`` target), which the ``shim+replay`` target
answers from. By default the upstream is the mock's own synthetic mode, so this runs offline and needs no
key: a mock in record mode sits in front of a synthetic mock. With ``--live`` the upstream is
https://api.mistral.ai and MISTRAL_API_KEY is required; the recordings then hold real answers.

    .venv/bin/python scripts/make_recordings.py [--live] [--only mistral|contract] [--out recordings/mistral]
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mistralai.client import Mistral, errors  # noqa: E402

from mockserver.app import create_app  # noqa: E402
from mockserver.serving import ServerThread  # noqa: E402
from mockserver.settings import MockSettings  # noqa: E402
from testkit.scenarios import scenarios  # noqa: E402


def record(out: Path, upstream: str, key: str) -> int:
    if out.exists():
        shutil.rmtree(out)
    config = MockSettings(mode="record", upstream=upstream, upstream_key=key, recordings=out)
    with ServerThread(lambda: create_app(config)) as recorder:
        client = Mistral(api_key=key, server_url=recorder)
        for name, run in scenarios(client).items():
            try:
                run()
                print(f"recorded  {name}")
            except errors.SDKError as error:
                print(f"recorded  {name} (HTTP {error.status_code}, as intended)")
    return len(list(out.rglob("*.json")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--live", action="store_true", help="record https://api.mistral.ai (needs MISTRAL_API_KEY)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "recordings" / "mistral")
    parser.add_argument("--only", choices=("mistral", "contract"), help="re-record one set (default: both)")
    args = parser.parse_args()
    if args.only != "contract":
        record_sdk_scenarios(args)
    if args.only != "mistral":
        record_contract_suite(args.live)


def record_contract_suite(live: bool) -> None:
    """Run the contract suite through a recording mock, into an emptied ``recordings/contract``."""
    out = ROOT / "recordings" / "contract"
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "contract_tests",
        "--target",
        "shim+record",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    if live:
        command.append("--record-live")
    result = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "CONTRACT_RECORDINGS": str(out)}, check=False
    )
    count = len(list(out.rglob("*.json")))
    print(f"{count} recordings in {out}")
    if result.returncode != 0:
        sys.exit(
            f"the contract suite failed while recording (exit {result.returncode}); fix it before committing"
        )


def record_sdk_scenarios(args: argparse.Namespace) -> None:
    if args.live:
        key = os.environ.get("MISTRAL_API_KEY")
        if not key:
            sys.exit("--live needs MISTRAL_API_KEY")
        count = record(args.out, os.environ.get("MISTRAL_BASE_URL", "https://api.mistral.ai"), key)
    else:
        with ServerThread(lambda: create_app(MockSettings())) as upstream:
            count = record(args.out, upstream, "offline-recording-key")
    print(f"{count} recordings in {args.out}")


if __name__ == "__main__":
    main()
