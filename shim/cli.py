"""``mistral-shim``: an OpenAI-compatible server in front of Mistral."""

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from mistral_wire import settings as settings_table
from mistral_wire.http import port_taken
from mistral_wire.settings import SettingsError
from shim import __version__, accesslog
from shim import settings as shim_settings
from shim.settings import ShimSettings

EPILOG = """Every setting can also come from the environment (SHIM_<NAME>, e.g. SHIM_TIMEOUT=30) and from a
TOML file (--config or SHIM_CONFIG; keys as the setting names, plus an [aliases] table).
Precedence: flags, then environment, then the config file."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mistral-shim", description="An OpenAI-compatible server for Mistral."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="start the shim", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    serve.add_argument("--config", type=Path, help="TOML file with any of these settings, plus [aliases]")
    settings_table.add_arguments(serve, ShimSettings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = shim_settings.load(settings_table.flags_of(args, ShimSettings), config_file=args.config)
    except SettingsError as error:
        print(f"mistral-shim: {error}", file=sys.stderr)
        return 2
    if port_taken(settings.host, settings.port):
        print(
            f"mistral-shim: port {settings.port} on {settings.host} is in use by another process; "
            "choose another with --port (or SHIM_PORT)",
            file=sys.stderr,
        )
        return 2
    accesslog.configure(settings.log_level, settings.secrets)
    from aiohttp import web

    from shim.app import RUNNER_OPTIONS, create_app

    keyed = "its own MISTRAL_API_KEY" if settings.mistral_api_key else "each client's bearer key"
    where = f"http://{settings.host}:{settings.port}"

    async def announce(app: web.Application) -> None:
        """Once the store is open: a store that cannot be is one line, with nothing announced before it."""
        print(f"mistral-shim {__version__} on {where} -> {settings.upstream} ({keyed})", flush=True)
        if settings.client_keys and not settings.mistral_api_key:
            logging.getLogger("shim").warning(
                "client keys are set but MISTRAL_API_KEY is not: "
                "each client's bearer is used as the Mistral key"
            )

    from shim.store.factory import StoreUnavailable, StoreURLError

    try:
        app = create_app(settings)
        app.on_startup.append(announce)
        web.run_app(app, host=settings.host, port=settings.port, print=None, **RUNNER_OPTIONS)
    except (StoreURLError, StoreUnavailable) as error:
        print(f"mistral-shim: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
