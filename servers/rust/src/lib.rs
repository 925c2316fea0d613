//! The sharebench contract (CONTRACT.md) in Rust, written once for every Rust
//! strategy, as servers/core/ is for the Python ones: a binary supplies only its
//! store (its sharing discipline) and its execution model.
//!
//! - `http`: HTTP/1.1 framing, the same limits and rejections as servers/core/threaded.py;
//! - `json`, `contract`: routing, validation and response shapes (servers/core/contract.py);
//! - `app`: one request minus the socket, the request counter, /health and /stats;
//! - `heap`: the live heap of --live-objects, read and churned by state requests;
//! - `state`: the counters and their read–hold–write steps (servers/core/state.py);
//! - `work`: the work knobs, costed on the thread's CPU clock;
//! - `threaded`: the threads model (a thread per connection, `--workers` caps them);
//! - `cli`: the flags, the ready line, SIGINT/SIGTERM.
pub mod app;
pub mod cli;
pub mod contract;
pub mod heap;
pub mod http;
pub mod json;
pub mod state;
pub mod threaded;
pub mod work;
