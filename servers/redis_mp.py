"""redis-mp — N worker processes, the store in a real Redis that every worker talks to.

Rust analogue: none of the seeds' in-process disciplines. The store is an
external server reached over a socket, the way multi-process Python services
really share counters, sessions and rate limits: one owner (Redis, one thread)
that applies each command whole, so the critical sections are atomic commands.
Rule: every operation is one atomic Redis command or server-side script; no
worker reads a value and writes it back.

Operations: a read is one GET; an increment one script (INCRBY the key and the
`applied` ledger); a transfer one script (INCRBY -n, INCRBY +n, INCR
`transfers`), one round trip and never retried. A WATCH/MULTI transfer needs
three round trips and retries under contention (docs/redis.md has the figures);
the script needs one. /stats reads every value and both ledgers in one
MULTI/EXEC. The hold (--hold-us) runs in the worker before the command: Redis
runs no Python inside its critical section, so the work is paid, nothing held.

Redis itself runs as this server's helper (servers/core/redis_store.py). Each
worker serves HTTP with a thread per connection (up to 1024), each thread
borrowing one of its process's connections to Redis. A worker holds no state,
so a dead one is replaced; Redis's death is fatal (it held the only copy).
"""
from servers import strategy
from servers.core import redis_store
from servers.core.processes import Helper
from servers.core.redis_store import APPLIED, TRANSFERS, RedisServer, RedisStore, key
from servers.core.work import Work

INCR = "redis.call('INCRBY', KEYS[2], ARGV[1]) return redis.call('INCRBY', KEYS[1], ARGV[1])"
TRANSFER = """
local amount = tonumber(ARGV[1])
local a = redis.call('INCRBY', KEYS[1], -amount)
local b = redis.call('INCRBY', KEYS[2], amount)
redis.call('INCR', KEYS[3])
return {a, b}
"""


class AtomicStore(RedisStore):
    def __init__(self, *args) -> None:
        super().__init__(*args)
        self._incr = self._redis.register_script(INCR)
        self._transfer = self._redis.register_script(TRANSFER)

    def incr(self, k: int, by: int) -> int:
        self._hold()
        return int(self._call(self._incr, [key(k), APPLIED], [by]))

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        self._hold()
        a, b = self._call(self._transfer, [key(src), key(dst), TRANSFERS], [amount])
        return int(a), int(b)


@strategy("redis-mp", discipline="external-store", model="processes",
          analogue="an external store; none of the seeds' in-process disciplines",
          rule="every operation is one atomic Redis command or script")
class RedisMP:
    http = "threads"
    respawn = True
    why = ""
    store: type[RedisStore] = AtomicStore
    unavailable = staticmethod(redis_store.missing)

    def __init__(self, keys: int, work: Work, workers: int) -> None:
        self._keys, self._hold = keys, work.hold
        self._redis = RedisServer()

    def helpers(self) -> list[Helper]:
        return [self._redis.helper()]

    def attach(self, index: int) -> RedisStore:
        return self.store(self._redis.client(), self._keys, self._hold)
