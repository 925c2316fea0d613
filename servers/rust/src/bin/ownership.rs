//! rust-ownership — a lock per key, the borrow of one entry for one request.
//!
//! Rule: take only your keys; requests on different keys never wait for one
//! another. A transfer takes its two keys in ascending key order — one global
//! order — so two transfers never each hold the key the other waits for.
//! /stats takes every key in that same order: a consistent snapshot.
use std::sync::Mutex;

use sharebench::state::{self, lock, Slot, Store, Totals};
use sharebench::work::Work;
use sharebench::{cli, threaded};

struct Ownership {
    slots: Vec<Mutex<Slot>>,
    work: Work,
}

impl Store for Ownership {
    fn get(&self, key: usize) -> i64 {
        lock(&self.slots[key]).value
    }

    fn incr(&self, key: usize, by: i64) -> i64 {
        state::incr(&mut lock(&self.slots[key]), by, &self.work)
    }

    fn transfer(&self, src: usize, dst: usize, amount: i64) -> (i64, i64) {
        let (low, high) = (src.min(dst), src.max(dst));
        let mut first = lock(&self.slots[low]);
        let mut second = lock(&self.slots[high]);
        let (a, b) = if src == low { (&mut *first, &mut *second) } else { (&mut *second, &mut *first) };
        state::transfer(a, b, amount, &self.work)
    }

    fn totals(&self) -> Totals {
        let guards: Vec<_> = self.slots.iter().map(lock).collect();
        let mut totals = Totals::default();
        guards.iter().for_each(|slot| totals.add(slot));
        totals
    }
}

fn main() {
    threaded::main(cli::parse("rust-ownership"), |keys, work| Ownership {
        slots: (0..keys).map(|_| Mutex::new(Slot::default())).collect(),
        work,
    })
}
