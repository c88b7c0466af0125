//! Running a search's jobs: each job is one `nnlab mnist train …` command line; a [`Launcher`] runs them, at
//! most some number at a time. [`Local`] runs them as child processes of this machine; `ray::Ray` submits
//! them to a Ray cluster. Either way a job's output goes to its log file.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::{AppError, Result};

/// One training command of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The arguments after the `nnlab` program name.
    pub args: Vec<String>,
    /// Where its output goes.
    pub log: PathBuf,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEnd {
    /// Exit 0.
    Done,
    /// Anything else, with the reason (exit code, the log's last line).
    Failed(String),
    /// Stopped by the stop request before it finished.
    Stopped,
}

/// Runs jobs.
pub trait Launcher {
    /// Runs every job, at most as many at once as the launcher allows; `finished(i, end)` is called for job
    /// `i` as it ends (in any order). Once `stop` is set no new job starts and the running ones are awaited
    /// (they see the same Ctrl-C and stop cleanly).
    fn run_all(&mut self, jobs: &[Job], stop: &AtomicBool, finished: &mut dyn FnMut(usize, JobEnd)) -> Result<()>;
}

/// Child processes of this machine: the `nnlab` program at `program`, `workers` at a time.
pub struct Local {
    /// The `nnlab` binary.
    pub program: PathBuf,
    /// Jobs at once.
    pub workers: usize,
}

/// The last non-empty line of a log, for a failure's reason.
pub fn last_line(log: &std::path::Path) -> String {
    std::fs::read_to_string(log)
        .ok()
        .and_then(|t| t.lines().rev().find(|l| !l.trim().is_empty()).map(str::to_string))
        .unwrap_or_default()
}

impl Local {
    fn spawn(&self, job: &Job) -> Result<Child> {
        let log = File::create(&job.log).map_err(|e| AppError::file(&job.log, format!("cannot write the log: {e}")))?;
        let err = log
            .try_clone()
            .map_err(|e| AppError::file(&job.log, format!("cannot write the log: {e}")))?;
        Command::new(&self.program)
            .args(&job.args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| AppError::file(&self.program, format!("cannot start it: {e}")))
    }
}

impl Launcher for Local {
    fn run_all(&mut self, jobs: &[Job], stop: &AtomicBool, finished: &mut dyn FnMut(usize, JobEnd)) -> Result<()> {
        let mut next = 0;
        let mut running: Vec<(usize, Child)> = Vec::new();
        loop {
            while running.len() < self.workers.max(1) && next < jobs.len() && !stop.load(Ordering::SeqCst) {
                running.push((next, self.spawn(&jobs[next])?));
                next += 1;
            }
            if running.is_empty() {
                return Ok(());
            }
            let mut still = Vec::new();
            for (i, mut child) in running {
                match child.try_wait() {
                    Ok(None) => still.push((i, child)),
                    Ok(Some(status)) => finished(i, end_of(status, stop, &jobs[i])),
                    Err(e) => finished(i, JobEnd::Failed(format!("cannot wait for it: {e}"))),
                }
            }
            running = still;
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn end_of(status: std::process::ExitStatus, stop: &AtomicBool, job: &Job) -> JobEnd {
    match status.code() {
        Some(0) => JobEnd::Done,
        Some(130) => JobEnd::Stopped,
        _ if stop.load(Ordering::SeqCst) => JobEnd::Stopped,
        code => JobEnd::Failed(format!(
            "exit {}: {}",
            code.map_or("by a signal".into(), |c| c.to_string()),
            last_line(&job.log)
        )),
    }
}
