"""``mistral-mock``: the command line of the offline Mistral."""

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from mockserver import __version__
from mockserver.config import MockConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mistral-mock", description="An offline Mistral API.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the mock server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=8081)
    serve.add_argument("--mode", choices=["synthetic"], default="synthetic", help="where answers come from")
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        dest="api_keys",
        help="accept only this bearer key (repeatable; also MOCK_API_KEYS, comma-separated)",
    )
    serve.add_argument("--max-body-mb", type=float, default=50.0, help="largest request body (default 50)")
    serve.add_argument("--latency-ms", type=int, default=0, help="delay before every answer")
    serve.add_argument("--chunk-ms", type=int, default=0, help="delay between SSE events")
    serve.add_argument("--rpm", type=int, default=None, help="requests per minute per key (429 beyond)")
    serve.add_argument("--tpm", type=int, default=None, help="tokens per minute per key (429 beyond)")
    serve.add_argument("--padding", action="store_true", help="add the live API's random 'p' field to chunks")
    serve.add_argument(
        "--validation-errors",
        choices=["envelope", "bare"],
        default="envelope",
        help="422 body shape: Mistral's envelope (default) or the bare FastAPI {'detail': [...]}",
    )
    serve.add_argument("--log-level", default="INFO")
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
        padding=args.padding,
        validation_shape=args.validation_errors,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("mistral_common").setLevel(logging.WARNING)
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    config = config_from_args(args)
    from aiohttp import web

    from mockserver.app import create_app

    print(f"mistral-mock {__version__}: {config.mode} mode on http://{config.host}:{config.port}", flush=True)
    web.run_app(create_app(config), host=config.host, port=config.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
