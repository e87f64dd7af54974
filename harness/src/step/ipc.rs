//! IPC steps: creating SysV objects and POSIX message queues.

use std::ffi::CString;

use nix::errno::Errno;

use super::Extra;
use crate::plan::{SysvKind, SysvStep};

/// Create a SysV object with `IPC_CREAT | IPC_EXCL` and mode 0600.
pub fn sysv(step: &SysvStep) -> Result<Extra, Errno> {
    let flags = libc::IPC_CREAT | libc::IPC_EXCL | 0o600;
    // SAFETY: the *get calls take plain integers and touch no memory of ours.
    let id = unsafe {
        match step.kind {
            SysvKind::Shm => libc::shmget(step.key, 4096, flags),
            SysvKind::Msg => libc::msgget(step.key, flags),
            SysvKind::Sem => libc::semget(step.key, 1, flags),
        }
    };
    let id = Errno::result(id)?;
    let mut extra = Extra::new();
    extra.insert("id".into(), id.into());
    Ok(extra)
}

/// Create a POSIX message queue with `O_CREAT | O_EXCL` and mode 0600.
pub fn mqueue(name: &str) -> Result<Extra, Errno> {
    let cname = CString::new(name).map_err(|_| Errno::EINVAL)?;
    let oflag = libc::O_CREAT | libc::O_EXCL | libc::O_RDWR;
    // SAFETY: `cname` is a valid C string; a null attr asks for the defaults.
    let mqd = unsafe {
        libc::mq_open(
            cname.as_ptr(),
            oflag,
            0o600,
            std::ptr::null::<libc::mq_attr>(),
        )
    };
    let mqd = Errno::result(mqd)?;
    // SAFETY: closing the queue descriptor just opened; the queue stays.
    unsafe { libc::mq_close(mqd) };
    Ok(Extra::new())
}

/// Carry out one of the steps of plan::ipc.
pub fn perform(step: &crate::plan::ipc::IpcStep, _env: &super::StepEnv) -> Result<Extra, Errno> {
    match *step {}
}
