//! The probe: the single-threaded actor that carries out a plan. Its main
//! process, the supervisor, stays where it started, takes the plan's door,
//! collects the views of the processes it created, observes the host while
//! they are still alive, then releases and reaps them all.

pub mod container;
pub mod inside;

use std::collections::BTreeSet;

use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::door::{self, Ctx};
use crate::guard::{self, Origin};
use crate::plan::{Outcome, Plan, Process};
use crate::sys::message::{self, Message};
use crate::sys::pipe::{self, Pipe};
use crate::sys::process;
use crate::view::ns::NsView;

/// Carry out `plan` and say what happened.
pub fn run(plan: &Plan) -> Outcome {
    let mut out = Outcome::default();
    if let Some(reason) = plan.inexpressible() {
        out.skip = Some(reason);
        return out;
    }
    if let Err(v) = plan.validate() {
        out.errors.push(format!("the plan is refused: {v}"));
        return out;
    }
    crate::step::remember_start_level(plan.outer_userns);
    if plan.outer_userns {
        if let Err(e) = door::maps::enter_outer() {
            out.errors.push(format!(
                "cannot enter a user namespace first: {} failed: {}",
                e.file, e.errno
            ));
            return out;
        }
    }
    // Entering a user namespace first changed one of them since the
    // process was made ready.
    let origin = match plan.outer_userns {
        true => Origin::here(),
        false => Origin::ready_or_here(),
    };
    guard::remember(&origin);
    // The guard's origin is the `ns` section of the host's view before:
    // the same links, read by this process a moment ago.
    let before = host_view(plan, Some(origin.ids()));
    out.views.insert("before".into(), json!({ "host": before }));
    let (views, release) = match (Pipe::new(), Pipe::new()) {
        (Ok(v), Ok(r)) => (v, r),
        _ => {
            out.errors.push("cannot create the probe's pipes".into());
            return out;
        }
    };
    guard::report_to(views.write.fd());
    let caller = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    let body = |ctx: &Ctx| inside::run(ctx);
    let observe = || inside::observe(plan, Process::Unsharer, Vec::new());
    let ctx = Ctx {
        plan,
        origin: &origin,
        views: views.write.fd(),
        release: release.read.fd(),
        parent_only: vec![views.read.fd(), release.write.fd()],
        caller,
        supervisor: nix::unistd::getpid().as_raw(),
        body: &body,
        observe: &observe,
    };
    let children = door::enter(&ctx);
    views.write.close();
    release.read.close();
    let mut collector = Collector::new(plan);
    collector.read_until_ready(views.read.fd());
    out.views.insert("host".into(), host_view(plan, None));
    release.write.close();
    collector.read_rest(views.read.fd());
    views.read.close();
    let ended = reap_all(&children);
    collector.finish(&mut out, ended);
    out
}

/// The host's view, as the supervisor sees it (its `ns` section `known`
/// when given); through a runtime door without the mounts of the engine's
/// own storage.
fn host_view(plan: &Plan, known: Option<&NsView>) -> Value {
    let selected = plan.selection(Process::Host);
    let mut view = crate::view::observe_sections_with_ns(selected, known);
    view.insert("steps".into(), Value::Array(Vec::new()));
    let mut view = Value::Object(view);
    if plan.door.is_runtime() {
        let storage = plan.runtime.as_ref().and_then(|r| r.storage.as_deref());
        door::runtime::bundle::hide_engine_mounts(&mut view, storage);
    }
    view
}

/// Reap the supervisor's children; say how those that ended badly did.
fn reap_all(children: &[Pid]) -> Vec<String> {
    children
        .iter()
        .filter_map(|pid| process::reap(*pid).map(|how| format!("process {pid} {how}")))
        .collect()
}

/// Gathers the messages of a trial's processes.
struct Collector {
    expected: BTreeSet<String>,
    buffer: Vec<u8>,
    messages: Vec<Message>,
}

impl Collector {
    fn new(plan: &Plan) -> Collector {
        let expected = plan
            .observe
            .iter()
            .filter(|p| **p != Process::Host)
            .map(|p| p.name().to_string())
            .collect();
        Collector {
            expected,
            buffer: Vec::new(),
            messages: Vec::new(),
        }
    }

    /// Whether everything awaited has come: every view, or a door failure.
    fn ready(&self) -> bool {
        let mut seen = BTreeSet::new();
        for m in &self.messages {
            match m {
                Message::View { process, .. } => {
                    seen.insert(process.clone());
                }
                Message::Door { .. } => return true,
                _ => {}
            }
        }
        self.expected.is_subset(&seen)
    }

    /// Take whole lines out of the buffer.
    fn drain_lines(&mut self) {
        if let Some(end) = self.buffer.iter().rposition(|b| *b == b'\n') {
            let lines: Vec<u8> = self.buffer.drain(..=end).collect();
            self.messages.extend(message::parse_all(&lines));
        }
    }

    /// Read until every awaited message came or every writer is gone.
    fn read_until_ready(&mut self, fd: i32) {
        // Not larger: every fresh page of stack is a page fault, and a view
        // is a few hundred bytes to a few KiB.
        let mut chunk = [0u8; 8192];
        while !self.ready() {
            // SAFETY: the pointer and length describe the live buffer `chunk`.
            let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
            match n {
                -1 if nix::errno::Errno::last() == nix::errno::Errno::EINTR => continue,
                n if n <= 0 => break,
                n => {
                    self.buffer.extend_from_slice(&chunk[..n as usize]);
                    self.drain_lines();
                }
            }
        }
    }

    /// Read what is left once the processes are released.
    fn read_rest(&mut self, fd: i32) {
        if let Ok(rest) = pipe::read_to_end(fd) {
            self.buffer.extend_from_slice(&rest);
        }
        self.buffer.push(b'\n');
        self.drain_lines();
    }

    /// Put the messages into the outcome.
    fn finish(self, out: &mut Outcome, ended: Vec<String>) {
        let door_failed = self
            .messages
            .iter()
            .any(|m| matches!(m, Message::Door { .. }));
        for m in self.messages {
            match m {
                Message::View { process, view } => {
                    out.views.insert(process, view);
                }
                Message::Door { result, .. } => {
                    if out.door.errno.is_none() {
                        out.door = result;
                    }
                }
                Message::Guard(refusal) => out.guard.push(refusal),
                Message::Error { process, message } => {
                    out.errors.push(format!("{process}: {message}"))
                }
            }
        }
        if door_failed {
            return;
        }
        let missing: Vec<&String> = self
            .expected
            .iter()
            .filter(|p| !out.views.contains_key(*p))
            .collect();
        if !missing.is_empty() {
            out.errors.push(format!("no view from {missing:?}"));
            out.errors.extend(ended);
        }
    }
}

/// The probe's answer for a plan that could not be read.
pub fn unreadable(message: String) -> Value {
    json!({ "door": {}, "errors": [message] })
}
