//! The `nsconform` command: see `nsconform --help`. As a guest kernel's
//! first process (`/init` of the `vm:` target) it runs the guest instead.

fn main() -> std::process::ExitCode {
    if nsconform::guest::is_init() {
        return nsconform::guest::main();
    }
    nsconform::cli::main()
}
