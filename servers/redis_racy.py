"""redis-racy — redis-mp's processes and Redis, with read-then-write-back updates.

Rust analogue: none of the seeds' in-process disciplines: an external store used
carelessly, the race a borrow checker cannot see because it spans processes.
Rule: none across the round trips. An increment GETs the value, does the hold,
and SETs value + by; a transfer MGETs both values and SETs both. Two workers (or
two threads of one) that read the same value both write back their own sum,
and one update is lost: no interpreter lock is involved, the window is a whole
round trip to Redis. It exists to show the race the way production Python
meets it; marked unsafe and never ranked.

The ledgers stay atomic (INCRBY), so /stats shows the loss as sum < incr_applied,
and its snapshot is still one MULTI/EXEC; a transfer's two writes are not one
command, so a snapshot may also see half of one.
"""
from servers import strategy
from servers.core.redis_store import APPLIED, TRANSFERS, RedisStore, key
from servers.redis_mp import RedisMP


class RacyStore(RedisStore):
    def incr(self, k: int, by: int) -> int:
        name = key(k)
        value = int(self._call(self._redis.get, name) or 0)
        self._hold()  # the window: another worker's write here is overwritten
        value += by
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(name, value)
        pipe.incrby(APPLIED, by)
        self._call(pipe.execute)
        return value

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        a, b = (int(v or 0) for v in self._call(self._redis.mget, [key(src), key(dst)]))
        self._hold()
        a, b = a - amount, b + amount
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(key(src), a)
        pipe.set(key(dst), b)
        pipe.incr(TRANSFERS)
        self._call(pipe.execute)
        return a, b


@strategy("redis-racy", discipline="external-store", model="processes", safe=False,
          analogue="an external store; none of the seeds' in-process disciplines",
          rule="none: read a value, write it back (GET then SET), as careless code does")
class RedisRacy(RedisMP):
    store = RacyStore
