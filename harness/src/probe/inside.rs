//! The body of the `inside` process (and of its `child`): run the steps,
//! observe, report, and wait to be released.

use serde_json::Value;

use crate::door::Ctx;
use crate::plan::{Process, Step};
use crate::step::{Runner, StepEnv};
use crate::sys::message::Message;
use crate::sys::pipe::{self, Pipe};
use crate::sys::process::{self, Forked};

/// The calling process's view, with the results of its steps.
pub fn observe(steps: Vec<Value>) -> Value {
    let mut view = serde_json::to_value(crate::view::observe()).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut view {
        map.insert("steps".into(), Value::Array(steps));
    }
    view
}

/// Run `steps` as `who`; returns the step results.
fn run_steps(ctx: &Ctx, who: &str, steps: &[Step]) -> Vec<Value> {
    let env = StepEnv {
        origin: ctx.origin,
        supervisor: ctx.supervisor,
        process: who,
    };
    let mut runner = Runner::new(env);
    runner.run_all(steps)
}

/// The child of `inside`: its own steps, its view, then a byte on `done`.
fn child(ctx: &Ctx, done: &Pipe) -> ! {
    done.read.close();
    let who = Process::Child.name();
    let results = run_steps(ctx, who, &ctx.plan.child_steps);
    ctx.send(&Message::View {
        process: who.into(),
        view: observe(results),
    });
    process::drop_inherited(&[ctx.views]);
    let _ = pipe::send_u32(done.write.fd(), 1);
    done.write.close();
    pipe::wait_closed(ctx.release);
    process::exit(0)
}

/// Fork the child and wait until it has reported (or died).
fn fork_child(ctx: &Ctx) -> Option<nix::unistd::Pid> {
    let done = match Pipe::new() {
        Ok(p) => p,
        Err(e) => {
            ctx.send(&Message::error(
                "inside",
                format!("pipe2 for the child: {e}"),
            ));
            return None;
        }
    };
    match process::fork(&[]) {
        Err(e) => {
            ctx.send(&Message::error("inside", format!("fork of the child: {e}")));
            None
        }
        Ok(Forked::Child) => child(ctx, &done),
        Ok(Forked::Parent(pid)) => {
            done.write.close();
            if pipe::recv_u32(done.read.fd()).is_none() {
                let how = process::reap(pid).unwrap_or_else(|| "exited".into());
                ctx.send(&Message::error(
                    "child",
                    format!("child {how} before reporting"),
                ));
                done.read.close();
                return None;
            }
            done.read.close();
            Some(pid)
        }
    }
}

/// The body of `inside`.
pub fn run(ctx: &Ctx) -> i32 {
    let who = Process::Inside.name();
    let results = run_steps(ctx, who, &ctx.plan.steps);
    let child = if ctx.plan.observe.contains(&Process::Child) {
        fork_child(ctx)
    } else {
        None
    };
    ctx.send(&Message::View {
        process: who.into(),
        view: observe(results),
    });
    process::drop_inherited(&[ctx.views]);
    pipe::wait_closed(ctx.release);
    if let Some(pid) = child {
        process::reap(pid);
    }
    0
}
