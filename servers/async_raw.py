"""async-raw — `async`'s discipline on a raw asyncio event loop, speaking HTTP through the
thread strategies' own parser and response writer (servers/core/http1.py).

Rust analogue: a single-threaded tokio runtime (`current_thread`) with state in an
`Rc<RefCell<_>>`, on hand-written HTTP instead of a framework.
Rule: as `async`: touch the state only between awaits, on one event loop, no lock.
Why it exists: `async` speaks HTTP through aiohttp, the thread strategies through
sharebench's parser, so `async` against `global-lock` mixes the framework's cost
with the execution model's. `async-raw` against `global-lock` is the model alone;
`async` against `async-raw` is the framework alone.
"""
from servers import strategy
from servers.async_loop import AsyncLoop


@strategy("async-raw", discipline="event-loop", model="async",
          analogue="tokio current_thread runtime, Rc<RefCell<State>>, hand-written HTTP",
          rule="no lock: touch state only between awaits (asyncio.Protocol, the threads' HTTP parser)")
class AsyncRaw(AsyncLoop):
    """The same store and discipline as `async`; only the HTTP layer differs."""
    http = "async-raw"
