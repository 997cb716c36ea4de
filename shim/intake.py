"""Reading a client's request body, within the shim's limits, whatever the client does while sending it.

Three things can go wrong before a body is even JSON, and each is the client's 4xx, never a hang or a 500:

* **Too large** (413): over ``--max-body-mb``. A declared ``Content-Length`` over the limit is refused
  before a byte of the body is read; a chunked body is refused as soon as it passes the limit.
* **Too slow** (408): no byte for ``--client-timeout`` seconds. Without it a client that stops half-way
  (or a compressed body whose decoder waits for data that never comes) would hold a handler open.
* **Not decodable** (400): a ``Content-Encoding`` (gzip, deflate, br) whose data does not decompress.

After any of them the connection is closed once the answer is sent (``Ledger.close_after``): the rest of
the body is not worth reading, and after a decoding failure aiohttp's parser has already lost its place.
"""

import asyncio

from aiohttp import web

from shim.state import CONFIG, LEDGER
from shim.translate.problem import OpenAIError


def too_large(request: web.Request) -> OpenAIError:
    """OpenAI's 413 for a body over ``--max-body-mb``, naming the limit and the setting that raises it."""
    config = request.app[CONFIG]
    request[LEDGER].close_after = True
    return OpenAIError(
        413,
        f"The request body exceeds the shim's limit of {config.max_body_bytes} bytes "
        f"({config.max_body_mb:g} MB, set with --max-body-mb).",
        code="request_too_large",
    )


def _too_slow(request: web.Request) -> OpenAIError:
    request[LEDGER].close_after = True
    seconds = request.app[CONFIG].client_timeout
    return OpenAIError(
        408,
        f"The request body stopped arriving: nothing for {seconds:g} seconds (--client-timeout).",
        code="request_timeout",
    )


def _undecodable(request: web.Request) -> OpenAIError:
    request[LEDGER].close_after = True
    # aiohttp marked this payload finished with an error; ending it stops aiohttp from reading the
    # rest as the body (and logging the error again) before it closes the connection.
    request.content.feed_eof()
    encoding = request.headers.get("Content-Encoding", "identity")
    return OpenAIError(
        400,
        f"The request body could not be decoded: it is not valid '{encoding}' data, as its "
        "Content-Encoding header says.",
        code="invalid_body_encoding",
    )


async def read(request: web.Request) -> bytes:
    """The whole body, or the 413, 408 or 400 (raised) that says why not."""
    config = request.app[CONFIG]
    limit = config.max_body_bytes
    if (request.content_length or 0) > limit:
        raise too_large(request)
    body = bytearray()
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(config.client_timeout) as idle:
            while chunk := await request.content.readany():
                body += chunk
                if len(body) > limit:
                    raise too_large(request)
                idle.reschedule(loop.time() + config.client_timeout)
    except TimeoutError:
        raise _too_slow(request) from None
    except web.RequestPayloadError:
        raise _undecodable(request) from None
    return bytes(body)
