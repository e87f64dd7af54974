//! Steps: what a process does inside its namespaces before it observes.
//! Every step that would change the host if its namespace were not new is
//! checked by the isolation guard first, and refused when it is not.

mod cgroup;
mod file;
mod ipc;
mod mnt;
mod net;
mod nsfs;
mod nstree;
mod pid;
mod session;
mod sysctl;
mod time;
mod user;
mod uts;

pub use user::remember_start_level;

use nix::errno::Errno;
use serde_json::{json, Map, Value};

use crate::guard::{self, Origin};
use crate::plan::Step;

/// What a step gives back besides success: named values for the view.
pub type Extra = Map<String, Value>;

/// What a step may know about the trial it runs in.
pub struct StepEnv<'a> {
    /// The namespaces the probe started in.
    pub origin: &'a Origin,
    /// The probe's supervisor, by its pid in the namespace the probe started
    /// in: a process outside every namespace the trial made.
    pub supervisor: i32,
    /// The process running the step: `inside` or `child`.
    pub process: &'a str,
}

/// Runs steps for one process.
pub struct Runner<'a> {
    env: StepEnv<'a>,
    sandbox: mnt::Sandbox,
}

impl<'a> Runner<'a> {
    pub fn new(env: StepEnv<'a>) -> Runner<'a> {
        Runner {
            env,
            sandbox: mnt::Sandbox::default(),
        }
    }

    /// Run every step in order; each gives one entry of the `steps` list.
    pub fn run_all(&mut self, steps: &[Step]) -> Vec<Value> {
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| self.run_one(i, s))
            .collect()
    }

    fn run_one(&mut self, index: usize, step: &Step) -> Value {
        let name = step.label();
        guard::at(self.env.process, Some(index));
        if let Some(ty) = step.guarded_by() {
            if let Err(message) = self.env.origin.check(ty) {
                guard::refuse(ty, message.clone());
                return json!({ "step": name, "guard": message });
            }
        }
        let refusals = guard::sent();
        let result = self.perform(step);
        if guard::sent() > refusals {
            let message = format!("namespace not isolated: {name} refused a change");
            return json!({ "step": name, "guard": message });
        }
        match result {
            Ok(extra) => {
                let mut entry = Extra::new();
                entry.insert("step".into(), name.into());
                entry.insert("ok".into(), true.into());
                entry.extend(extra);
                Value::Object(entry)
            }
            Err(e) => json!({ "step": name, "errno": format!("{e:?}") }),
        }
    }

    fn perform(&mut self, step: &Step) -> Result<Extra, Errno> {
        match step {
            Step::Sethostname(name) => uts::sethostname(name),
            Step::Setdomainname(name) => uts::setdomainname(name),
            Step::Mkdir(path) => self.sandbox.mkdir(path),
            Step::Mount(m) => self.sandbox.mount(m),
            Step::Umount(path) => mnt::umount(path),
            Step::Propagation(p) => mnt::propagation(p),
            Step::Sysv(s) => ipc::sysv(s),
            Step::Mqueue(name) => ipc::mqueue(name),
            Step::LinkUp(name) => net::link_up(name),
            Step::Setsid(_) => session::setsid(),
            Step::Stat(path) => file::stat(path),
            Step::Pid(s) => pid::perform(s, &self.env),
            Step::User(s) => user::perform(s, &self.env),
            Step::Mnt(s) => mnt::perform(s, &self.env, &mut self.sandbox),
            Step::Net(s) => net::perform(s, &self.env),
            Step::Ipc(s) => ipc::perform(s, &self.env),
            Step::Uts(s) => uts::perform(s, &self.env),
            Step::Cgroup(s) => cgroup::perform(s, &self.env),
            Step::Time(s) => time::perform(s, &self.env),
            Step::Nsfs(s) => nsfs::perform(s, &self.env),
        }
    }
}
