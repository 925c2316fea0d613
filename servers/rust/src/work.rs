//! The work knobs: --cpu-us, --hold-us (CPU) and --io-ms (a wait).
//!
//! As in Python (servers/core/work.py), the spin watches the thread's own CPU clock
//! (CLOCK_THREAD_CPUTIME_ID), so the knob costs the stated CPU whether or not the
//! thread is descheduled halfway. Here the stretch between two looks at the clock is
//! a fixed count, so nothing is timed at start-up.
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default)]
pub struct Work {
    pub cpu_us: f64,
    pub hold_us: f64,
    pub io_ms: f64,
}

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid timespec; the clock id is supported on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Burn `us` microseconds of this thread's CPU.
pub fn spin(us: f64) {
    if us <= 0.0 {
        return;
    }
    let end = thread_cpu_ns() + (us * 1000.0) as u64;
    let mut sink = 0u64;
    loop {
        // a short stretch of plain work between clock reads (each read is a system call)
        for i in 0..256u64 {
            // SAFETY: a volatile write to a local: keeps the loop from being optimised away
            unsafe { std::ptr::write_volatile(&mut sink, i) };
        }
        if thread_cpu_ns() >= end {
            return;
        }
    }
}

impl Work {
    /// Work outside the shared state.
    pub fn cpu(&self) {
        spin(self.cpu_us);
    }

    /// Work while holding the state, between the read and the write.
    pub fn hold(&self) {
        spin(self.hold_us);
    }

    /// The --io-ms wait (blocking in thread strategies; async ones sleep on their runtime).
    pub fn io_duration(&self) -> Option<Duration> {
        if self.io_ms > 0.0 {
            Some(Duration::from_secs_f64(self.io_ms / 1000.0))
        } else {
            None
        }
    }
}
