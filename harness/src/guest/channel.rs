//! How the guest speaks to the host: markers in its kernel log (which qemu
//! carries out on the console), the report on the second serial port, and
//! the end of the run through isa-debug-exit, then power-off.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Mutex;

use crate::target::vm::protocol::{DEBUG_EXIT_PORT, REPORT_BEGIN, REPORT_END};
use crate::verdict::Report;

/// The serial port the report goes out on (the console is ttyS0).
const REPORT_PORT: &str = "/dev/ttyS1";

/// Why the report could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendReportError {
    /// The report port could not be opened or written.
    #[error("failed to write the report to {REPORT_PORT}: {0}")]
    Io(#[from] std::io::Error),
    /// The report could not be encoded.
    #[error("failed to encode the report: {0}")]
    Json(#[from] serde_json::Error),
}

static KMSG: Mutex<Option<std::fs::File>> = Mutex::new(None);

/// Writes one line into the kernel log (and so onto the console), at
/// KERN_NOTICE. Lost quietly where /dev/kmsg cannot be written.
pub fn mark(line: &str) {
    let Ok(mut kmsg) = KMSG.lock() else { return };
    if kmsg.is_none() {
        *kmsg = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/kmsg")
            .ok();
    }
    if let Some(f) = kmsg.as_mut() {
        let _ = f.write_all(format!("<5>{line}\n").as_bytes());
    }
}

/// Sends `report` over the report port, framed, and waits until the port
/// has sent it all.
pub fn send(report: &Report) -> Result<(), SendReportError> {
    let mut port = std::fs::OpenOptions::new()
        .write(true)
        // The port must not become the controlling terminal of /init.
        .custom_flags(libc::O_NOCTTY)
        .open(REPORT_PORT)?;
    let mut text = Vec::new();
    text.extend_from_slice(REPORT_BEGIN.as_bytes());
    text.push(b'\n');
    serde_json::to_writer(&mut text, report)?;
    text.push(b'\n');
    text.extend_from_slice(REPORT_END.as_bytes());
    text.push(b'\n');
    port.write_all(&text)?;
    // SAFETY: tcdrain(3) only waits on the open descriptor of the port.
    unsafe { libc::tcdrain(port.as_raw_fd()) };
    Ok(())
}

/// Ends the guest: `code` to isa-debug-exit (qemu exits with
/// `(code << 1) | 1`), then a power-off for a qemu without that device.
pub fn exit(code: u8) -> ! {
    let _ = std::io::stdout().flush();
    // SAFETY: ioperm(2) grants this process the one debug-exit port.
    let allowed = unsafe { libc::ioperm(libc::c_ulong::from(DEBUG_EXIT_PORT), 1, 1) } == 0;
    if allowed {
        // SAFETY: an OUT to the debug-exit port, which ioperm just granted;
        // it touches no memory.
        unsafe {
            std::arch::asm!("out dx, al", in("dx") DEBUG_EXIT_PORT, in("al") code,
                options(nomem, nostack, preserves_flags));
        }
    }
    // SAFETY: reboot(2) with the power-off command takes no pointers.
    unsafe { libc::reboot(libc::LINUX_REBOOT_CMD_POWER_OFF) };
    // /init may not exit (the kernel would panic); wait for the end.
    loop {
        std::thread::park();
    }
}
