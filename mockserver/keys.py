"""The typed keys the mock's application and each request carry (aiohttp's ``AppKey``/``RequestKey``)."""

from aiohttp import web

from mockserver.faults import Fault
from mockserver.jobs.batch import BatchJobs
from mockserver.jobs.files import FileStore
from mockserver.ratelimit import RateLimiter
from mockserver.settings import MockSettings
from mockserver.warmup import Warmup

SETTINGS = web.AppKey("settings", MockSettings)
LIMITER = web.AppKey("limiter", RateLimiter)
# Mistral's files (uploads, batch outputs) kept by this mock.
FILES = web.AppKey("files", FileStore)
JOBS = web.AppKey("jobs", BatchJobs)
# Tokenizers and the prose corpus, loading in a thread since startup.
WARM = web.AppKey("warm", Warmup)

REQUEST_ID = web.RequestKey("request_id", str)
CORRELATION_ID = web.RequestKey("correlation_id", str)
API_KEY = web.RequestKey("api_key", str)
FAULT = web.RequestKey("fault", Fault)
# loop.time() when the request reached the server: replayed SSE offsets count from here.
ARRIVED = web.RequestKey("arrived", float)
