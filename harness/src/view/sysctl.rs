//! Sysctls under `/proc/sys`: the file of a name, and reading one. `/proc/sys`
//! answers for the namespaces of the process that opens the file, so a
//! view reads each sysctl afresh in its own process.

use rustix::fs::{Mode, OFlags};

/// The file of sysctl `name`, written `net.ipv4.ip_forward` or
/// `net/ipv4/ip_forward`.
pub fn path(name: &str) -> String {
    format!("/proc/sys/{}", name.replace('.', "/"))
}

/// The value of sysctl `name` in the caller's namespaces, without its
/// trailing newline; `None` when this kernel has no such file or it cannot
/// be read. One open, reads to the end, one close: no stat, since procfs
/// gives a sysctl's file no size.
pub fn read(name: &str) -> Option<String> {
    let file =
        rustix::fs::open(path(name), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        match rustix::io::read(&file, &mut chunk) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return None,
        }
    }
    let text = String::from_utf8(bytes).ok()?;
    Some(text.trim_end_matches('\n').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_paths() {
        let dotted = path("net.ipv6.conf.all.forwarding");
        assert_eq!(dotted, "/proc/sys/net/ipv6/conf/all/forwarding");
        assert_eq!(path("net/ipv4/ip_forward"), "/proc/sys/net/ipv4/ip_forward");
    }

    #[test]
    fn reads_what_the_file_says() {
        let read_back = std::fs::read_to_string("/proc/sys/kernel/ostype").unwrap();
        assert_eq!(read("kernel.ostype").as_deref(), Some(read_back.trim_end()));
        assert_eq!(read("kernel.no_such_sysctl"), None);
    }
}
