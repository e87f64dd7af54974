//! Steps about the pid namespace: what a case may ask a process to do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;
use crate::plan::Plain;

/// The signals a `kill` step may send, by name, with their numbers.
pub const SIGNALS: [(&str, i32); 6] = [
    ("SIGKILL", libc::SIGKILL),
    ("SIGTERM", libc::SIGTERM),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGHUP", libc::SIGHUP),
    ("SIGINT", libc::SIGINT),
];

/// The most pid namespace levels a step may try to create (the kernel's
/// limit is 32 below the initial namespace).
pub const MAX_NEST: u32 = 64;

/// The highest pid a case may ask for (PID_MAX_LIMIT on 64-bit).
pub const MAX_TID: i32 = 4_194_304;

/// A process named by its relation to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Relative {
    /// The caller itself (`getpid()`).
    #[serde(rename = "self")]
    Myself,
    /// The caller's parent (`getppid()`); not signalled when that is 0,
    /// which means the parent is outside the caller's namespace.
    Parent,
    /// The probe's supervisor, by its pid in the namespace the probe started
    /// in: a process outside every namespace of the trial.
    Supervisor,
}

/// Whom a `kill` step signals: a relative, or a pid as the caller sees it
/// (a positive number, or -1 for every process the caller may signal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Target {
    Relative(Relative),
    Pid(i32),
}

/// A signal: a name from [`SIGNALS`], or 0 (only check that the target
/// exists and may be signalled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Signal {
    Number(i32),
    Name(String),
}

impl Signal {
    /// The signal's number, if it is one a case may send.
    pub fn number(&self) -> Option<i32> {
        match self {
            Signal::Number(0) => Some(0),
            Signal::Number(_) => None,
            Signal::Name(name) => SIGNALS.iter().find(|(n, _)| n == name).map(|(_, s)| *s),
        }
    }
}

/// kill(2) from the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kill {
    pub target: Target,
    pub signal: Signal,
}

/// Nested pid namespaces below the caller, each made by the init of the
/// one above with clone(CLONE_NEWPID): `depth` of them, or, without a
/// depth, as many as the kernel allows (at most [`MAX_NEST`] tries).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
}

/// Who kills the processes of a `kill_init_tree`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Killer {
    /// The init's parent, outside the namespace, sends SIGKILL to the init.
    #[default]
    Parent,
    /// The init calls kill(-1, SIGKILL) inside its namespace.
    Init,
}

/// A tree of processes in a new pid namespace: its init forks `children`
/// plain children and, `depth` times, the init of a nested namespace that
/// does the same. Then `by` kills, and the step counts who is left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    #[serde(default = "two")]
    pub children: u32,
    #[serde(default = "two")]
    pub depth: u32,
    #[serde(default)]
    pub by: Killer,
}

fn two() -> u32 {
    2
}

/// A chain of `depth` pid namespaces, each made by the init of the one
/// above, each with a witness (a plain child of its init); the caller,
/// outside them all, sends SIGKILL to the init of level `kill` (1 is the
/// top): per level, whether its init and its witness have exited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Chain {
    pub depth: u32,
    pub kill: u32,
}

/// The deepest chain a `kill_chain` step may build.
pub const MAX_CHAIN: u32 = 8;

/// clone3(2) with `set_tid`, from a process `nest` pid namespaces below the
/// caller: `tids` are the pids wanted, innermost level first, as clone3
/// takes them (with `newpid`, the first is the pid in the new namespace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTid {
    #[serde(default)]
    pub nest: u32,
    pub tids: Vec<i32>,
    #[serde(default = "yes")]
    pub newpid: bool,
}

fn yes() -> bool {
    true
}

/// Who writes to the pipe of a `sigio` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SigioWriter {
    /// The init of a second new pid namespace, a sibling of the reader's.
    #[default]
    Sibling,
    /// The step's own helper, outside the reader's namespace.
    Outside,
}

/// The init of a new pid namespace owns the read end of a pipe
/// (F_SETOWN to itself, F_SETSIG SIGUSR1, O_ASYNC), and `writer` writes to
/// it: `delivered`, `si_signo`, `si_code`, `si_fd_matches` (si_fd is the
/// read end), `band_pollin` (POLLIN set in si_band).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sigio {
    #[serde(default)]
    pub writer: SigioWriter,
}

