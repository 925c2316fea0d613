//! rust-stateless — the Rust reference's ceiling: a constant handler on every core.
//!
//! Rule: touch nothing shared (no `Arc<Mutex<_>>`, no atomics of the store):
//! every value is 0 and /stats says `"stateless":true`, as servers/stateless.py
//! does. Parsing, --cpu-us and the hold still run, on OS threads in parallel,
//! so it is the ceiling of the threads model in Rust for the same workload.
use sharebench::{cli, state::Constant, threaded};

fn main() {
    threaded::main(cli::parse("rust-stateless"), Constant::new)
}
