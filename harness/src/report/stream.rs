//! `report.json` written as the run goes: each trial's record is written
//! when it finishes (in the order of the trials, the few that finish early
//! held until those before them are in), so a run holds no views in memory.
//! The file is `report.json.partial` until the run ends; then the summary is
//! written and it is renamed `report.json` (a report directory holding a
//! `report.json` is that of a finished run).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::json::{self, Tail};
use super::{Format, ReportError};
use crate::verdict::{Environment, SuiteId, TrialRecord};

/// A `report.json` being written.
pub struct JsonStream {
    out: BufWriter<File>,
    partial: PathBuf,
    path: PathBuf,
    /// Records that finished before the one of index `next`.
    early: BTreeMap<usize, TrialRecord>,
    next: usize,
    written: usize,
    /// The first write that failed; the run goes on, and the end says so.
    failed: Option<ReportError>,
}

impl JsonStream {
    /// Start `dir/report.json` (as `report.json.partial`) with the run's
    /// environment.
    pub fn create(
        dir: &Path,
        environment: &Environment,
        suite: Option<&SuiteId>,
    ) -> Result<JsonStream, ReportError> {
        let path = dir.join(Format::Json.file_name());
        let partial = dir.join(format!("{}.partial", Format::Json.file_name()));
        let file = File::create(&partial).map_err(|e| ReportError::at("create", &partial, e))?;
        let mut out = BufWriter::new(file);
        json::write_head(&mut out, environment, suite)?;
        Ok(JsonStream {
            out,
            partial,
            path,
            early: BTreeMap::new(),
            next: 0,
            written: 0,
            failed: None,
        })
    }

    /// The record of trial `index` (its position in the run) has come.
    pub fn trial(&mut self, index: usize, record: TrialRecord) {
        self.early.insert(index, record);
        while let Some(record) = self.early.remove(&self.next) {
            self.write(&record);
            self.next += 1;
        }
    }

    fn write(&mut self, record: &TrialRecord) {
        if self.failed.is_none() {
            let first = self.written == 0;
            if let Err(e) = json::write_trial(&mut self.out, record, first) {
                self.failed = Some(e);
            }
        }
        self.written += 1;
    }

    /// Write the records still held (those after a trial that never
    /// finished, in a stopped run) and the tail; rename the file
    /// `report.json`. Returns its path.
    pub fn finish(mut self, tail: &Tail) -> Result<PathBuf, ReportError> {
        for (_, record) in std::mem::take(&mut self.early) {
            self.write(&record);
        }
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        json::write_tail(&mut self.out, tail)?;
        self.out
            .flush()
            .map_err(|e| ReportError::at("write", &self.partial, e))?;
        std::fs::rename(&self.partial, &self.path)
            .map_err(|e| ReportError::at("write", &self.path, e))?;
        Ok(self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{Report, Summary, Verdict};

    fn record(id: &str, verdict: Verdict) -> TrialRecord {
        TrialRecord {
            verdict,
            ..TrialRecord::new(id, "host")
        }
    }

    #[test]
    fn records_come_out_in_the_order_of_the_trials() {
        let dir = tempfile::tempdir().unwrap();
        let env = Environment::default();
        let mut s = JsonStream::create(dir.path(), &env, None).unwrap();
        assert!(dir.path().join("report.json.partial").exists());
        s.trial(1, record("uts::b::clone", Verdict::Fail));
        s.trial(0, record("uts::a::clone", Verdict::Pass));
        s.trial(3, record("uts::d::clone", Verdict::Pass));
        let summary = Summary {
            pass: 2,
            fail: 1,
            ..Summary::default()
        };
        let tail = Tail {
            summary,
            interrupted: Some("SIGTERM"),
            kernel_log: &[],
        };
        let path = s.finish(&tail).unwrap();
        assert!(!dir.path().join("report.json.partial").exists());
        let report: Report = json::read_file(&path).unwrap();
        let ids: Vec<&str> = report.trials.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["uts::a::clone", "uts::b::clone", "uts::d::clone"]);
        assert_eq!(report.summary, summary);
        assert_eq!(report.interrupted.as_deref(), Some("SIGTERM"));
    }
}
