"""``mistral-shim``: an OpenAI-compatible server in front of Mistral."""

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from shim import __version__, accesslog
from shim.config import LOG_LEVELS, ConfigError, build

ENVIRONMENT = """environment:
  MISTRAL_API_KEY   the key the shim uses upstream; clients then present one of the client keys
                    (without it, each client's bearer is forwarded as its Mistral key)
  MISTRAL_BASE_URL  the upstream, as --upstream
  SHIM_API_KEYS     client keys, comma-separated, as --api-key
  SHIM_CONFIG       a TOML file, as --config
  SHIM_<SETTING>    any other setting, e.g. SHIM_TIMEOUT=30, SHIM_RETRIES=2, SHIM_LOG_BODIES=true
precedence: flags, then environment, then the config file."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mistral-shim", description="An OpenAI-compatible server for Mistral."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="start the shim",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8080)")
    serve.add_argument(
        "--upstream", help="Mistral's base URL (default MISTRAL_BASE_URL or https://api.mistral.ai)"
    )
    serve.add_argument("--config", type=Path, help="TOML file with any of these settings, plus [aliases]")
    serve.add_argument(
        "--api-key",
        action="append",
        dest="client_keys",
        metavar="KEY",
        help="a key clients must present when MISTRAL_API_KEY is set (repeatable; also SHIM_API_KEYS)",
    )
    serve.add_argument(
        "--unsupported",
        choices=["drop", "error"],
        help="OpenAI-only parameters: drop and name them in x-shim-dropped-params (default), or answer 400",
    )
    serve.add_argument("--timeout", type=float, help="upstream read timeout in seconds (default 600)")
    serve.add_argument(
        "--connect-timeout", type=float, help="upstream connect timeout in seconds (default 10)"
    )
    serve.add_argument(
        "--client-timeout",
        type=float,
        help="seconds a client may pause while sending its body before a 408 (default 60)",
    )
    serve.add_argument(
        "--retries", type=int, help="retries of upstream 429/503, honouring Retry-After (default 0)"
    )
    serve.add_argument(
        "--log-bodies", action="store_true", default=None, help="include bodies in the access log"
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        dest="cors_origins",
        metavar="ORIGIN",
        help="allow this browser origin (repeatable)",
    )
    serve.add_argument(
        "--max-body-mb", type=float, help="largest request body in MB; larger ones get a 413 (default 50)"
    )
    serve.add_argument(
        "--max-json-depth",
        type=int,
        help="deepest nesting of a translated request's JSON body; deeper ones get a 400 (default 128)",
    )
    serve.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS, help="DEBUG, INFO (default), WARNING, ERROR"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    flags = {
        key: getattr(args, key)
        for key in (
            "host", "port", "upstream", "client_keys", "unsupported", "timeout", "connect_timeout",
            "client_timeout", "retries", "log_bodies", "log_level", "cors_origins", "max_body_mb",
            "max_json_depth",
        )
    }  # fmt: skip
    try:
        config = build(flags, config_file=args.config)
    except ConfigError as error:
        print(f"mistral-shim: {error}", file=sys.stderr)
        return 2
    accesslog.configure(config.log_level, config.secrets)
    from aiohttp import web

    from shim.app import RUNNER_OPTIONS, create_app

    keyed = "its own MISTRAL_API_KEY" if config.mistral_api_key else "each client's bearer key"
    print(
        f"mistral-shim {__version__} on http://{config.host}:{config.port} -> {config.upstream} ({keyed})",
        flush=True,
    )
    if config.client_keys and not config.mistral_api_key:
        logging.getLogger("shim").warning(
            "client keys are set but MISTRAL_API_KEY is not: each client's bearer is used as the Mistral key"
        )
    web.run_app(create_app(config), host=config.host, port=config.port, print=None, **RUNNER_OPTIONS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
