"""The shim's routes: ``create_app(settings)`` wires each route to its handler, behind the edges.

``create_app()`` with no argument reads its settings from the environment (and ``SHIM_CONFIG``), so the
same factory serves ``mistral-shim serve`` and ``gunicorn 'shim.app:create_app()' --worker-class
aiohttp.GunicornWebWorker -w N``: the shim keeps no state between requests and scales out as N copies.
``gunicorn shim.app:gunicorn_runner ...`` is the same app with handlers cancelled when a client leaves.
"""

import gc
import logging
import time
from concurrent.futures import Future
from typing import Any

from aiohttp import web

from mistral_wire import tokens
from shim import accesslog, audio, batches, edges, files, pipeline, responses
from shim import settings as shim_settings
from shim.keys import SETTINGS, UPSTREAM
from shim.passthrough import passthrough
from shim.pipeline import Endpoint
from shim.settings import ShimSettings
from shim.translate import audio as audio_translation
from shim.translate import chat, completions, embeddings, models, moderations
from shim.upstream import Upstream

# aiohttp cancels a handler whose client went away only when asked to; the shim then closes the upstream
# request at once instead of at Mistral's next event. Whatever runs the app should pass these.
log = logging.getLogger("shim")

RUNNER_OPTIONS: dict[str, Any] = {"handler_cancellation": True, "access_log": None}

CHAT = Endpoint(chat.plan)
COMPLETIONS = Endpoint(completions.plan)
EMBEDDINGS = Endpoint(embeddings.plan, tokenizer=embeddings.tokenizer_for)
LIST_MODELS = Endpoint(models.plan_list, reads_body=False)
RETRIEVE_MODEL = Endpoint(models.plan_retrieve, reads_body=False)
MODERATIONS = Endpoint(moderations.plan)
SPEECH = Endpoint(audio_translation.plan_speech)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _warm_tokenizers(app: web.Application) -> None:
    """Start loading tekken in a thread (``--warm-tokenizers``); startup and requests do not wait for it.

    Off by default: tekken holds about 110 MB, which a shim that never counts tokens would carry for
    nothing, and without it the first request that needs it loads it, in a thread, while others go on."""
    started = time.monotonic()

    def report(loading: "Future[None]") -> None:
        error = loading.exception()
        if error is not None:
            log.warning("could not load the tokenizer ahead of requests (%s): it loads when needed", error)
        else:
            log.info("Mistral's tokenizer (tekken) loaded in %.1f s", time.monotonic() - started)

    tokens.warm_in_background(("tekken",)).add_done_callback(report)


async def _freeze_startup_objects(app: web.Application) -> None:
    """Move every object alive once the shim has started out of the garbage collector's sight.

    Modules, tables, pydantic schemas and the store live as long as the process; without this each full
    collection walks them all again, and under load (a 50 KB conversation parses into thousands of
    containers) those collections came often enough to triple the p99 of large requests at 16 clients
    (bench/run.py, "no p99 collapse": 4.85x bare's, 1.0x with the freeze)."""
    gc.freeze()


def create_app(settings: ShimSettings | None = None) -> web.Application:
    """The shim as an aiohttp application; settings from the environment when none are given."""
    if settings is None:  # gunicorn and other hosts: settings and logging from the environment
        settings = shim_settings.load()
        accesslog.configure(settings.log_level, settings.secrets)
    app = web.Application(middlewares=[edges.edges], client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    upstream = Upstream(settings)
    app[UPSTREAM] = upstream
    app.on_startup.append(upstream.start)
    app.on_cleanup.append(upstream.close)
    if settings.warm_tokenizers:
        app.on_startup.append(_warm_tokenizers)
    responses.setup(app, settings)
    app.router.add_get("/health", health)
    _route(app, "POST", "/chat/completions", pipeline.handler(CHAT))
    _route(app, "POST", "/completions", pipeline.handler(COMPLETIONS))
    _route(app, "POST", "/embeddings", pipeline.handler(EMBEDDINGS))
    _route(app, "GET", "/models", pipeline.handler(LIST_MODELS))
    _route(app, "GET", "/models/{model_id:.+}", pipeline.handler(RETRIEVE_MODEL))
    _route(app, "POST", "/ocr", passthrough)
    _responses(app)
    _files_batches_moderations_audio(app)
    app.router.add_route("*", "/mistral/v1/{path:.+}", passthrough)
    app.on_startup.append(_freeze_startup_objects)  # last: after everything startup opens
    return app


def _route(app: web.Application, method: str, path: str, handler: pipeline.Handler) -> None:
    """``/v1{path}``, and ``{path}`` for clients configured with the shim's root as their base URL: guides
    give the base URL both ways, and ``OpenAI(base_url="http://shim:8080")`` must work like ``.../v1``."""
    app.router.add_route(method, f"/v1{path}", handler)
    app.router.add_route(method, path, handler)


def _responses(app: web.Application) -> None:
    """OpenAI's Responses API, on Mistral's chat completions and the shim's store (issue 14)."""
    _route(app, "POST", "/responses", pipeline.handler(responses.CREATE))
    _route(app, "POST", "/responses/input_tokens", responses.input_tokens)
    _route(app, "GET", "/responses/{response_id}", responses.retrieve)
    _route(app, "DELETE", "/responses/{response_id}", responses.delete)
    _route(app, "GET", "/responses/{response_id}/input_items", responses.input_items)
    _route(app, "POST", "/responses/{response_id}/cancel", responses.cancel)


def _files_batches_moderations_audio(app: web.Application) -> None:
    """OpenAI's files, batches, moderations and audio on Mistral's (issue 16)."""
    _route(app, "POST", "/files", pipeline.guarded(files.upload))
    _route(app, "GET", "/files", pipeline.guarded(files.listing))
    _route(app, "GET", "/files/{file_id}", pipeline.guarded(files.retrieve))
    _route(app, "DELETE", "/files/{file_id}", pipeline.guarded(files.delete))
    _route(app, "GET", "/files/{file_id}/content", pipeline.guarded(files.content))
    _route(app, "POST", "/moderations", pipeline.handler(MODERATIONS))
    _route(app, "POST", "/batches", pipeline.guarded(batches.create))
    _route(app, "GET", "/batches", pipeline.guarded(batches.listing))
    _route(app, "GET", "/batches/{batch_id}", pipeline.guarded(batches.retrieve))
    _route(app, "POST", "/batches/{batch_id}/cancel", pipeline.guarded(batches.cancel))
    _route(app, "POST", "/audio/transcriptions", pipeline.guarded(audio.transcribe))
    _route(app, "POST", "/audio/translations", pipeline.guarded(audio.translate))
    _route(app, "POST", "/audio/speech", pipeline.handler(SPEECH))


async def gunicorn_runner() -> web.AppRunner:
    """``gunicorn shim.app:gunicorn_runner --worker-class aiohttp.GunicornWebWorker``: ``create_app()``
    with ``RUNNER_OPTIONS``, which aiohttp's worker accepts as a runner but cannot be told itself."""
    return web.AppRunner(create_app(), **RUNNER_OPTIONS)
