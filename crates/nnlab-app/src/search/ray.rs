//! A Ray cluster as a [`Launcher`]: each job is submitted through Ray's Job Submission REST API
//! (`POST /api/jobs/` with the `nnlab mnist train …` command line as its entrypoint), its status polled
//! (`GET /api/jobs/{id}`), and its logs kept (`GET /api/jobs/{id}/logs`). Run folders must live on a
//! folder every worker sees (`--shared-dir`), and `nnlab` must be on the workers' PATH. No scheduler of
//! nnlab's own: Ray places the jobs; `workers` caps how many are submitted at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::launch::{Job, JobEnd, Launcher};
use crate::{AppError, Result};

/// A Ray head's dashboard address (`http://HEAD:8265`).
pub struct Ray {
    /// The dashboard's URL, without a trailing slash.
    pub url: String,
    /// The program name or path on the workers.
    pub program: String,
    /// Jobs submitted at once.
    pub workers: usize,
    agent: ureq::Agent,
}

/// `arg` quoted for a POSIX shell (Ray runs the entrypoint through one).
fn quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

impl Ray {
    /// A launcher for the head at `url`.
    pub fn new(url: &str, program: &str, workers: usize) -> Ray {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Ray {
            url: url.trim_end_matches('/').to_string(),
            program: program.to_string(),
            workers,
            agent,
        }
    }

    fn call(&self, request: Result<ureq::http::Response<ureq::Body>, ureq::Error>, what: &str) -> Result<Value> {
        let mut response = request.map_err(|e| AppError::invalid(format!("--ray {}: {what}: {e}", self.url)))?;
        let status = response.status().as_u16();
        let body: Value = response.body_mut().read_json().unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            return Err(AppError::invalid(format!(
                "--ray {}: {what}: HTTP {status}: {body}",
                self.url
            )));
        }
        Ok(body)
    }

    /// Waits (up to `seconds`) until the head's dashboard answers `GET /api/version`: a head just started
    /// takes a few seconds to serve its API.
    pub fn ready(&self, seconds: u64) -> Result<()> {
        let start = std::time::Instant::now();
        loop {
            let answered = self.agent.get(format!("{}/api/version", self.url)).call();
            if answered.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(seconds) {
                return Err(AppError::invalid(format!(
                    "--ray {}: no Ray dashboard answered there within {seconds} s (is the head started, with --dashboard-host set?)",
                    self.url
                )));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Submits a job; its submission id.
    pub fn submit(&self, job: &Job) -> Result<String> {
        let entrypoint = std::iter::once(quote(&self.program))
            .chain(job.args.iter().map(|a| quote(a)))
            .collect::<Vec<_>>()
            .join(" ");
        let body = self.call(
            self.agent
                .post(format!("{}/api/jobs/", self.url))
                .send_json(json!({ "entrypoint": entrypoint })),
            "submitting a job",
        )?;
        body["submission_id"]
            .as_str()
            .or_else(|| body["job_id"].as_str())
            .map(str::to_string)
            .ok_or_else(|| AppError::invalid(format!("--ray {}: no job id in the answer {body}", self.url)))
    }

    /// A job's status: PENDING, RUNNING, SUCCEEDED, FAILED or STOPPED.
    pub fn status(&self, id: &str) -> Result<String> {
        let body = self.call(
            self.agent.get(format!("{}/api/jobs/{id}", self.url)).call(),
            "polling a job",
        )?;
        Ok(body["status"].as_str().unwrap_or("UNKNOWN").to_string())
    }

    fn keep_logs(&self, id: &str, job: &Job) {
        if let Ok(body) = self.call(
            self.agent.get(format!("{}/api/jobs/{id}/logs", self.url)).call(),
            "reading logs",
        ) {
            let _ = std::fs::write(&job.log, body["logs"].as_str().unwrap_or_default());
        }
    }

    fn stop_job(&self, id: &str) {
        let _ = self.agent.post(format!("{}/api/jobs/{id}/stop", self.url)).send_empty();
    }
}

impl Launcher for Ray {
    fn run_all(&mut self, jobs: &[Job], stop: &AtomicBool, finished: &mut dyn FnMut(usize, JobEnd)) -> Result<()> {
        if !jobs.is_empty() {
            self.ready(60)?;
        }
        let mut next = 0;
        let mut running: Vec<(usize, String)> = Vec::new();
        loop {
            while running.len() < self.workers.max(1) && next < jobs.len() && !stop.load(Ordering::SeqCst) {
                running.push((next, self.submit(&jobs[next])?));
                next += 1;
            }
            if running.is_empty() {
                return Ok(());
            }
            if stop.load(Ordering::SeqCst) {
                for (_, id) in &running {
                    self.stop_job(id);
                }
            }
            let mut still = Vec::new();
            for (i, id) in running {
                let end = match self.status(&id)?.as_str() {
                    "SUCCEEDED" => JobEnd::Done,
                    "STOPPED" => JobEnd::Stopped,
                    "FAILED" => {
                        self.keep_logs(&id, &jobs[i]);
                        JobEnd::Failed(format!(
                            "Ray job {id} failed: {}",
                            super::launch::last_line(&jobs[i].log)
                        ))
                    }
                    _ => {
                        still.push((i, id));
                        continue;
                    }
                };
                if end == JobEnd::Done {
                    self.keep_logs(&id, &jobs[i]);
                }
                finished(i, end);
            }
            running = still;
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_for_the_shell() {
        assert_eq!(quote("--epochs"), "--epochs");
        assert_eq!(quote("/a/b.model"), "/a/b.model");
        assert_eq!(quote("acc>=99.4,params<8000"), "'acc>=99.4,params<8000'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
