//! rust-racy — no synchronisation of the read–modify–write; never ranked.
//!
//! Rule: read, hold, write back, each value on its own atomic but with no
//! compare-and-swap: two requests that read the same value both write their
//! own result and one update is lost — a data race in the discipline, without
//! undefined behaviour in the program (Rust would not compile the `static mut`
//! version without `unsafe`). The ledgers (`incr_applied`, transfers) use
//! fetch_add, so /stats shows exactly what was lost: sum < incr_applied.
use std::sync::atomic::{AtomicI64, Ordering::{Acquire, Relaxed, Release}};

use sharebench::state::{Store, Totals};
use sharebench::work::Work;
use sharebench::{cli, threaded};

struct Racy {
    values: Vec<AtomicI64>,
    applied: Vec<AtomicI64>,
    sent: Vec<AtomicI64>,
    work: Work,
}

fn zeros(keys: usize) -> Vec<AtomicI64> {
    (0..keys).map(|_| AtomicI64::new(0)).collect()
}

impl Store for Racy {
    fn get(&self, key: usize) -> i64 {
        self.values[key].load(Acquire)
    }

    fn incr(&self, key: usize, by: i64) -> i64 {
        let value = self.values[key].load(Acquire);
        self.work.hold(); // others read the same value meanwhile
        self.values[key].store(value + by, Release);
        self.applied[key].fetch_add(by, Relaxed);
        value + by
    }

    fn transfer(&self, src: usize, dst: usize, amount: i64) -> (i64, i64) {
        let (a, b) = (self.values[src].load(Acquire), self.values[dst].load(Acquire));
        self.work.hold();
        self.values[src].store(a - amount, Release);
        self.values[dst].store(b + amount, Release);
        self.sent[src].fetch_add(1, Relaxed);
        (a - amount, b + amount)
    }

    fn totals(&self) -> Totals {
        let sum = |v: &Vec<AtomicI64>| v.iter().map(|x| x.load(Acquire)).sum();
        Totals { sum: sum(&self.values), incr_applied: sum(&self.applied), transfers: sum(&self.sent) }
    }
}

fn main() {
    threaded::main(cli::parse("rust-racy"), |keys, work| Racy {
        values: zeros(keys),
        applied: zeros(keys),
        sent: zeros(keys),
        work,
    })
}
