//! Standard output for every command: a closed pipe (`nsconform list | head`)
//! is an error that `main` ends quietly on, never a panic.

use std::io::Write;

/// Write `text` and a newline to standard output.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()
}
