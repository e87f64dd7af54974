//! The HTML matrix: every trial is a cell, text is escaped, and Chromium renders it.
//!
//! The screenshot check needs Debian's `chromium` package (`apt-get install -y chromium`);
//! without `/usr/bin/chromium` it is skipped with a printed reason (a failure with `CI=true`).

mod report_support;
mod tool_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nsconform::report::html;
use nsconform::verdict::Report;

#[test]
fn every_trial_is_a_cell() {
    let r = report_support::report();
    let page = html::to_string(&r);
    for t in &r.trials {
        let cell = format!("data-id=\"{}\"", html::esc(&t.id));
        assert!(page.contains(&cell), "no cell for {}", t.id);
        assert!(
            page.contains(&format!("\"id\":\"{}\"", t.id)),
            "no details for {}",
            t.id
        );
    }
    assert_eq!(page.matches("<td class=\"v-").count(), r.trials.len());
    assert!(page.contains("class=\"v-fail\""));
    assert!(page.contains("class=\"v-error\""));
    assert!(
        page.contains("title=\"uts::isolated::runc on host: skip\nruntime not installed: runc\"")
    );
}

#[test]
fn everything_is_escaped_and_self_contained() {
    let r = report_support::report();
    let page = html::to_string(&r);
    assert_eq!(
        page.matches("<script").count(),
        2,
        "only the data and the code"
    );
    assert!(
        !page.contains("<script>alert"),
        "report text must be escaped"
    );
    assert!(!page.contains("<boom>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("\\u003cscript\\u003ealert(1)"));
    for external in ["http://", "https://", "src=", "@import", "url("] {
        assert!(!page.contains(external), "external resource: {external}");
    }
}

#[test]
fn several_targets_get_their_own_columns() {
    let mut r = report_support::report();
    let mut vm = r.trials.clone();
    for t in &mut vm {
        t.target = "vm:bzImage".into();
    }
    r.trials.extend(vm);
    r.summary = nsconform::verdict::Summary::of(&r.trials);
    let page = html::to_string(&r);
    assert!(
        page.contains("<th colspan=\"3\">host</th><th colspan=\"3\">vm:bzImage</th>"),
        "{page}"
    );
    assert_eq!(page.matches("<td class=\"v-").count(), r.trials.len());
}

/// Screenshots `page` with headless Chromium; `None` (after printing why) without it.
fn screenshot(url: &str, png: &Path) -> Option<()> {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        tool_support::missing("/usr/bin/chromium", "apt-get install -y chromium");
        return None;
    }
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1400,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..600 {
        if child.try_wait().unwrap().is_some() {
            return Some(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromium did not finish within 60 s");
}

fn render(r: &Report, name: &str, fragment: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report_html");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join(format!("{name}.html"));
    let png = dir.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&png);
    std::fs::write(&page, html::to_string(r)).unwrap();
    screenshot(&format!("file://{}{fragment}", page.display()), &png)?;
    Some(png)
}

#[test]
fn chromium_renders_the_matrix() {
    let r = report_support::report();
    let Some(png) = render(&r, "matrix", "") else {
        return;
    };
    let bytes = check_png(&png);
    eprintln!("screenshot: {}", png.display());
    // Opening a trial by its id runs the page's script and shows the detail panel.
    let detail = render(&r, "detail", "#uts%3A%3Aisolated%3A%3Aunshare").unwrap();
    let with_panel = check_png(&detail);
    assert_ne!(bytes, with_panel, "the detail panel did not open");
    eprintln!("screenshot: {}", detail.display());
}

fn check_png(png: &Path) -> Vec<u8> {
    let bytes = std::fs::read(png).expect("chromium wrote no screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let (w, h) = (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1400, 900), "unexpected size");
    // A blank page compresses to a few kilobytes; a coloured matrix with text does not.
    assert!(
        bytes.len() > 20_000,
        "screenshot looks empty: {} bytes",
        bytes.len()
    );
    bytes
}
