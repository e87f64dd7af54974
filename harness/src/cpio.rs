//! The newc ("SVR4 with no CRC") cpio format that the kernel unpacks as an
//! initramfs (`Documentation/driver-api/early-userspace/buffer-format.rst`):
//! directories, regular files and symbolic links, written in order.

use std::io::{self, Write};

/// The magic that opens every newc header.
const MAGIC: &str = "070701";

/// The name of the entry that ends an archive.
const TRAILER: &str = "TRAILER!!!";

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

/// A newc archive being written to `out`. Entries are owned by root; the
/// kernel creates them in the order given, so a directory comes before what
/// it holds.
pub struct Archive<W: Write> {
    out: W,
    ino: u32,
    written: u64,
    /// The device numbers of the next entry.
    rdev: (u32, u32),
}

impl<W: Write> Archive<W> {
    pub fn new(out: W) -> Archive<W> {
        Archive {
            out,
            ino: 1,
            written: 0,
            rdev: (0, 0),
        }
    }

    /// A directory `name` (no leading `/`, e.g. `cases/uts`).
    pub fn dir(&mut self, name: &str, mode: u32) -> io::Result<()> {
        self.entry(name, S_IFDIR | (mode & 0o7777), 2, &[])
    }

    /// A regular file `name` holding `data`.
    pub fn file(&mut self, name: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        self.entry(name, S_IFREG | (mode & 0o7777), 1, data)
    }

    /// A symbolic link `name` pointing at `target`.
    pub fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        self.entry(name, S_IFLNK | 0o777, 1, target.as_bytes())
    }

    /// A character device `name` with the given major and minor numbers.
    pub fn char_device(&mut self, name: &str, mode: u32, major: u32, minor: u32) -> io::Result<()> {
        self.rdev = (major, minor);
        let done = self.entry(name, S_IFCHR | (mode & 0o7777), 1, &[]);
        self.rdev = (0, 0);
        done
    }

    /// Writes the trailer and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.entry(TRAILER, 0, 1, &[])?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn entry(&mut self, name: &str, mode: u32, nlink: u32, data: &[u8]) -> io::Result<()> {
        let size = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file over 4 GiB"))?;
        let ino = if name == TRAILER { 0 } else { self.ino };
        self.ino += 1;
        // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
        let (major, minor) = self.rdev;
        let fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, major, minor];
        let mut header = String::from(MAGIC);
        for f in fields {
            header.push_str(&format!("{f:08X}"));
        }
        header.push_str(&format!("{:08X}{:08X}", name.len() + 1, 0));
        self.put(header.as_bytes())?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.pad()?;
        self.put(data)?;
        self.pad()
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Header+name and data each end on a multiple of four bytes.
    fn pad(&mut self) -> io::Result<()> {
        let rest = (4 - self.written % 4) % 4;
        self.put(&[0u8; 3][..rest as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(header: &[u8], i: usize) -> u32 {
        let at = 6 + 8 * i;
        u32::from_str_radix(std::str::from_utf8(&header[at..at + 8]).unwrap(), 16).unwrap()
    }

    #[test]
    fn a_file_entry_is_laid_out_as_newc() {
        let mut a = Archive::new(Vec::new());
        a.file("init", 0o755, b"hello").unwrap();
        let out = a.finish().unwrap();
        assert_eq!(&out[..6], b"070701");
        assert_eq!(field(&out, 1), S_IFREG | 0o755);
        assert_eq!(field(&out, 6), 5);
        assert_eq!(field(&out, 11), 5); // "init\0"
                                        // 110 header bytes + 5 name bytes, padded to 116; then the data.
        assert_eq!(&out[110..115], b"init\0");
        assert_eq!(&out[116..121], b"hello");
        // The data is padded to 124, where the trailer begins.
        assert_eq!(&out[124..130], b"070701");
        assert_eq!(out.len() % 4, 0);
        let tail = String::from_utf8_lossy(&out[124..]);
        assert!(tail.contains("TRAILER!!!"), "{tail}");
    }

    #[test]
    fn directories_and_links_carry_their_type() {
        let mut a = Archive::new(Vec::new());
        a.dir("cases", 0o755).unwrap();
        let dir_end = a.written as usize;
        a.symlink("sbin", "bin").unwrap();
        let out = a.finish().unwrap();
        assert_eq!(field(&out, 1), S_IFDIR | 0o755);
        let link = &out[dir_end..];
        assert_eq!(field(link, 1), S_IFLNK | 0o777);
        assert_eq!(field(link, 6), 3);
    }

    #[test]
    fn a_device_carries_its_numbers() {
        let mut a = Archive::new(Vec::new());
        a.char_device("dev/console", 0o600, 5, 1).unwrap();
        let out = a.finish().unwrap();
        assert_eq!(field(&out, 1), S_IFCHR | 0o600);
        assert_eq!((field(&out, 9), field(&out, 10)), (5, 1));
    }
}
