//! The probe binary: reads a plan on standard input, carries it out, and
//! writes the outcome as one JSON document on standard output.

use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Run again by a step after execve(2): report our own status and leave.
    if std::env::args().nth(1).as_deref() == Some(nsconform::plan::user::SELF_STATUS_ARG) {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        print!("{status}");
        return ExitCode::SUCCESS;
    }
    // Started by a runtime door as a container's process.
    if std::env::args().nth(1).as_deref() == Some(nsconform::plan::runtime::INSIDE_ARG) {
        let text = std::env::args().nth(2).unwrap_or_default();
        return match serde_json::from_str::<nsconform::plan::Plan>(&text) {
            Ok(plan) => ExitCode::from(nsconform::probe::container::run(&plan) as u8),
            Err(e) => {
                eprintln!("nsconform-probe: bad plan in the container: {e}");
                ExitCode::from(2)
            }
        };
    }
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        println!(
            "{}",
            nsconform::probe::unreadable(format!("cannot read the plan: {e}"))
        );
        return ExitCode::from(2);
    }
    let plan: nsconform::plan::Plan = match serde_json::from_str(&text) {
        Ok(plan) => plan,
        Err(e) => {
            println!("{}", nsconform::probe::unreadable(format!("bad plan: {e}")));
            return ExitCode::from(2);
        }
    };
    let outcome = nsconform::probe::run(&plan);
    match serde_json::to_string(&outcome) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!(
                "{}",
                nsconform::probe::unreadable(format!("cannot encode the outcome: {e}"))
            );
            ExitCode::from(2)
        }
    }
}
