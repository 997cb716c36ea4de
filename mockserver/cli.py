"""``mistral-mock``: the command line of the offline Mistral."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mistral_wire import settings as settings_table
from mistral_wire.http import port_taken
from mistral_wire.settings import SettingsError
from mockserver import __version__, extras, logs
from mockserver import settings as mock_settings
from mockserver.settings import MockSettings

FAULTS_HELP = """\
faults on request (header x-mock-fault, ';'-separated; synthetic and replay modes, every /v1 route):
  status=429;retry_after=2    Mistral's 429 body with Retry-After: 2 (also 500, 503, 502, 504, ...)
  status=429;shape=gateway    the gateway's 429 body {"message":"Requests rate limit exceeded"}
  latency_ms=300              wait before answering
  ttft_ms=200;chunk_ms=20     delay before the first SSE event, between events
  disconnect_after=3          send 3 SSE events (0: nothing), then drop the connection
  batch=failed|timeout        on a batch job's creation: the job ends FAILED or TIMEOUT_EXCEEDED
A forced status is the mock's own answer in every mode (in record and auto modes Mistral is not asked and
nothing is saved); in those modes the stream and batch faults are forwarded upstream, not applied."""


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
    serve.add_argument("--config", type=Path, help="TOML file with any of these settings")
    settings_table.add_arguments(serve, MockSettings)
    importer = commands.add_parser("import-vcr", help="convert cassettes of Mistral traffic into recordings")
    importer.add_argument(
        "cassettes", nargs="+", type=Path, help="vcrpy / pytest-recording / Ruby VCR YAML files, or folders"
    )
    importer.add_argument("--out", type=Path, required=True, help="the recordings directory to write")
    return parser


def settings_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> MockSettings:
    """The settings a ``serve`` command line asks for, with the environment's; raises ``SettingsError``."""
    flags = settings_table.flags_of(args, MockSettings)
    return mock_settings.load(flags, environ, config_file=args.config)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        extras.require()
    except RuntimeError as error:
        print(f"mistral-mock: {error}", file=sys.stderr)
        return 2
    if args.command == "import-vcr":
        from mockserver.recording.importer import import_files

        report = import_files(args.cassettes, args.out)
        print(report.summary())
        return 1 if report.failed or not report.total else 0
    try:
        settings = settings_from_args(args)
    except SettingsError as error:
        print(f"mistral-mock: {error}", file=sys.stderr)
        return 2
    if port_taken(settings.host, settings.port):
        print(
            f"mistral-mock: port {settings.port} on {settings.host} is in use by another process; "
            "choose another with --port (or MOCK_PORT)",
            file=sys.stderr,
        )
        return 2
    logs.configure(settings.log_level, settings.secrets)
    from aiohttp import web

    from mockserver.app import create_app
    from mockserver.sources.fixtures import FixtureError

    try:
        app = create_app(settings)  # a fixtures file is read and checked here, before anything is announced
    except FixtureError as error:
        print(f"mistral-mock: {error}", file=sys.stderr)
        return 2
    where = f" ({settings.recordings})" if settings.recordings else ""
    if settings.fixtures is not None:
        where += f", fixtures first from {settings.fixtures}"
    print(
        f"mistral-mock {__version__}: {settings.mode} mode{where} on http://{settings.host}:{settings.port}",
        flush=True,
    )
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
