//! Errors in case and fixture files, positioned by file, line and column,
//! and a locator that finds where a JSON path starts in a file's text.

use std::path::{Path, PathBuf};

pub use crate::plan::json_path::{JsonPath, Seg};

/// A case or fixture file that cannot be used, and where the trouble is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct FormatError {
    pub file: PathBuf,
    /// 1-based; 0 when the position is unknown.
    pub line: usize,
    /// 1-based byte column; 0 when the position is unknown.
    pub column: usize,
    pub message: String,
}

impl FormatError {
    /// Wraps a serde_json error, moving its position out of its message.
    pub fn from_json(file: &Path, err: &serde_json::Error) -> FormatError {
        let (line, column) = (err.line(), err.column());
        let full = err.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        FormatError {
            file: file.to_path_buf(),
            line,
            column,
            message,
        }
    }

    /// A file that could not be read at all.
    pub fn unreadable(file: &Path, err: &std::io::Error) -> FormatError {
        FormatError {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read: {err}"),
        }
    }

    /// An error about the value at `path` in `text`.
    pub fn at_path(file: &Path, text: &str, path: &JsonPath, message: String) -> FormatError {
        let (line, column) = locate(text, path);
        let message = if path.is_empty() {
            message
        } else {
            format!("{path}: {message}")
        };
        FormatError {
            file: file.to_path_buf(),
            line,
            column,
            message,
        }
    }
}

/// The line and column (1-based) where the value at `path` starts in
/// `text`; as deep as the text allows when the path does not lead anywhere.
pub fn locate(text: &str, path: &JsonPath) -> (usize, usize) {
    let mut cur = Cursor {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    cur.ws();
    let mut found = cur.at;
    for seg in &path.0 {
        let ok = match seg {
            Seg::Key(k) => cur.enter_key(k),
            Seg::Index(n) => cur.enter_index(*n),
        };
        if ok.is_none() {
            break;
        }
        found = cur.at;
    }
    line_column(text, found)
}

/// The 1-based line and byte column of byte offset `at`.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..at.min(text.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, 1 + before.len() - start)
}

/// A byte cursor over JSON text that can step into objects and arrays.
struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.ws();
        (self.peek()? == b).then(|| self.at += 1)
    }

    /// Moves past a string starting at the cursor and returns its raw text.
    fn string(&mut self) -> Option<&str> {
        let start = self.at;
        (self.peek()? == b'"').then_some(())?;
        self.at += 1;
        loop {
            match self.peek()? {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    return self.text.get(start..self.at);
                }
                _ => self.at += 1,
            }
        }
    }

    /// Moves past one value, of any depth, without recursion.
    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.at += 1;
                }
                b',' | b':' if depth > 0 => self.at += 1,
                b',' | b':' => return Some(()),
                _ => self.at += 1,
            }
            self.ws();
            if depth == 0 && matches!(self.peek(), None | Some(b',' | b'}' | b']')) {
                return Some(());
            }
        }
    }

    fn enter_key(&mut self, key: &str) -> Option<()> {
        self.eat(b'{')?;
        loop {
            self.ws();
            let raw = self.string()?;
            let name: String = serde_json::from_str(raw).ok()?;
            self.eat(b':')?;
            self.ws();
            if name == key {
                return Some(());
            }
            self.skip_value()?;
            self.eat(b',')?;
        }
    }

    fn enter_index(&mut self, index: usize) -> Option<()> {
        self.eat(b'[')?;
        for _ in 0..index {
            self.skip_value()?;
            self.eat(b',')?;
        }
        self.ws();
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const TEXT: &str =
        "{\n  \"a\": {\"b\": [1, {\"c\": \"x\"}, [2, 3]]},\n  \"d\\u0065\": \"e\"\n}";

    fn path(s: &str) -> JsonPath {
        JsonPath(
            s.split('.')
                .filter(|p| !p.is_empty())
                .map(|p| match p.parse() {
                    Ok(n) => Seg::Index(n),
                    Err(_) => Seg::Key(p.to_string()),
                })
                .collect(),
        )
    }

    #[rstest]
    #[case("", (1, 1))]
    #[case("a", (2, 8))]
    #[case("a.b", (2, 14))]
    #[case("a.b.0", (2, 15))]
    #[case("a.b.1", (2, 18))]
    #[case("a.b.1.c", (2, 24))]
    #[case("a.b.2.1", (2, 34))]
    #[case("de", (3, 14))]
    #[case("a.zz", (2, 8))]
    #[case("a.b.9", (2, 14))]
    fn locates(#[case] p: &str, #[case] want: (usize, usize)) {
        assert_eq!(locate(TEXT, &path(p)), want);
    }

    #[rstest]
    #[case("")]
    #[case("{")]
    #[case("{\"a\"")]
    #[case("[[[[")]
    #[case("]]]}")]
    #[case("{\"a\": \"\\")]
    fn locate_never_panics(#[case] text: &str) {
        let _ = locate(text, &path("a.0.b"));
    }

    #[test]
    fn displays_position() {
        let e = FormatError {
            file: "cases/uts/x.json".into(),
            line: 3,
            column: 5,
            message: "unknown field `x`".into(),
        };
        assert_eq!(e.to_string(), "cases/uts/x.json:3:5: unknown field `x`");
    }

    #[test]
    fn moves_position_out_of_json_message() {
        let err = serde_json::from_str::<serde_json::Value>("{\n  \"a\": tru,\n}").unwrap_err();
        let e = FormatError::from_json(Path::new("f.json"), &err);
        assert_eq!((e.line, e.column), (2, 11));
        assert_eq!(e.message, "expected ident");
    }
}
