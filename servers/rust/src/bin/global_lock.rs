//! rust-global-lock — one `Arc<Mutex<State>>` behind OS threads.
//!
//! Rule: every request takes the one lock around the whole store. Unlike
//! CPython's `global-lock`, the handlers around it (parsing, --cpu-us) run in
//! parallel on every core the server is given: only the critical section is serial.
use sharebench::{cli, state::Locked, threaded};

fn main() {
    threaded::main(cli::parse("rust-global-lock"), Locked::new)
}
