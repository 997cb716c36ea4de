"""The mock's routes: ``create_app(settings)`` wires each route to the pipeline, behind the edges.

In synthetic mode the routes are the endpoints the mock serves (anything else is the gateway's 404, a wrong
method a 405); in record, replay and auto modes every path goes to the pipeline, since a recording may be
of any route. The mode decides the pipeline's sources (``mockserver.chain``: fixtures first, then the
mode's own); ``any_route`` serves every path in every mode, for a mock whose chain is switched while it
runs (the pytest plugin's).
"""

import asyncio
import gc

from aiohttp import web

from mockserver import chain as chains
from mockserver.chain import CHAIN, Current
from mockserver.edges import edges
from mockserver.jobs.batch import BatchJobs
from mockserver.jobs.files import FileStore
from mockserver.jobs.lines import LineEngine
from mockserver.jobs.source import SIGNED_PREFIX, signed_download
from mockserver.keys import FILES, JOBS, LIMITER, SETTINGS, WARM
from mockserver.pipeline import Pipeline
from mockserver.ratelimit import RateLimiter
from mockserver.settings import MockSettings
from mockserver.sources.synthetic.answers import POST_ROUTES
from mockserver.sources.synthetic.audio import ROUTES as AUDIO_ROUTES
from mockserver.warmup import Warmup


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _freeze_startup_objects(app: web.Application) -> None:
    """Move every object alive once the mock has started out of the garbage collector's sight.

    Modules, contract models and the recordings' index live as long as the process; each full collection
    walked them all again, and distinct requests trigger collections often (bench/mock_bench.py, distinct
    chat requests: about 8% of the CPU went to collections; the shim does the same, ``shim.app``)."""
    gc.freeze()


async def _warm(app: web.Application) -> None:
    """Start loading the tokenizer in a thread when the chain can generate (startup does not wait)."""
    if app[CHAIN].chain.generates:
        app[WARM].start()


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


def create_app(settings: MockSettings | None = None, *, any_route: bool = False) -> web.Application:
    """The mock as an aiohttp application, for ``web.run_app``, tests and gunicorn.

    Raises ``FixtureError`` when the settings' fixtures file has a mistake."""
    settings = settings or MockSettings()
    chain = chains.build(settings)
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
    app[WARM] = Warmup()
    app.on_startup.append(_open_files)
    app.on_cleanup.append(_close_files)
    current = app[CHAIN] = Current(chain)

    async def start(app: web.Application) -> None:
        await current.chain.start()

    async def stop(app: web.Application) -> None:
        await current.chain.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    pipeline = Pipeline(current)
    # A batch job's lines are answered from the recordings of the chain serving when it replays, else
    # generated.
    engine = LineEngine(
        lambda: current.chain.store if current.chain.settings.mode == "replay" else None,
        settings.validation_shape,
    )
    app[JOBS] = BatchJobs(app[FILES], engine, settings.job_step_ms)
    app.router.add_get("/health", health)
    app.router.add_get(SIGNED_PREFIX + "{file_id}", signed_download)
    if settings.mode == "synthetic" and not any_route:
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
    app.on_startup.append(_freeze_startup_objects)  # last: after the chain has indexed its recordings
    return app
