"""The typed keys the shim's application and each request carry (aiohttp's ``AppKey``/``RequestKey``)."""

from aiohttp import web

from shim.settings import ShimSettings
from shim.store import ResponseStore
from shim.upstream import Upstream

SETTINGS = web.AppKey("settings", ShimSettings)
UPSTREAM = web.AppKey("upstream", Upstream)
# The Responses API's store (``shim.responses`` opens it at startup).
STORE = web.AppKey("responses_store", ResponseStore)

REQUEST_ID = web.RequestKey("request_id", str)
STARTED = web.RequestKey("started", float)
# The bearer to forward upstream, or None when the shim uses its own MISTRAL_API_KEY (set by the edges).
CREDENTIAL = web.RequestKey[str | None]("credential")
