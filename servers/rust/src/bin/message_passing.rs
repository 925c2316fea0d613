//! rust-message-passing — only an owner thread touches the store.
//!
//! Rule: handlers (connection threads) send the owner a message over
//! `std::sync::mpsc` with a reply channel, and wait for the reply; the owner
//! applies messages one at a time, --hold-us included, so the store needs no lock.
use std::sync::mpsc::{channel, sync_channel, Sender, SyncSender};

use sharebench::state::{self, pair, Slot, Store, Totals};
use sharebench::work::Work;
use sharebench::{cli, threaded};

enum Op {
    Get(usize),
    Incr(usize, i64),
    Transfer(usize, usize, i64),
    Totals,
}

enum Reply {
    Value(i64),
    Pair(i64, i64),
    Totals(Totals),
}

struct MessagePassing {
    // SyncSender is Sync (std's Sender is not, before Rust 1.72): every handler thread
    // sends on the same one. Bounded: a flood of handlers waits instead of queueing unboundedly.
    owner: SyncSender<(Op, Sender<Reply>)>,
}

impl MessagePassing {
    fn start(keys: usize, work: Work) -> Self {
        let (owner, inbox) = sync_channel::<(Op, Sender<Reply>)>(4096);
        std::thread::spawn(move || {
            let mut slots = vec![Slot::default(); keys];
            for (op, reply) in inbox {
                let answer = match op {
                    Op::Get(key) => Reply::Value(slots[key].value),
                    Op::Incr(key, by) => Reply::Value(state::incr(&mut slots[key], by, &work)),
                    Op::Transfer(src, dst, amount) => {
                        let (a, b) = pair(&mut slots, src, dst);
                        let (x, y) = state::transfer(a, b, amount, &work);
                        Reply::Pair(x, y)
                    }
                    Op::Totals => {
                        let mut totals = Totals::default();
                        slots.iter().for_each(|slot| totals.add(slot));
                        Reply::Totals(totals)
                    }
                };
                let _ = reply.send(answer); // the handler may have gone; the owner goes on
            }
        });
        MessagePassing { owner }
    }

    fn ask(&self, op: Op) -> Reply {
        let (reply, answer) = channel();
        self.owner.send((op, reply)).expect("the owner thread is gone");
        answer.recv().expect("the owner thread dropped a request")
    }
}

impl Store for MessagePassing {
    fn get(&self, key: usize) -> i64 {
        match self.ask(Op::Get(key)) {
            Reply::Value(v) => v,
            _ => unreachable!(),
        }
    }

    fn incr(&self, key: usize, by: i64) -> i64 {
        match self.ask(Op::Incr(key, by)) {
            Reply::Value(v) => v,
            _ => unreachable!(),
        }
    }

    fn transfer(&self, src: usize, dst: usize, amount: i64) -> (i64, i64) {
        match self.ask(Op::Transfer(src, dst, amount)) {
            Reply::Pair(a, b) => (a, b),
            _ => unreachable!(),
        }
    }

    fn totals(&self) -> Totals {
        match self.ask(Op::Totals) {
            Reply::Totals(t) => t,
            _ => unreachable!(),
        }
    }
}

fn main() {
    threaded::main(cli::parse("rust-message-passing"), MessagePassing::start)
}