/// A party of an `mq_notify` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MqParty {
    /// The step's helper, outside the new pid namespace.
    Outside,
    /// The init of the new pid namespace the step makes.
    Init,
    /// A child of that init (a sender only).
    InitChild,
}

/// A helper creates the POSIX queue `name` in the caller's (new) IPC
/// namespace and makes a new pid namespace; `receiver` registers with
/// mq_notify(3) for SIGUSR1, `sender` sends one message to the empty queue:
/// `si_pid`, `si_code` as the receiver saw them, and `sender_seen`, the
/// sender's pid in the receiver's namespace (null when it has none there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MqNotify {
    pub name: String,
    pub receiver: MqParty,
    pub sender: MqParty,
}

/// A step about the pid namespace, written `{"pid": {"<name>": {...}}}` in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PidStep {
    /// kill(2) a process; result `pid` (whom), `sent` false when the parent
    /// was outside (ppid 0).
    Kill(Kill),
    /// Nested namespaces: `levels` made, `level` of the deepest (NSpid
    /// entries - 1), its `nspid`, `pid`, `ppid`, and `next_errno` when a
    /// clone failed.
    Nest(Nest),
    /// Kill a tree of processes over nested namespaces: `processes`, `survivors`.
    KillInitTree(Tree),
    /// Kill the init of one level of a chain of nested namespaces.
    KillChain(Chain),
    /// A process unshares a pid namespace, forks its init, which exits; then
    /// it forks again: `fork_errno`.
    ForkAfterInitExit(Plain),
    /// The init of a new pid namespace waits for SIGUSR1 from its parent
    /// outside: `si_pid`, `si_code` as the init saw them.
    SignalFromParent(Plain),
    /// A child forks a grandchild and exits: the grandchild's `ppid` once
    /// it is an orphan.
    Orphan(Plain),
    /// A forked process unshares a pid namespace and forks: its pid and
    /// namespace links before and after, and its child's pid and namespace.
    Unshare(Plain),
    /// clone3 with set_tid: the child's `nspid` and `pid`.
    SetTid(SetTid),
    /// The init of a new pid namespace sends itself SIGUSR1, caught by an
    /// SA_SIGINFO handler: `handled`, `si_pid`, `si_code`, `pid`.
    SignalSelf(Plain),
    /// SIGIO from an O_ASYNC pipe owned by the init of a new pid namespace.
    Sigio(Sigio),
    /// mq_notify(3) across a pid namespace boundary.
    MqNotify(MqNotify),
    /// kernel.pid_max of a pid namespace (6.14): a child makes a user and
    /// a pid namespace; their init sets `limit` and reads it back; a nested
    /// namespace with a higher limit forks until it can no more. The host's
    /// value before and after.
    PidMax(PidMax),
    /// The init of a pid namespace had through setns(2) (after 6.18): a
    /// child unshares CLONE_NEWPID, opens its pid_for_children, setns's back
    /// and into it, and forks twice: the pids the two children get there.
    InitViaSetns(Plain),
}

/// The lowest pid_max the kernel takes (RESERVED_PIDS + 1).
pub const PID_MAX_MIN: u32 = 301;
/// The highest limit a case may set (each pid below it may become a process).
pub const PID_MAX_CASE: u32 = 1024;

/// Arguments of `pid_max`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PidMax {
    /// The limit the outer new namespace sets: at least 301, at most 1024.
    pub limit: u32,
}

