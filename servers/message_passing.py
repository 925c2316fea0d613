"""message-passing — one owner thread holds the store; handlers send it messages.

Rust analogue: an `mpsc` channel to an owner task, with a oneshot reply channel.
Rule: nothing but the owner ever touches the state; a handler sends
(operation, arguments, reply queue) and blocks on its reply. Each handler
thread reuses one reply queue of its own, so a request allocates no channel.
Every request pays two thread wake-ups (README, "Measured here", has their cost).
"""
import queue
import threading
from collections.abc import Callable

from servers import strategy
from servers.core.state import PlainState, Totals
from servers.core.work import Work


@strategy("message-passing", model="threads", analogue="mpsc channel to an owner + reply channel",
          rule="only the owner thread touches the store")
class MessagePassing:
    def __init__(self, keys: int, work: Work) -> None:
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._local = threading.local()
        state = PlainState(keys, work.hold)
        threading.Thread(target=self._own, args=(state,), name="owner", daemon=True).start()

    def _own(self, state: PlainState) -> None:
        ops: dict[str, Callable[..., object]] = {"get": state.get, "incr": state.incr,
                                                 "transfer": state.transfer, "totals": state.totals}
        while True:
            op, args, reply = self._inbox.get()
            try:
                reply.put(ops[op](*args))
            except Exception as exc:  # the owner must outlive a bad message
                reply.put(exc)

    def _ask(self, op: str, *args):
        reply = getattr(self._local, "reply", None)
        if reply is None:
            reply = self._local.reply = queue.SimpleQueue()
        self._inbox.put((op, args, reply))
        answer = reply.get()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get(self, key: int) -> int:
        return self._ask("get", key)

    def incr(self, key: int, by: int) -> int:
        return self._ask("incr", key, by)

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        return self._ask("transfer", src, dst, amount)

    def totals(self) -> Totals:
        return self._ask("totals")
