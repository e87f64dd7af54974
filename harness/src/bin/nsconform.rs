//! The `nsconform` command: see `nsconform --help`.

fn main() -> std::process::ExitCode {
    nsconform::cli::main()
}
