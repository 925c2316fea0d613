//! --live-objects and --churn: the live heap of servers/core/heap.py, with no collector.
//!
//! The same shape, the same number of heap allocations and about the same bytes:
//! `live_objects / 2` entries, each a boxed record (its key, a version) holding a
//! vector (CPython's entry is a dict holding a list: two objects, two allocations
//! here). Every state request reads one entry anywhere; a `churn` share of them
//! loads CHURN_BATCH new entries over old ones in the first 1/CHURN_PART of the
//! heap, and the old ones are freed at once (drop). The row each load leaves
//! behind as a reference cycle in CPython (what makes its collector run) is
//! nothing here: freed when the load ends, so it is not made. The memory and the
//! work CPython's server pays for its heap, without a collector to walk it.
//!
//! Each entry sits behind its own `Mutex` (a futex word, no allocation): a reader
//! and a replacer of the same entry take turns, others never wait for each other.
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use crate::state::lock;

pub const MAX_LIVE_OBJECTS: usize = 10_000_000;
pub const CHURN_BATCH: usize = 64;
pub const CHURN_PART: usize = 64;
pub const DEFAULT_CHURN: f64 = 1.0 / 16.0;
const OBJECTS_PER_ENTRY: usize = 2;
// Words in an entry's vector: with the box and the slot, an entry takes about the
// bytes CPython's dict-and-list entry takes (README: "The live heap").
const ENTRY_WORDS: usize = 30;

struct Entry {
    key: u64,
    version: u64,
    #[allow(dead_code)] // held for its memory, as CPython's entry holds its list
    refs: Vec<u64>,
}

fn entry(key: usize, version: u64) -> Box<Entry> {
    Box::new(Entry { key: key as u64, version, refs: vec![key as u64; ENTRY_WORDS] })
}

pub struct Heap {
    pub live_objects: usize,
    pub churn: f64,
    entries: Vec<Mutex<Box<Entry>>>,
    part: usize,
    draws: AtomicU64,    // splitmix64 over a shared counter: no RNG crate, no thread-local state
    versions: AtomicU64,
}

fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Heap {
    pub fn new(live_objects: usize, churn: f64) -> Self {
        let count = live_objects / OBJECTS_PER_ENTRY;
        Heap {
            live_objects,
            churn,
            entries: (0..count).map(|key| Mutex::new(entry(key, 0))).collect(),
            part: (count / CHURN_PART).max(1),
            draws: AtomicU64::new(0x5eed),
            versions: AtomicU64::new(1),
        }
    }

    /// Heap allocations the entries hold (two per entry), plus the vector of them.
    pub fn objects(&self) -> usize {
        if self.entries.is_empty() { 0 } else { OBJECTS_PER_ENTRY * self.entries.len() + 1 }
    }

    /// A uniform draw in [0, 1).
    fn draw(&self) -> f64 {
        let bits = splitmix64(self.draws.fetch_add(0x9e37_79b9_7f4a_7c15, Relaxed));
        (bits >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One state request's use of the heap: read an entry; for a churning share,
    /// replace a batch of entries (the old ones are freed here and now).
    pub fn touch(&self) -> u64 {
        let count = self.entries.len();
        if count == 0 {
            return 0;
        }
        let at = (self.draw() * count as f64) as usize;
        let read = {
            let found = lock(&self.entries[at]);
            found.version.wrapping_add(found.key) // what a lookup reads
        };
        if self.churn > 0.0 && self.draw() < self.churn {
            let version = self.versions.fetch_add(1, Relaxed);
            for _ in 0..CHURN_BATCH {
                let key = (self.draw() * self.part as f64) as usize;
                let fresh = entry(key, version);
                let old = std::mem::replace(&mut *lock(&self.entries[key]), fresh);
                drop(old); // after the lock is released: freeing is not the others' wait
            }
        }
        read
    }

    /// For /health, in the shape the Python servers give (no collector: nothing tracked).
    pub fn describe(&self) -> String {
        format!(
            "{{\"live_objects\":{},\"heap_objects\":{},\"tracked_objects\":null,\"churn\":{}}}",
            self.live_objects,
            self.objects(),
            self.churn
        )
    }
}
