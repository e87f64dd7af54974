//! The probe binary: reads a plan on standard input, carries it out, and
//! writes the outcome as one JSON document on standard output.

use std::io::Read;
use std::process::ExitCode;

/// Started by the harness (`--supervised-by <pid>`): die with it, write
/// no file larger than the limit, and block no signal. This is the
/// harness's `pre_exec`, done here so that the harness can start probes
/// without copying itself. It runs before the probe reads, opens or writes
/// anything. The arguments after those two (all of them, when the harness
/// did not start the probe) say what the probe is to do.
fn supervised() -> Vec<String> {
    use nsconform::target::host::{MAX_FILE, SUPERVISED_ARG};
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some(SUPERVISED_ARG) {
        return args;
    }
    let parent = args.get(1).and_then(|p| p.parse::<i32>().ok());
    let armed = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).is_ok();
    // Checked after arming: a harness that died before is no longer the parent.
    let orphan = parent != Some(nix::unistd::getppid().as_raw());
    if orphan {
        std::process::exit(3);
    }
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::RLIMIT_FSIZE).map_or(MAX_FILE, |(_, hard)| hard.min(MAX_FILE));
    let limited = setrlimit(Resource::RLIMIT_FSIZE, limit, limit).is_ok();
    // The harness blocks SIGINT and SIGTERM in its threads to take them in
    // one, and posix_spawn hands the mask on: kept, those two signals would
    // wait, pending, in every process of the trial, where the kernel is to
    // deliver or discard them.
    use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};
    let unmasked = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None).is_ok();
    if !armed || !limited || !unmasked {
        let why = "cannot arm the death signal, the file-size limit or an empty signal mask";
        println!("{}", nsconform::probe::unreadable(why.into()));
        std::process::exit(2);
    }
    args.into_iter().skip(2).collect()
}

/// Where the clocks stand before any door: the zero of a measured time
/// shift, only read when the time section is observed (it costs a dozen
/// reads of `/proc`).
fn mark_clocks(plan: &nsconform::plan::Plan) {
    let time = nsconform::view::Section::Type(nsconform::kind::NsType::Time);
    if plan.observes(time) {
        nsconform::view::time::mark_start();
    }
}

fn main() -> ExitCode {
    let args = supervised();
    let mode = args.first().map(String::as_str);
    // Run again by a step after execve(2): report our own status and leave.
    if mode == Some(nsconform::plan::user::SELF_STATUS_ARG) {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        print!("{status}");
        return ExitCode::SUCCESS;
    }
    // Started by a runtime door as a container's process.
    if mode == Some(nsconform::plan::runtime::INSIDE_ARG) {
        let text = args.get(1).cloned().unwrap_or_default();
        return match serde_json::from_str::<nsconform::plan::Plan>(&text) {
            Ok(plan) => {
                mark_clocks(&plan);
                ExitCode::from(nsconform::probe::container::run(&plan) as u8)
            }
            Err(e) => {
                eprintln!("nsconform-probe: bad plan in the container: {e}");
                ExitCode::from(2)
            }
        };
    }
    // Started by the harness once per job, to start each trial's process.
    if mode == Some(nsconform::sys::spawner::SPAWNER_ARG) {
        use std::os::fd::FromRawFd;
        // SAFETY: the harness hands the spawner its socket as standard
        // input, and nothing else in this process owns descriptor 0.
        let sock = unsafe { std::os::fd::OwnedFd::from_raw_fd(0) };
        let work = nsconform::sys::spare::Work {
            ready: &nsconform::guard::ready,
            carry_out: &|| i32::from(carry_out()),
        };
        let code = nsconform::sys::spawner::serve(&sock, &work);
        return ExitCode::from(code as u8);
    }
    ExitCode::from(carry_out())
}

/// Read the plan on standard input, carry it out, and print the outcome:
/// the exit code.
fn carry_out() -> u8 {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        println!(
            "{}",
            nsconform::probe::unreadable(format!("cannot read the plan: {e}"))
        );
        return 2;
    }
    let plan: nsconform::plan::Plan = match serde_json::from_str(&text) {
        Ok(plan) => plan,
        Err(e) => {
            println!("{}", nsconform::probe::unreadable(format!("bad plan: {e}")));
            return 2;
        }
    };
    mark_clocks(&plan);
    let outcome = nsconform::probe::run(&plan);
    match serde_json::to_string(&outcome) {
        Ok(text) => {
            println!("{text}");
            0
        }
        Err(e) => {
            println!(
                "{}",
                nsconform::probe::unreadable(format!("cannot encode the outcome: {e}"))
            );
            2
        }
    }
}
