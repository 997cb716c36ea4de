"""The shim's routes: ``create_app(settings)`` wires each route to its handler, behind the edges.

``create_app()`` with no argument reads its settings from the environment (and ``SHIM_CONFIG``), so the
same factory serves ``mistral-shim serve`` and ``gunicorn 'shim.app:create_app()' --worker-class
aiohttp.GunicornWebWorker -w N``: the shim keeps no state between requests and scales out as N copies.
``gunicorn shim.app:gunicorn_runner ...`` is the same app with handlers cancelled when a client leaves.
"""

from typing import Any

from aiohttp import web

from shim import accesslog, edges, pipeline, responses
from shim import settings as shim_settings
from shim.keys import SETTINGS, UPSTREAM
from shim.passthrough import passthrough
from shim.pipeline import Endpoint
from shim.settings import ShimSettings
from shim.translate import chat, completions, embeddings, models
from shim.upstream import Upstream

# aiohttp cancels a handler whose client went away only when asked to; the shim then closes the upstream
# request at once instead of at Mistral's next event. Whatever runs the app should pass these.
RUNNER_OPTIONS: dict[str, Any] = {"handler_cancellation": True, "access_log": None}

CHAT = Endpoint(chat.plan)
COMPLETIONS = Endpoint(completions.plan)
EMBEDDINGS = Endpoint(embeddings.plan, tokenizer=embeddings.tokenizer_for)
LIST_MODELS = Endpoint(models.plan_list, reads_body=False)
RETRIEVE_MODEL = Endpoint(models.plan_retrieve, reads_body=False)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


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
    responses.setup(app, settings)
    app.router.add_get("/health", health)
    # OpenAI's routes, each also without /v1: guides give the base URL both ways, and
    # OpenAI(base_url="http://shim:8080") must work as well as ".../v1".
    for prefix in ("/v1", ""):
        app.router.add_post(f"{prefix}/chat/completions", pipeline.handler(CHAT))
        app.router.add_post(f"{prefix}/completions", pipeline.handler(COMPLETIONS))
        app.router.add_post(f"{prefix}/embeddings", pipeline.handler(EMBEDDINGS))
        app.router.add_get(f"{prefix}/models", pipeline.handler(LIST_MODELS))
        app.router.add_get(f"{prefix}/models/{{model_id:.+}}", pipeline.handler(RETRIEVE_MODEL))
        app.router.add_post(f"{prefix}/responses", pipeline.handler(responses.CREATE))
        app.router.add_post(f"{prefix}/responses/input_tokens", responses.input_tokens)
        app.router.add_get(f"{prefix}/responses/{{response_id}}", responses.retrieve)
        app.router.add_delete(f"{prefix}/responses/{{response_id}}", responses.delete)
        app.router.add_get(f"{prefix}/responses/{{response_id}}/input_items", responses.input_items)
        app.router.add_post(f"{prefix}/responses/{{response_id}}/cancel", responses.cancel)
        app.router.add_post(f"{prefix}/ocr", passthrough)
    app.router.add_route("*", "/mistral/v1/{path:.+}", passthrough)
    return app


async def gunicorn_runner() -> web.AppRunner:
    """``gunicorn shim.app:gunicorn_runner --worker-class aiohttp.GunicornWebWorker``: ``create_app()``
    with ``RUNNER_OPTIONS``, which aiohttp's worker accepts as a runner but cannot be told itself."""
    return web.AppRunner(create_app(), **RUNNER_OPTIONS)
