//! rust-sharded — N `Mutex` shards of the store (the Python `sharded`, in Rust).
//!
//! Rule: key k lives in shard k % SHARDS at index k / SHARDS; a request locks
//! only its key's shard. A transfer across two shards locks both in ascending
//! shard order, one global order, so no two transfers deadlock; /stats locks
//! every shard in that order, a consistent snapshot.
//!
//! Mutex shards, not RwLock shards as DashMap has: rust-rwlock already measures
//! read-sharing alone, so this one measures sharding alone, and it is the same
//! discipline as Python's `sharded` (whose stripes are plain locks): like with like.
use std::sync::Mutex;

use sharebench::state::{self, lock, pair, Slot, Store, Totals};
use sharebench::work::Work;
use sharebench::{cli, threaded};

const SHARDS: usize = 16; // as servers/sharded.py's STRIPES

struct Sharded {
    shards: Vec<Mutex<Vec<Slot>>>,
    work: Work,
}

fn place(key: usize) -> (usize, usize) {
    (key % SHARDS, key / SHARDS)
}

impl Store for Sharded {
    fn get(&self, key: usize) -> i64 {
        let (shard, index) = place(key);
        lock(&self.shards[shard])[index].value
    }

    fn incr(&self, key: usize, by: i64) -> i64 {
        let (shard, index) = place(key);
        state::incr(&mut lock(&self.shards[shard])[index], by, &self.work)
    }

    fn transfer(&self, src: usize, dst: usize, amount: i64) -> (i64, i64) {
        let ((s, i), (d, j)) = (place(src), place(dst));
        if s == d {
            let mut slots = lock(&self.shards[s]);
            let (a, b) = pair(&mut slots, i, j);
            return state::transfer(a, b, amount, &self.work);
        }
        let mut first = lock(&self.shards[s.min(d)]);
        let mut second = lock(&self.shards[s.max(d)]);
        let (a, b) = if s < d {
            (&mut first[i], &mut second[j])
        } else {
            (&mut second[i], &mut first[j])
        };
        state::transfer(a, b, amount, &self.work)
    }

    fn totals(&self) -> Totals {
        let guards: Vec<_> = self.shards.iter().map(lock).collect(); // ascending: the order
        let mut totals = Totals::default();
        guards.iter().for_each(|shard| shard.iter().for_each(|slot| totals.add(slot)));
        totals
    }
}

fn main() {
    threaded::main(cli::parse("rust-sharded"), |keys, work| Sharded {
        shards: (0..SHARDS)
            .map(|shard| Mutex::new(vec![Slot::default(); (keys + SHARDS - 1 - shard) / SHARDS]))
            .collect(),
        work,
    })
}
