//! The store's data and its read–modify–write steps, with no discipline at all
//! (servers/core/state.py): each strategy wraps them in its own.
//! Ledgers are per key so that a discipline guarding only the keys a request
//! touches keeps them exact too.
use std::sync::{Mutex, MutexGuard};

use crate::work::Work;

#[derive(Clone, Copy, Debug, Default)]
pub struct Slot {
    pub value: i64,
    pub applied: i64, // sum of the `by` of increments applied to this key
    pub sent: i64,    // transfers that left this key
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    pub sum: i64,
    pub incr_applied: i64,
    pub transfers: i64,
}

impl Totals {
    pub fn add(&mut self, slot: &Slot) {
        self.sum += slot.value;
        self.incr_applied += slot.applied;
        self.transfers += slot.sent;
    }
}

/// What every strategy offers: the contract's state operations.
pub trait Store: Send + Sync + 'static {
    fn get(&self, key: usize) -> i64;
    fn incr(&self, key: usize, by: i64) -> i64;
    fn transfer(&self, src: usize, dst: usize, amount: i64) -> (i64, i64);
    fn totals(&self) -> Totals;
    /// True for a store that keeps no state: /stats then says `"stateless":true`.
    fn stateless(&self) -> bool {
        false
    }
}

pub fn incr(slot: &mut Slot, by: i64, work: &Work) -> i64 {
    let value = slot.value;
    work.hold(); // the window a missing discipline would let others into
    slot.value = value + by;
    slot.applied += by;
    slot.value
}

pub fn transfer(src: &mut Slot, dst: &mut Slot, amount: i64, work: &Work) -> (i64, i64) {
    let (a, b) = (src.value, dst.value);
    work.hold();
    src.value = a - amount;
    dst.value = b + amount;
    src.sent += 1;
    (src.value, dst.value)
}

/// Two distinct slots of one slice, mutably.
pub fn pair(slots: &mut [Slot], src: usize, dst: usize) -> (&mut Slot, &mut Slot) {
    if src < dst {
        let (low, high) = slots.split_at_mut(dst);
        (&mut low[src], &mut high[0])
    } else {
        let (low, high) = slots.split_at_mut(src);
        (&mut high[0], &mut low[dst])
    }
}

/// A lock, even if a thread panicked while holding it: the counters are plain
/// integers, never half-written across a panic that matters here.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One `Mutex` around the whole store: `Arc<Mutex<State>>` (the App is the Arc).
pub struct Locked {
    slots: Mutex<Vec<Slot>>,
    work: Work,
}

impl Locked {
    pub fn new(keys: usize, work: Work) -> Self {
        Locked { slots: Mutex::new(vec![Slot::default(); keys]), work }
    }
}

impl Store for Locked {
    fn get(&self, key: usize) -> i64 {
        lock(&self.slots)[key].value
    }

    fn incr(&self, key: usize, by: i64) -> i64 {
        incr(&mut lock(&self.slots)[key], by, &self.work)
    }

    fn transfer(&self, src: usize, dst: usize, amount: i64) -> (i64, i64) {
        let mut slots = lock(&self.slots);
        let (a, b) = pair(&mut slots, src, dst);
        transfer(a, b, amount, &self.work)
    }

    fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        lock(&self.slots).iter().for_each(|slot| totals.add(slot));
        totals
    }
}

/// No state at all: every value 0, every total 0 (servers/stateless.py). The
/// read–modify–writes still do their hold, so the ceiling costs the same work.
pub struct Constant {
    work: Work,
}

impl Constant {
    pub fn new(_keys: usize, work: Work) -> Self {
        Constant { work }
    }
}

impl Store for Constant {
    fn get(&self, _key: usize) -> i64 {
        0
    }

    fn incr(&self, _key: usize, _by: i64) -> i64 {
        self.work.hold();
        0
    }

    fn transfer(&self, _src: usize, _dst: usize, _amount: i64) -> (i64, i64) {
        self.work.hold();
        (0, 0)
    }

    fn totals(&self) -> Totals {
        Totals::default()
    }

    fn stateless(&self) -> bool {
        true
    }
}
