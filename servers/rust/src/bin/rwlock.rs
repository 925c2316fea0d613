//! rust-rwlock — one `Arc<RwLock<State>>`: many readers at once, or one writer.
//!
//! Rule: a read (get, /stats) shares the store with other reads on every core;
//! a read–modify–write (incr, transfer) has it alone. std's RwLock on Linux is
//! writer-preferring (a waiting writer holds new readers back), as the Python
//! `rwlock` (servers/core/rwlock.py) is.
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use sharebench::state::{self, pair, Slot, Store, Totals};
use sharebench::work::Work;
use sharebench::{cli, threaded};

struct Shared {
    slots: RwLock<Vec<Slot>>,
    work: Work,
}

// As state::lock: a panic elsewhere never leaves these plain integers half-written.
fn read(lock: &RwLock<Vec<Slot>>) -> RwLockReadGuard<'_, Vec<Slot>> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write(lock: &RwLock<Vec<Slot>>) -> RwLockWriteGuard<'_, Vec<Slot>> {
    lock.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Store for Shared {
    fn get(&self, key: usize) -> i64 {
        read(&self.slots)[key].value
    }

    fn incr(&self, key: usize, by: i64) -> i64 {
        state::incr(&mut write(&self.slots)[key], by, &self.work)
    }

    fn transfer(&self, src: usize, dst: usize, amount: i64) -> (i64, i64) {
        let mut slots = write(&self.slots);
        let (a, b) = pair(&mut slots, src, dst);
        state::transfer(a, b, amount, &self.work)
    }

    fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        read(&self.slots).iter().for_each(|slot| totals.add(slot));
        totals
    }
}

fn main() {
    threaded::main(cli::parse("rust-rwlock"), |keys, work| Shared {
        slots: RwLock::new(vec![Slot::default(); keys]),
        work,
    })
}
