"""The mock's routes: ``create_app(settings)`` wires each route to the pipeline, behind the edges.

In synthetic mode the routes are the endpoints the mock serves (anything else is the gateway's 404, a wrong
method a 405); in record, replay and auto modes every path goes to the pipeline, since a recording may be
of any route. The mode decides the pipeline's sources (``sources_for``).
"""

import asyncio

from aiohttp import web

from mistral_wire import tokens
from mockserver.edges import edges
from mockserver.jobs.batch import BatchJobs
from mockserver.jobs.files import FileStore
from mockserver.jobs.lines import LineEngine
from mockserver.jobs.source import SIGNED_PREFIX, JobsSource, signed_download
from mockserver.keys import FILES, JOBS, LIMITER, SETTINGS, WARM
from mockserver.pipeline import Pipeline
from mockserver.ratelimit import RateLimiter
from mockserver.recording.store import RecordingStore
from mockserver.settings import MockSettings
from mockserver.sources import Source
from mockserver.sources.record import RecordSource
from mockserver.sources.replay import MissSource, ReplaySource
from mockserver.sources.synthetic.answers import POST_ROUTES
from mockserver.sources.synthetic.audio import ROUTES as AUDIO_ROUTES
from mockserver.sources.synthetic.source import SyntheticSource

STORE = web.AppKey("store", RecordingStore)
# The message of every request no recording matched (the pytest plugin fails the test with them).
MISSES = web.AppKey("misses", list[str])


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _warm(app: web.Application) -> None:
    """Load the tokenizer and the prose corpus in a thread, so startup does not wait for them (~1.2 s)."""
    from mockserver.sources.synthetic import prose

    def load() -> None:
        tokens.warm(("tekken",))
        prose.warm()

    future = asyncio.get_running_loop().run_in_executor(None, load)
    future.add_done_callback(lambda f: f.cancelled() or f.exception())  # never "exception never retrieved"
    app[WARM] = future


JOB_ROUTES = (
    ("POST", "/v1/files"),
    ("GET", "/v1/files"),
    ("GET", "/v1/files/{file_id}"),
    ("DELETE", "/v1/files/{file_id}"),
    ("GET", "/v1/files/{file_id}/content"),
    ("GET", "/v1/files/{file_id}/url"),
    ("POST", "/v1/batch/jobs"),
    ("GET", "/v1/batch/jobs"),
    ("GET", "/v1/batch/jobs/{job_id}"),
    ("DELETE", "/v1/batch/jobs/{job_id}"),
    ("POST", "/v1/batch/jobs/{job_id}/cancel"),
)
"""The files and batch-job routes (answered by ``JobsSource`` in synthetic mode)."""


async def _open_files(app: web.Application) -> None:
    """Make (or read back, with ``--files-dir``) the files folder before the first request."""
    store = app[FILES]
    await asyncio.get_running_loop().run_in_executor(None, lambda: store.root)


async def _close_files(app: web.Application) -> None:
    await app[JOBS].close()
    await asyncio.get_running_loop().run_in_executor(None, app[FILES].close)


def sources_for(app: web.Application, settings: MockSettings) -> list[Source]:
    """The mode's sources, first match wins."""
    if settings.mode == "synthetic":
        return [JobsSource(), SyntheticSource()]
    assert settings.recordings is not None, f"--mode {settings.mode} needs --recordings DIR"
    store = RecordingStore(
        settings.recordings, ignore_fields=settings.ignore_fields, secrets=settings.secrets
    )
    app[STORE] = store
    app[MISSES] = []

    async def load(app: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, store.load)

    app.on_startup.append(load)
    if settings.mode == "replay":
        if settings.on_miss == "synthetic":
            return [ReplaySource(store), JobsSource(), SyntheticSource()]
        return [ReplaySource(store), MissSource(store, app[MISSES])]
    recorder = RecordSource(store, settings.upstream, settings.upstream_key)
    app.on_startup.append(recorder.start)
    app.on_cleanup.append(recorder.stop)
    if settings.mode == "auto":
        return [ReplaySource(store), recorder]
    return [recorder]


def create_app(settings: MockSettings | None = None) -> web.Application:
    """The mock as an aiohttp application, for ``web.run_app``, tests and gunicorn."""
    settings = settings or MockSettings()
    app = web.Application(
        middlewares=[edges],
        client_max_size=settings.max_body_bytes,
        # Mistral's API (FastAPI) reads a request body as sent, whatever its Content-Encoding: a gzipped
        # body is bytes that do not parse (400), not JSON. Decoding it here would also answer a body that
        # fails to decode with a dropped connection instead, and forward a decoded body labelled gzip.
        handler_args={"auto_decompress": False},
    )
    app[SETTINGS] = settings
    app[LIMITER] = RateLimiter(settings.rpm, settings.tpm)
    app[FILES] = FileStore(settings.files_dir)
    app.on_startup.append(_open_files)
    app.on_cleanup.append(_close_files)
    pipeline = Pipeline(sources_for(app, settings))
    # A batch job's lines are answered from this mock's recordings when it replays, else generated.
    engine = LineEngine(app.get(STORE) if settings.mode == "replay" else None, settings.validation_shape)
    app[JOBS] = BatchJobs(app[FILES], engine, settings.job_step_ms)
    app.router.add_get("/health", health)
    app.router.add_get(SIGNED_PREFIX + "{file_id}", signed_download)
    if settings.mode == "synthetic":
        app.router.add_get("/v1/models", pipeline.handle)
        app.router.add_get("/v1/models/{model_id}", pipeline.handle)
        for path in POST_ROUTES:
            app.router.add_post(path, pipeline.handle)
        for method, path in JOB_ROUTES:
            app.router.add_route(method, path, pipeline.handle)
        for path in AUDIO_ROUTES:
            app.router.add_post(path, pipeline.handle)
    else:
        app.router.add_route("*", "/{tail:.*}", pipeline.handle)
    app.on_startup.append(_warm)
    return app
