//! The threads model: a thread per connection, at most `--workers` serving at once
//! (servers/core/threaded.py). Responses leave in one write on a TCP_NODELAY socket;
//! connections are persistent.
//!
//! Slow clients: a connection takes one of the `--workers` slots only once it has
//! sent a byte; until then it waits in its own thread (cheap here, unlike a Python
//! thread) and is closed after HEAD_TIMEOUT (or, past MAX_SILENT, the oldest first,
//! once it has had SILENT_GRACE to speak: until then the accept loop waits, and new
//! connections wait in the kernel's backlog; threaded.py says why).
//! Each read of a first request must come within HEAD_TIMEOUT; after a response the
//! connection may idle IDLE_TIMEOUT between requests.
use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::app::App;
use crate::cli::{self, Options};
use crate::http::{self, Framed};
use crate::heap::Heap;
use crate::state::{lock, Store};

pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_SILENT: usize = 4096;
const SILENT_GRACE: Duration = Duration::from_secs(1);
const STACK: usize = 512 * 1024;

/// A counting semaphore: the connection slots.
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn take(&self) {
        let mut free = lock(&self.free);
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
    }

    fn give(&self) {
        *lock(&self.free) += 1;
        self.freed.notify_one();
    }
}

/// Connections that have not spoken yet, oldest first (ids only grow).
#[derive(Default)]
struct Silent {
    waiting: Mutex<(u64, BTreeMap<u64, (Instant, TcpStream)>)>,
}

impl Silent {
    fn add(&self, conn: &TcpStream) -> Option<u64> {
        let clone = conn.try_clone().ok()?;
        loop {
            let mut guard = lock(&self.waiting);
            let (next, waiting) = &mut *guard;
            if waiting.len() >= MAX_SILENT {
                let (oldest, since) = waiting.iter().next().map(|(&id, (at, _))| (id, *at))?;
                if since.elapsed() < SILENT_GRACE {
                    drop(guard); // let it speak; the kernel's backlog holds the rest
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                if let Some((_, old)) = waiting.remove(&oldest) {
                    let _ = old.shutdown(Shutdown::Both); // its thread reads EOF and ends
                }
            }
            *next += 1;
            waiting.insert(*next, (Instant::now(), clone));
            return Some(*next);
        }
    }

    fn forget(&self, id: u64) {
        lock(&self.waiting).1.remove(&id);
    }
}

/// Serve `store` in the threads model until SIGINT/SIGTERM; never returns.
pub fn main<S: Store>(opts: Options, store: impl FnOnce(usize, crate::work::Work) -> S) -> ! {
    cli::exit_on_signals();
    cli::report_panics();
    let workers = opts.workers.unwrap_or(cli::THREAD_WORKERS);
    let heap = Heap::new(opts.live_objects, opts.churn); // built before the ready line
    let app = Arc::new(App::new(opts.name.clone(), opts.keys, workers, opts.work,
                                store(opts.keys, opts.work), heap));
    let listener = cli::listen(&opts);
    cli::announce(&opts, &listener, workers, Some(workers));
    serve(app, listener, workers)
}

fn serve<S: Store>(app: Arc<App<S>>, listener: TcpListener, workers: usize) -> ! {
    let slots = Arc::new(Slots { free: Mutex::new(workers), freed: Condvar::new() });
    let silent = Arc::new(Silent::default());
    loop {
        let conn = match listener.accept() {
            Ok((conn, _)) => conn,
            Err(err) => {
                // e.g. out of descriptors: make room, or back off instead of spinning
                eprintln!("sharebench: accept failed: {}", err);
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let id = match silent.add(&conn) {
            Some(id) => id,
            None => continue,
        };
        let (app, slots, room) = (app.clone(), slots.clone(), silent.clone());
        let spawned = std::thread::Builder::new().stack_size(STACK).spawn(move || {
            connection(&app, conn, id, &slots, &room);
        });
        if spawned.is_err() {
            silent.forget(id); // no thread to be had: the connection closes
        }
    }
}

/// Read into `buf`; `Ok(false)` at EOF; `Err` on a timeout, a reset, ...
fn fill(conn: &mut TcpStream, buf: &mut Vec<u8>, chunk: &mut [u8]) -> std::io::Result<bool> {
    loop {
        match conn.read(chunk) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(true);
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
}

fn connection<S: Store>(app: &App<S>, mut conn: TcpStream, id: u64, slots: &Slots, silent: &Silent) {
    let _ = conn.set_nodelay(true);
    let _ = conn.set_read_timeout(Some(HEAD_TIMEOUT));
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 65536];
    let spoke = matches!(fill(&mut conn, &mut buf, &mut chunk), Ok(true));
    silent.forget(id);
    if !spoke {
        return;
    }
    slots.take();
    let _slot = Taken(slots); // given back however the connection ends, a panic included
    serve_requests(app, &mut conn, buf, &mut chunk);
}

struct Taken<'a>(&'a Slots);

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        self.0.give();
    }
}

fn serve_requests<S: Store>(app: &App<S>, conn: &mut TcpStream, mut buf: Vec<u8>, chunk: &mut [u8]) {
    let mut eof = false;
    let mut first = true;
    loop {
        let head = match http::frame(&buf, eof) {
            Framed::More => {
                match fill(conn, &mut buf, chunk) {
                    Ok(true) => {}
                    Ok(false) => eof = true,
                    Err(_) => return, // timeouts, resets: nothing to answer
                }
                continue;
            }
            Framed::Close => return,
            Framed::Reject(status, message) => {
                let _ = conn.write_all(&http::reject(status, message));
                return;
            }
            Framed::Head(head) => head,
        };
        let end = head.head_len + head.length;
        while buf.len() < end {
            match fill(conn, &mut buf, chunk) {
                Ok(true) => {}
                _ => return, // the client went away mid-body
            }
        }
        let answer = app.handle_blocking(&head.method, &head.target, &buf[head.head_len..end]);
        let payload = http::response(answer.status, &answer.body, answer.allow, !head.keep_alive);
        if conn.write_all(&payload).is_err() || !head.keep_alive {
            return;
        }
        buf.drain(..end);
        if first {
            // it has spoken HTTP: from now on it may idle between requests
            let _ = conn.set_read_timeout(Some(IDLE_TIMEOUT));
            first = false;
        }
    }
}
