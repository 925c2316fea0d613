"""async-raw-uvloop — `async-raw` on uvloop's event loop (libuv) instead of asyncio's own.

Rust analogue: as `async-raw`; the event loop's own cost is what changes.
Rule: as `async`: touch the state only between awaits, on one event loop, no lock.
The store, the discipline and the HTTP code are `async-raw`'s: only the loop under
them differs, so the pair shows what the loop itself costs. Needs uvloop (PyPI,
pinned in requirements.lock); without it this module is set aside like any
strategy that will not import, and the rest still runs.
"""
import uvloop  # noqa: F401  missing: the registry sets this strategy aside with the error

from servers import strategy
from servers.async_raw import AsyncRaw


@strategy("async-raw-uvloop", model="async",
          rust="tokio current_thread runtime, Rc<RefCell<State>>, hand-written HTTP",
          rule="as async-raw, on uvloop's event loop (libuv) instead of asyncio's")
class AsyncRawUvloop(AsyncRaw):
    event_loop = "uvloop"