impl PidStep {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match self {
            PidStep::Kill(_) => "kill",
            PidStep::Nest(_) => "nest",
            PidStep::KillInitTree(_) => "kill_init_tree",
            PidStep::KillChain(_) => "kill_chain",
            PidStep::ForkAfterInitExit(_) => "fork_after_init_exit",
            PidStep::SignalFromParent(_) => "signal_from_parent",
            PidStep::Orphan(_) => "orphan",
            PidStep::Unshare(_) => "unshare",
            PidStep::SetTid(_) => "set_tid",
            PidStep::SignalSelf(_) => "signal_self",
            PidStep::Sigio(_) => "sigio",
            PidStep::MqNotify(_) => "mq_notify",
            PidStep::PidMax(_) => "pid_max",
            PidStep::InitViaSetns(_) => "init_via_setns",
        }
    }

    /// The namespace that must be new before this step may run, because it
    /// would change the host otherwise.
    pub fn guarded_by(&self) -> Option<NsType> {
        match self {
            // Signals, orphans and chosen pids stay within the caller's pid
            // namespace only when that namespace is the trial's own.
            PidStep::Kill(_) | PidStep::Orphan(_) | PidStep::SetTid(_) => Some(NsType::Pid),
            // The queue is created in the caller's IPC namespace.
            PidStep::MqNotify(_) => Some(NsType::Ipc),
            PidStep::SignalSelf(_) | PidStep::Sigio(_) => None,
            // Both make their own user and pid namespaces in a child, and
            // pid_max is written only there, after the guard's check.
            PidStep::PidMax(_) | PidStep::InitViaSetns(_) => None,
            PidStep::Nest(_)
            | PidStep::KillInitTree(_)
            | PidStep::KillChain(_)
            | PidStep::ForkAfterInitExit(_)
            | PidStep::SignalFromParent(_)
            | PidStep::Unshare(_) => None,
        }
    }

    /// Refuse absurd arguments (checked when the case is read, and again by
    /// the probe): the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match self {
            PidStep::Kill(k) => check_kill(k),
            PidStep::Nest(n) => match n.depth {
                Some(d) if d == 0 || d > MAX_NEST => {
                    Err(format!("depth {d} is not between 1 and {MAX_NEST}"))
                }
                _ => Ok(()),
            },
            PidStep::KillChain(c) if c.depth == 0 || c.depth > MAX_CHAIN => Err(format!(
                "kill_chain depth {} is not between 1 and {MAX_CHAIN}",
                c.depth
            )),
            PidStep::KillChain(c) if c.kill == 0 || c.kill > c.depth => Err(format!(
                "kill_chain kill {} is not a level between 1 and {}",
                c.kill, c.depth
            )),
            PidStep::KillInitTree(t) if t.children > 8 || t.depth > 4 => Err(format!(
                "a tree of {} children and depth {} is over the limit of 8 and 4",
                t.children, t.depth
            )),
            PidStep::SetTid(s) => check_set_tid(s),
            PidStep::MqNotify(m) => check_mq_notify(m),
            PidStep::PidMax(p) if !(PID_MAX_MIN..=PID_MAX_CASE).contains(&p.limit) => Err(format!(
                "pid_max limit {} is not between {PID_MAX_MIN} and {PID_MAX_CASE}",
                p.limit
            )),
            _ => Ok(()),
        }
    }
}

fn check_kill(k: &Kill) -> Result<(), String> {
    let Some(sig) = k.signal.number() else {
        let names: Vec<&str> = SIGNALS.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "signal {:?} is not 0 or one of {}",
            k.signal,
            names.join(", ")
        ));
    };
    match k.target {
        Target::Pid(p) if p == 0 || p < -1 => Err(format!(
            "target {p} names a process group, which may reach outside the trial"
        )),
        Target::Relative(Relative::Supervisor) if sig != 0 => {
            Err("the supervisor may be sent signal 0 only".into())
        }
        _ => Ok(()),
    }
}

fn check_mq_notify(m: &MqNotify) -> Result<(), String> {
    if !m.name.starts_with('/') || m.name.len() > 255 || m.name[1..].contains('/') {
        return Err(format!("`{}` is not a queue name like /name", m.name));
    }
    match (m.receiver, m.sender) {
        (MqParty::InitChild, _) => Err("the receiver is `outside` or `init`".into()),
        (r, s) if r == s => Err("the sender and the receiver must differ".into()),
        (MqParty::Outside, MqParty::InitChild) => {
            Err("with receiver `outside`, the sender is `init`".into())
        }
        _ => Ok(()),
    }
}

