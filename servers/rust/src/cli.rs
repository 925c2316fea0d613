//! The flags every sharebench server takes, the ready line, and the signals.
//! `sharebench serve` has checked the flags before it execs a Rust server; the
//! checks here are for anyone starting the binary by hand.
use std::net::TcpListener;
use std::os::unix::io::AsRawFd;

use crate::heap;
use crate::work::Work;

pub const THREAD_WORKERS: usize = 1024; // the threads model's default connection cap

pub struct Options {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub workers: Option<usize>,
    pub keys: usize,
    pub work: Work,
    pub live_objects: usize,       // heap.rs: the live heap the server holds
    pub churn: f64,
}

/// A one-line error and exit status 2, as `sharebench serve` does.
pub fn fail(message: &str) -> ! {
    eprintln!("sharebench: error: {}", message);
    std::process::exit(2)
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> T {
    text.parse().unwrap_or_else(|_| fail(&format!("{} must be a number, got {:?}", flag, text)))
}

fn knob(flag: &str, text: &str) -> f64 {
    let value: f64 = number(flag, text);
    if !(0.0..=1_000_000.0).contains(&value) {
        fail(&format!("{} must be in 0..1000000, got {}", flag, text));
    }
    value
}

/// Parse `--flag value` pairs; `default_name` when no `--name` is given.
pub fn parse(default_name: &str) -> Options {
    let mut opts = Options {
        name: default_name.to_string(),
        host: "127.0.0.1".into(),
        port: 8000,
        workers: None,
        keys: 1024,
        work: Work::default(),
        live_objects: 0,
        churn: heap::DEFAULT_CHURN,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut pairs = args.chunks(2);
    while let Some(pair) = pairs.next() {
        let (flag, value) = match pair {
            [flag, value] => (flag.as_str(), value.as_str()),
            [flag] => fail(&format!("{} needs a value", flag)),
            _ => unreachable!(),
        };
        match flag {
            "--name" => opts.name = value.to_string(),
            "--host" => opts.host = value.to_string(),
            "--port" => opts.port = number(flag, value),
            "--workers" => opts.workers = Some(number(flag, value)),
            "--keys" => opts.keys = number(flag, value),
            "--cpu-us" => opts.work.cpu_us = knob(flag, value),
            "--hold-us" => opts.work.hold_us = knob(flag, value),
            "--io-ms" => opts.work.io_ms = knob(flag, value),
            "--live-objects" => opts.live_objects = number(flag, value),
            "--churn" => opts.churn = number(flag, value),
            _ => fail(&format!("unknown flag {:?}; valid: --name --host --port --workers --keys \
                                --cpu-us --hold-us --io-ms --live-objects --churn", flag)),
        }
    }
    if !(1..=10_000_000).contains(&opts.keys) {
        fail(&format!("--keys must be in 1..10000000, got {}", opts.keys));
    }
    if opts.live_objects > heap::MAX_LIVE_OBJECTS {
        fail(&format!("--live-objects must be an integer in 0..{}, got {}",
                      heap::MAX_LIVE_OBJECTS, opts.live_objects));
    }
    if !(0.0..=1.0).contains(&opts.churn) {
        fail(&format!("--churn must be a share of requests in 0..1, got {}", opts.churn));
    }
    if opts.workers == Some(0) {
        fail("--workers must be at least 1, got 0");
    }
    opts
}

/// Bind, with the backlog the Python servers use (std's is 128).
pub fn listen(opts: &Options) -> TcpListener {
    let listener = TcpListener::bind((opts.host.as_str(), opts.port)).unwrap_or_else(|err| {
        fail(&format!("cannot serve on {}:{}: {}", opts.host, opts.port, err))
    });
    // SAFETY: listen(2) on a socket we own; calling it again only raises the backlog.
    unsafe { libc::listen(listener.as_raw_fd(), 1024) };
    listener
}

/// The ready line (loadtests/machine/server.py parses it): printed once we accept
/// connections. (Connections that arrive meanwhile wait in the listener's backlog.)
/// `connection_cap`: connections served at once; None when the model has no cap of its own.
pub fn announce(opts: &Options, listener: &TcpListener, workers: usize, connection_cap: Option<usize>) {
    let addr = listener.local_addr().unwrap_or_else(|err| fail(&err.to_string()));
    let cap = connection_cap.map(|n| format!(" connection_cap={}", n)).unwrap_or_default();
    println!(
        "sharebench: serving {} on http://{}:{} pid={} workers={}{}",
        opts.name,
        addr.ip(),
        addr.port(),
        std::process::id(),
        workers,
        cap
    );
}

/// The cores this process may run on: what a pinned server was given.
pub fn cores() -> usize {
    // SAFETY: a zeroed cpu_set_t is valid; sched_getaffinity fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return 1;
        }
        (libc::CPU_COUNT(&set) as usize).max(1)
    }
}

/// SIGINT and SIGTERM end the server with exit status 0. Call before any thread
/// starts: the signals are blocked in every thread and taken by one that waits for them.
pub fn exit_on_signals() {
    // SAFETY: plain signal-mask calls on a sigset_t we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        std::thread::spawn(move || {
            let mut got: libc::c_int = 0;
            libc::sigwait(&set, &mut got);
            std::process::exit(0);
        });
    }
}

/// A bug in a strategy ends only the connection it was serving (its thread or task),
/// and says so on stderr in the words the Python servers use ("internal error").
pub fn report_panics() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("sharebench: internal error: {}", info);
    }));
}
