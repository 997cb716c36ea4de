"""A bare aiohttp byte-forwarding proxy: the floor for one Python hop, to compare the shim with.

It does what any aiohttp reverse proxy must do and nothing else: read the request body, send it upstream
over one pooled keep-alive ``ClientSession``, and forward the answer's status, headers and bytes as they
arrive (no parsing, no translation, no logging; ``Content-Length`` kept when upstream sent one, chunked
otherwise). Only ``bench/shim_bench.py`` uses it.

    .venv/bin/python -m bench.bare_proxy --port 8090 --upstream http://127.0.0.1:8000
"""

import argparse

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

HOP_BY_HOP = frozenset(
    "connection keep-alive proxy-authenticate proxy-authorization te trailers transfer-encoding upgrade "
    "host content-length".split()
)
SESSION = web.AppKey("session", aiohttp.ClientSession)
UPSTREAM = web.AppKey("upstream", str)


def _forwarded(headers: "CIMultiDict[str] | object") -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in HOP_BY_HOP)  # type: ignore[attr-defined]


async def forward(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    url = request.app[UPSTREAM] + request.raw_path
    async with request.app[SESSION].request(
        request.method, url, data=body or None, headers=_forwarded(request.headers)
    ) as upstream:
        response = web.StreamResponse(status=upstream.status, headers=_forwarded(upstream.headers))
        if upstream.content_length is not None:
            response.content_length = upstream.content_length
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
        await response.write_eof()
        return response


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app(upstream: str) -> web.Application:
    app = web.Application(client_max_size=50 * 1024 * 1024)
    app[UPSTREAM] = upstream.rstrip("/")

    async def session_context(app: web.Application):  # type: ignore[no-untyped-def]
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False, skip_auto_headers=("User-Agent",)
        ) as session:
            app[SESSION] = session
            yield

    app.cleanup_ctx.append(session_context)
    app.router.add_get("/health", health)
    app.router.add_route("*", "/{path:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    web.run_app(create_app(args.upstream), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
