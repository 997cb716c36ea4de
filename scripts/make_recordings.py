"""``make recordings``: (re)record the replay fixtures in recordings/.

By default the upstream is the mock's own synthetic mode, so this runs offline and needs no key: a mock in
record mode sits in front of a synthetic mock, and a fixed set of interactions (chat, tools, streams, FIM,
embeddings, OCR, models, errors) goes through it with Mistral's SDK. With ``--live`` the upstream is
https://api.mistral.ai and MISTRAL_API_KEY is required; the recordings then hold real answers.

    .venv/bin/python scripts/make_recordings.py [--live] [--out recordings/mistral]
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mistralai.client import Mistral, errors  # noqa: E402

from contract_tests.mistral_scenarios import scenarios  # noqa: E402
from mockserver.app import create_app  # noqa: E402
from mockserver.config import MockConfig  # noqa: E402
from mockserver.serving import ServerThread  # noqa: E402


def record(out: Path, upstream: str, key: str) -> int:
    if out.exists():
        shutil.rmtree(out)
    config = MockConfig(mode="record", upstream=upstream, upstream_key=key, recordings=out)
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
    args = parser.parse_args()
    if args.live:
        key = os.environ.get("MISTRAL_API_KEY")
        if not key:
            sys.exit("--live needs MISTRAL_API_KEY")
        count = record(args.out, os.environ.get("MISTRAL_BASE_URL", "https://api.mistral.ai"), key)
    else:
        with ServerThread(lambda: create_app(MockConfig())) as upstream:
            count = record(args.out, upstream, "offline-recording-key")
    print(f"{count} recordings in {args.out}")


if __name__ == "__main__":
    main()
