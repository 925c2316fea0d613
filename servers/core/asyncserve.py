"""HTTP on one aiohttp event loop (the async model).

aiohttp parses HTTP; every path goes to one catch-all handler so that routing,
validation and errors come from the shared contract, exactly as in the threads
model. The body limit is enforced here, before reading, so an oversized body is
a JSON 413 like everywhere else.
"""
from __future__ import annotations

import asyncio
import signal
import socket

from aiohttp import web

from .app import App
from .contract import MAX_BODY, HttpError, error_body


def _make_handler(app: App):
    async def handler(request: web.Request) -> web.Response:
        body = b""
        if request.body_exists:
            if (request.content_length or 0) > MAX_BODY:
                err = HttpError(413, f"body over {MAX_BODY} bytes")
                return web.Response(status=413, body=error_body(err),
                                    content_type="application/json",
                                    headers={"Connection": "close"})
            body = await request.content.read(MAX_BODY + 1)
        status, payload, allow = await app.handle_async(request.method, request.raw_path, body)
        headers = {"Allow": allow} if allow else None
        return web.Response(status=status, body=payload, content_type="application/json",
                            headers=headers)
    return handler


async def _run(app: App, listener: socket.socket) -> None:
    web_app = web.Application(client_max_size=MAX_BODY + 1)
    web_app.router.add_route("*", "/{tail:.*}", _make_handler(app))
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, listener)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(app: App, listener: socket.socket) -> None:
    asyncio.run(_run(app, listener))
