//! rust-async — tokio tasks on a multi-thread runtime; the store behind one std Mutex.
//!
//! Runtime flavour: `multi_thread`, one worker thread per core the server is
//! given (`--workers` overrides). It is what `#[tokio::main]` gives, and what
//! the articles mean by async Rust: many tasks, work-stealing over every core.
//! (CPython's `async` strategy is the single-loop one: tokio's `current_thread`
//! with `Rc<RefCell<_>>` is its analogue, not this.) Shared state follows
//! tokio's own advice: a std `Mutex` held for short sections that never cross
//! an `.await` (--hold-us is CPU inside it, blocking that worker, as it would).
//! --io-ms is an awaited `tokio::time::sleep`: the worker serves others meanwhile.
use std::sync::Arc;
use std::time::Duration;

use sharebench::app::{App, Step};
use sharebench::heap::Heap;
use sharebench::http::{self, Framed};
use sharebench::state::Locked;
use sharebench::threaded::{HEAD_TIMEOUT, IDLE_TIMEOUT};
use sharebench::cli;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Shared = Arc<App<Locked>>;

fn main() {
    let opts = cli::parse("rust-async");
    cli::exit_on_signals(); // before the runtime starts its threads
    cli::report_panics();
    let workers = opts.workers.unwrap_or_else(cli::cores);
    let heap = Heap::new(opts.live_objects, opts.churn); // built before the ready line
    let app: Shared = Arc::new(App::new(opts.name.clone(), opts.keys, workers, opts.work,
                                        Locked::new(opts.keys, opts.work), heap));
    let std_listener = cli::listen(&opts);
    cli::announce(&opts, &std_listener, workers, None); // tasks, not threads: no cap
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap_or_else(|err| cli::fail(&format!("cannot start the tokio runtime: {}", err)));
    runtime.block_on(async move {
        std_listener.set_nonblocking(true).unwrap_or_else(|err| cli::fail(&err.to_string()));
        let listener = TcpListener::from_std(std_listener).unwrap_or_else(|err| cli::fail(&err.to_string()));
        loop {
            match listener.accept().await {
                Ok((conn, _)) => {
                    tokio::spawn(connection(app.clone(), conn));
                }
                Err(err) => {
                    eprintln!("sharebench: accept failed: {}", err);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    })
}

/// Read into `buf` within `limit`; `Some(false)` at EOF; `None` on a timeout or error.
async fn fill(conn: &mut TcpStream, buf: &mut Vec<u8>, chunk: &mut [u8], limit: Duration) -> Option<bool> {
    match tokio::time::timeout(limit, conn.read(chunk)).await {
        Ok(Ok(0)) => Some(false),
        Ok(Ok(n)) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(true)
        }
        _ => None,
    }
}

async fn connection(app: Shared, mut conn: TcpStream) {
    let _ = conn.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 65536];
    let mut eof = false;
    let mut limit = HEAD_TIMEOUT; // until the first response; then IDLE_TIMEOUT
    loop {
        let head = match http::frame(&buf, eof) {
            Framed::More => {
                match fill(&mut conn, &mut buf, &mut chunk, limit).await {
                    Some(true) => {}
                    Some(false) => eof = true,
                    None => return,
                }
                continue;
            }
            Framed::Close => return,
            Framed::Reject(status, message) => {
                let _ = conn.write_all(&http::reject(status, message)).await;
                return;
            }
            Framed::Head(head) => head,
        };
        let end = head.head_len + head.length;
        while buf.len() < end {
            if fill(&mut conn, &mut buf, &mut chunk, limit).await != Some(true) {
                return; // the client went away mid-body
            }
        }
        let answer = match app.begin(&head.method, &head.target, &buf[head.head_len..end]) {
            Step::Answer(response) => response,
            Step::State(call) => {
                app.work.cpu();
                if let Some(wait) = app.work.io_duration() {
                    tokio::time::sleep(wait).await;
                }
                app.apply(call)
            }
        };
        let payload = http::response(answer.status, &answer.body, answer.allow, !head.keep_alive);
        if conn.write_all(&payload).await.is_err() || !head.keep_alive {
            return;
        }
        buf.drain(..end);
        limit = IDLE_TIMEOUT;
    }
}