fn check_set_tid(s: &SetTid) -> Result<(), String> {
    if s.nest > 4 {
        return Err(format!("nest {} is over the limit of 4", s.nest));
    }
    // The levels the tids reach: the new one (with newpid), the `nest`
    // levels made by the step, and the caller's own, which the guard
    // checks is the trial's. Never one above.
    let most = s.nest as usize + 1 + usize::from(s.newpid);
    if s.tids.is_empty() || s.tids.len() > most {
        return Err(format!(
            "{} tids: give 1 to {most}, so that no pid is chosen above the caller's namespace",
            s.tids.len()
        ));
    }
    match s.tids.iter().find(|t| **t < 1 || **t > MAX_TID) {
        Some(t) => Err(format!("tid {t} is not between 1 and {MAX_TID}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn parse(text: &str) -> PidStep {
        serde_json::from_str(text).unwrap()
    }

    #[rstest]
    #[case(r#"{"kill": {"target": "self", "signal": "SIGKILL"}}"#, "kill", true)]
    #[case(r#"{"kill": {"target": -1, "signal": "SIGUSR1"}}"#, "kill", true)]
    #[case(r#"{"kill": {"target": 7, "signal": 0}}"#, "kill", true)]
    #[case(r#"{"kill": {"target": "supervisor", "signal": 0}}"#, "kill", true)]
    #[case(
        r#"{"kill": {"target": "supervisor", "signal": "SIGKILL"}}"#,
        "kill",
        false
    )]
    #[case(r#"{"kill": {"target": 0, "signal": 0}}"#, "kill", false)]
    #[case(r#"{"kill": {"target": -5, "signal": 0}}"#, "kill", false)]
    #[case(
        r#"{"kill": {"target": "parent", "signal": "SIGSTOP"}}"#,
        "kill",
        false
    )]
    #[case(r#"{"kill": {"target": "parent", "signal": 9}}"#, "kill", false)]
    #[case(r#"{"nest": {}}"#, "nest", true)]
    #[case(r#"{"nest": {"depth": 2}}"#, "nest", true)]
    #[case(r#"{"nest": {"depth": 0}}"#, "nest", false)]
    #[case(r#"{"kill_init_tree": {}}"#, "kill_init_tree", true)]
    #[case(r#"{"kill_init_tree": {"children": 9}}"#, "kill_init_tree", false)]
    #[case(r#"{"kill_chain": {"depth": 5, "kill": 3}}"#, "kill_chain", true)]
    #[case(r#"{"kill_chain": {"depth": 5, "kill": 6}}"#, "kill_chain", false)]
    #[case(r#"{"kill_chain": {"depth": 9, "kill": 1}}"#, "kill_chain", false)]
    #[case(r#"{"set_tid": {"nest": 1, "tids": [1, 7, 9]}}"#, "set_tid", true)]
    #[case(r#"{"set_tid": {"tids": [1, 7, 9]}}"#, "set_tid", false)]
    #[case(r#"{"set_tid": {"tids": [7], "newpid": false}}"#, "set_tid", true)]
    #[case(r#"{"set_tid": {"tids": [1, 0]}}"#, "set_tid", false)]
    #[case(r#"{"orphan": {}}"#, "orphan", true)]
    #[case(r#"{"signal_self": {}}"#, "signal_self", true)]
    #[case(r#"{"sigio": {}}"#, "sigio", true)]
    #[case(r#"{"sigio": {"writer": "outside"}}"#, "sigio", true)]
    #[case(
        r#"{"mq_notify": {"name": "/q", "receiver": "init", "sender": "outside"}}"#,
        "mq_notify",
        true
    )]
    #[case(
        r#"{"mq_notify": {"name": "/q", "receiver": "outside", "sender": "init"}}"#,
        "mq_notify",
        true
    )]
    #[case(
        r#"{"mq_notify": {"name": "/q", "receiver": "init", "sender": "init"}}"#,
        "mq_notify",
        false
    )]
    #[case(
        r#"{"mq_notify": {"name": "q", "receiver": "init", "sender": "outside"}}"#,
        "mq_notify",
        false
    )]
    fn parses_and_checks(#[case] text: &str, #[case] name: &str, #[case] ok: bool) {
        let step = parse(text);
        assert_eq!(step.name(), name);
        assert_eq!(step.check().is_ok(), ok, "{:?}", step.check());
    }

    #[test]
    fn signals_stay_in_the_trial() {
        let kill = parse(r#"{"kill": {"target": -1, "signal": 0}}"#);
        assert_eq!(kill.guarded_by(), Some(NsType::Pid));
        assert_eq!(parse(r#"{"nest": {}}"#).guarded_by(), None);
    }
}
