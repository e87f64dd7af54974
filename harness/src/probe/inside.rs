//! The body of the `inside` process (and of its `child`): run the steps,
//! observe, report, and wait to be released.

use serde_json::Value;

use crate::door::Ctx;
use crate::plan::{Plan, Process, Step};
use crate::step::{Runner, StepEnv};
use crate::sys::helper::{self, Channel, Helper, TRIAL_LIFETIME};
use crate::sys::message::Message;
use crate::sys::{errno, pipe, process};

/// The view of the calling process, `who`: what `plan` selects of it, with
/// the results of its steps.
pub fn observe(plan: &Plan, who: Process, steps: Vec<Value>) -> Value {
    let mut view = crate::view::observe_sections(plan.selection(who));
    view.insert("steps".into(), Value::Array(steps));
    Value::Object(view)
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

/// The child of `inside`: its own steps, its view, then "ready"; it stays
/// until the probe releases every process.
fn child(ctx: &Ctx, ch: &Channel) {
    let who = Process::Child.name();
    let results = run_steps(ctx, who, &ctx.plan.child_steps);
    ctx.send(&Message::View {
        process: who.into(),
        view: observe(ctx.plan, Process::Child, results),
    });
    process::drop_inherited(&[ctx.views]);
    ch.ready();
    pipe::wait_closed(ctx.release);
}

/// Start the child, if the plan observes one.
fn start_child(ctx: &Ctx) -> Option<Helper<()>> {
    if !ctx.plan.observe.contains(&Process::Child) {
        return None;
    }
    let started = helper::spawn(TRIAL_LIFETIME, |ch| {
        child(ctx, ch);
        Ok(())
    });
    started
        .map_err(|e| ctx.send(&Message::error("inside", format!("fork of the child: {e}"))))
        .ok()
}

/// Wait until the child has reported (or died).
fn child_reported(ctx: &Ctx, child: Option<Helper<()>>) -> Option<Helper<()>> {
    let child = child?;
    if let Err(e) = child.wait_ready() {
        let message = format!("child ended before reporting ({})", errno::name(e));
        ctx.send(&Message::error("child", message));
        return None;
    }
    Some(child)
}

/// The body of `inside`. Its view is taken once its child exists; once the
/// child's own steps have run, when it has some (they may change what
/// inside sees), else while the child takes its view. Inside writes its
/// view after the child's: two writers of more than `PIPE_BUF` bytes at
/// once would interleave their lines.
pub fn run(ctx: &Ctx) -> i32 {
    let who = Process::Inside.name();
    let results = run_steps(ctx, who, &ctx.plan.steps);
    let mut child = start_child(ctx);
    let child_acts = !ctx.plan.child_steps.is_empty();
    if child_acts {
        child = child_reported(ctx, child);
    }
    let view = observe(ctx.plan, Process::Inside, results);
    if !child_acts {
        child = child_reported(ctx, child);
    }
    ctx.send(&Message::View {
        process: who.into(),
        view,
    });
    process::drop_inherited(&[ctx.views]);
    pipe::wait_closed(ctx.release);
    if let Some(child) = child {
        let _ = child.finish();
    }
    0
}
