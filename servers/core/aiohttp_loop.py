"""HTTP on one aiohttp event loop (the async model).

aiohttp parses HTTP; every path goes to one catch-all handler so that routing,
validation and errors come from the shared contract, exactly as in the threads
model. The body rules are enforced here, before the contract sees the body, so
that they answer as the threads model does: a JSON 413 over the limit, a 400
for a chunked body (Transfer-Encoding) or one cut short by EOF.
"""
from __future__ import annotations

import asyncio
import signal
import socket

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from .contract import MAX_BODY, HttpError, error_body
from .handling import App


def _refuse(status: int, message: str) -> web.Response:
    """A JSON error that closes the connection: the rest of the body is never read."""
    return web.Response(status=status, body=error_body(HttpError(status, message)),
                        content_type="application/json", headers={"Connection": "close"})


def _make_handler(app: App):
    async def handler(request: web.Request) -> web.Response:
        body = b""
        if request.body_exists:
            length = request.content_length
            if length is None:  # only a chunked body has no length (llhttp refuses both)
                return _refuse(400, "Transfer-Encoding is not supported; send Content-Length")
            if length > MAX_BODY:
                return _refuse(413, f"body over {MAX_BODY} bytes")
            try:
                # Not read(n): it returns whatever has arrived, so a body in several
                # segments would be cut short, and one ended by EOF applied half-sent.
                body = await request.content.readexactly(length)
            except (asyncio.IncompleteReadError, HttpProcessingError):
                return _refuse(400, "body shorter than its Content-Length")
        status, payload, allow = await app.handle_async(request.method, request.raw_path, body)
        headers = {"Allow": allow} if allow else None
        return web.Response(status=status, body=payload, content_type="application/json",
                            headers=headers)
    return handler


async def _run(app: App, listener: socket.socket, backlog: int) -> None:
    web_app = web.Application(client_max_size=MAX_BODY + 1)
    web_app.router.add_route("*", "/{tail:.*}", _make_handler(app))
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    # The same kernel queue as every sharebench server (aiohttp's own default is 128).
    site = web.SockSite(runner, listener, backlog=backlog)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(app: App, listener: socket.socket, backlog: int) -> None:
    asyncio.run(_run(app, listener, backlog))
