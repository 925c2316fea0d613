//! One request, start to finish, minus the socket (servers/core/handling.py).
//! `begin` counts and routes it; a state operation then gets its work knobs from
//! the execution model (blocking or awaited), and `apply` runs it on the store.
use std::sync::atomic::{AtomicU64, Ordering};

use crate::contract::{self, Call};
use crate::heap::Heap;
use crate::state::Store;
use crate::work::Work;

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    pub allow: &'static str,
}

pub enum Step {
    Answer(Response),
    State(Call), // a state operation: do --cpu-us and --io-ms, then `apply`
}

pub struct App<S: Store> {
    pub name: String,
    pub keys: usize,
    pub workers: usize,
    pub work: Work,
    pub store: S,
    pub heap: Heap, // --live-objects: read and churned by every state request
    requests: AtomicU64, // every request answered by the app, this one included, errors too
}

fn ok(body: Vec<u8>) -> Response {
    Response { status: 200, body, allow: "" }
}

impl<S: Store> App<S> {
    pub fn new(name: String, keys: usize, workers: usize, work: Work, store: S, heap: Heap) -> Self {
        App { name, keys, workers, work, store, heap, requests: AtomicU64::new(0) }
    }

    pub fn begin(&self, method: &[u8], target: &[u8], body: &[u8]) -> Step {
        let count = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        match contract::parse(method, target, body, self.keys) {
            Err(err) => Step::Answer(Response {
                status: err.status,
                body: contract::error_body(&err),
                allow: err.allow,
            }),
            Ok(Call::Health) => Step::Answer(ok(format!(
                "{{\"status\":\"ok\",\"strategy\":{},\"workers\":{},\"pid\":{},\"language\":\"rust\",\"heap\":{}}}",
                contract::quote(&self.name),
                self.workers,
                std::process::id(),
                self.heap.describe()
            )
            .into_bytes())),
            Ok(Call::Stats) => {
                let t = self.store.totals();
                let stateless = if self.store.stateless() { ",\"stateless\":true" } else { "" };
                Step::Answer(ok(format!(
                    "{{\"sum\":{},\"incr_applied\":{},\"transfers\":{},\"requests\":{}{}}}",
                    t.sum, t.incr_applied, t.transfers, count, stateless
                )
                .into_bytes()))
            }
            Ok(call) => Step::State(call),
        }
    }

    pub fn apply(&self, call: Call) -> Response {
        self.heap.touch();
        let (value, other) = match call {
            Call::Get(key) => (self.store.get(key), 0),
            Call::Incr(key, by) => (self.store.incr(key, by), 0),
            Call::Transfer(src, dst, amount) => self.store.transfer(src, dst, amount),
            Call::Health | Call::Stats => unreachable!("answered in begin"),
        };
        ok(contract::result_body(call, value, other))
    }

    /// The whole request for a thread that may block: knobs, then the store.
    pub fn handle_blocking(&self, method: &[u8], target: &[u8], body: &[u8]) -> Response {
        match self.begin(method, target, body) {
            Step::Answer(response) => response,
            Step::State(call) => {
                self.work.cpu();
                if let Some(wait) = self.work.io_duration() {
                    std::thread::sleep(wait);
                }
                self.apply(call)
            }
        }
    }
}
