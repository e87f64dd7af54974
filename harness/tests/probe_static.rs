//! The probe must be statically linked: it runs as a container's process in
//! an empty rootfs and as /init in a guest kernel. A static binary has no
//! program interpreter (no PT_INTERP program header). And it must not be
//! position-independent: loaded at one address in every process, its code is
//! translated once by qemu's TCG in a guest, not once per probe.

use std::io::Read;

/// The bytes of the 64-bit ELF file at `path`.
fn elf(path: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .expect("read the probe");
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "not a 64-bit ELF file");
    bytes
}

/// Whether the ELF file at `path` is position-independent (`e_type` is
/// ET_DYN, 3, as for a PIE or a static-pie; a fixed executable is ET_EXEC, 2).
fn is_position_independent(path: &str) -> bool {
    let bytes = elf(path);
    u16::from_le_bytes([bytes[0x10], bytes[0x11]]) == 3
}

/// Whether the ELF file at `path` has a PT_INTERP program header.
fn has_interpreter(path: &str) -> bool {
    let bytes = elf(path);
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..phnum).any(|i| {
        let at = phoff + i * phentsize;
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) == 3 // PT_INTERP
    })
}

#[test]
fn the_probe_has_no_interpreter() {
    assert!(!has_interpreter(env!("CARGO_BIN_EXE_nsconform-probe")));
}

#[test]
fn the_probe_is_loaded_at_one_address() {
    assert!(!is_position_independent(env!(
        "CARGO_BIN_EXE_nsconform-probe"
    )));
}

#[test]
fn a_dynamic_position_independent_binary_would_be_caught() {
    // The checks can fail: an ordinary system binary is dynamically linked
    // and, on Debian, position-independent.
    if std::path::Path::new("/bin/sh").exists() {
        let sh = std::fs::canonicalize("/bin/sh").unwrap();
        assert!(has_interpreter(sh.to_str().unwrap()));
        assert!(is_position_independent(sh.to_str().unwrap()));
    }
}
