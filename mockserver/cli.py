"""``mistral-mock``: the command line of the offline Mistral."""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mockserver import __version__, logs
from mockserver.config import MockConfig

FAULTS_HELP = """\
faults on request (header x-mock-fault, ';'-separated; synthetic and replay modes, every /v1 route):
  status=429;retry_after=2    Mistral's 429 body with Retry-After: 2 (also 500, 503, 502, 504, ...)
  status=429;shape=gateway    the gateway's 429 body {"message":"Requests rate limit exceeded"}
  latency_ms=300              wait before answering
  ttft_ms=200;chunk_ms=20     delay before the first SSE event, between events
  disconnect_after=3          send 3 SSE events (0: nothing), then drop the connection
In record and auto modes the header is forwarded upstream, not applied."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mistral-mock", description="An offline Mistral API.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="start the mock server",
        description="Start the mock server.",
        epilog=FAULTS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=8081)
    serve.add_argument(
        "--mode",
        choices=["synthetic", "record", "replay", "auto"],
        default="synthetic",
        help="where answers come from: generated (default), upstream (record), recordings (replay), or both",
    )
    serve.add_argument(
        "--upstream", default="https://api.mistral.ai", help="the API to record (default: Mistral)"
    )
    serve.add_argument(
        "--recordings", type=Path, help="the directory recordings are read from and written to"
    )
    serve.add_argument(
        "--speed", type=float, default=1.0, help="replay speed: 1 as recorded, 2 faster, 0 no wait"
    )
    serve.add_argument(
        "--on-miss",
        choices=["error", "synthetic"],
        default="error",
        help="replay: what an unmatched request gets",
    )
    serve.add_argument(
        "--ignore-field",
        action="append",
        default=[],
        dest="ignore_fields",
        help="a body field left out of matching, dotted, * for any key or index (repeatable)",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        dest="api_keys",
        help="accept only this bearer key (repeatable; also MOCK_API_KEYS, comma-separated)",
    )
    serve.add_argument(
        "--max-body-mb", type=float, default=50.0, help="largest request body; 413 beyond (default 50)"
    )
    serve.add_argument("--latency-ms", type=int, default=0, help="delay before every answer")
    serve.add_argument("--chunk-ms", type=int, default=0, help="delay between SSE events")
    serve.add_argument("--rpm", type=int, default=None, help="requests per minute per key (429 beyond)")
    serve.add_argument("--tpm", type=int, default=None, help="tokens per minute per key (429 beyond)")
    serve.add_argument(
        "--rate-limit-body",
        choices=["app", "gateway"],
        default="app",
        dest="rate_limit_shape",
        help="body of --rpm/--tpm 429s: Mistral's rate_limited envelope (default) or the gateway's "
        '{"message":"Requests rate limit exceeded"}',
    )
    serve.add_argument("--padding", action="store_true", help="add the live API's random 'p' field to chunks")
    serve.add_argument(
        "--validation-errors",
        choices=["envelope", "bare"],
        default="envelope",
        help="422 body shape: Mistral's envelope (default) or the bare FastAPI {'detail': [...]}",
    )
    serve.add_argument(
        "--log-level",
        default="INFO",
        help="DEBUG, INFO (default: one JSON access line per request, with its id), WARNING, ERROR; "
        "keys are scrubbed from every line",
    )
    importer = commands.add_parser("import-vcr", help="convert cassettes of Mistral traffic into recordings")
    importer.add_argument(
        "cassettes", nargs="+", type=Path, help="vcrpy / pytest-recording / Ruby VCR YAML files"
    )
    importer.add_argument("--out", type=Path, required=True, help="the recordings directory to write")
    return parser


def config_from_args(args: argparse.Namespace) -> MockConfig:
    keys = set(args.api_keys)
    keys.update(k.strip() for k in os.environ.get("MOCK_API_KEYS", "").split(",") if k.strip())
    return MockConfig(
        host=args.host,
        port=args.port,
        mode=args.mode,
        api_keys=frozenset(keys),
        max_body_mb=args.max_body_mb,
        latency_ms=args.latency_ms,
        chunk_ms=args.chunk_ms,
        rpm=args.rpm,
        tpm=args.tpm,
        rate_limit_shape=args.rate_limit_shape,
        padding=args.padding,
        validation_shape=args.validation_errors,
        upstream=args.upstream,
        upstream_key=os.environ.get("MISTRAL_API_KEY") or None,
        recordings=args.recordings,
        speed=args.speed,
        on_miss=args.on_miss,
        ignore_fields=tuple(args.ignore_fields),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "import-vcr":
        from mockserver.recording.importer import import_files

        report = import_files(args.cassettes, args.out)
        print(report.summary())
        return 1 if report.failed else 0
    if args.mode != "synthetic" and args.recordings is None:
        _parser().error(f"--mode {args.mode} needs --recordings DIR")
    config = config_from_args(args)
    logs.configure(args.log_level, [k for k in (config.upstream_key, *config.api_keys) if k])
    from aiohttp import web

    from mockserver.app import create_app

    where = f" ({config.recordings})" if config.recordings else ""
    print(
        f"mistral-mock {__version__}: {config.mode} mode{where} on http://{config.host}:{config.port}",
        flush=True,
    )
    web.run_app(create_app(config), host=config.host, port=config.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
