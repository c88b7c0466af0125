//! `nnlab serve` in a real browser: headless Chromium driven over the DevTools protocol draws a digit on
//! the draw page with mouse events, types η and a weight into the playground and runs it, and reads a run's
//! final accuracy on the runs page — each answer checked against the CLI or the run's files.
//!
//! `NNLAB_SERVE_RUNS=DIR` uses existing runs instead of training a small one; `NNLAB_SCREENSHOTS=DIR` saves
//! a screenshot of each page there (docs/web.md's come from `bench/screenshots.sh`).

mod cdp;
mod common;

use std::path::{Path, PathBuf};

use common::{Server, nnlab, tiny_run};
use serde_json::Value;

fn screenshot(browser: &mut cdp::Browser, name: &str) {
    if let Ok(dir) = std::env::var("NNLAB_SCREENSHOTS") {
        let path = Path::new(&dir).join(name);
        std::fs::write(&path, browser.screenshot()).unwrap();
        eprintln!("wrote {}", path.display());
    }
}

/// The last row's E_total of `nnlab backprop table` with these flags.
fn cli_e_total(args: &[&str]) -> f64 {
    let out = nnlab()
        .args(["backprop", "table", "--format", "csv"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "E_total").unwrap();
    lines.last().unwrap().split(',').nth(col).unwrap().parse().unwrap()
}

#[test]
fn the_three_pages_work_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let (runs, run): (PathBuf, PathBuf) = match std::env::var("NNLAB_SERVE_RUNS") {
        Ok(dir) => {
            let runs = PathBuf::from(dir);
            let first = std::fs::read_dir(&runs)
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("metrics.json").is_file())
                .min()
                .expect("a run with metrics.json");
            (runs, first)
        }
        Err(_) => {
            let runs = tmp.path().join("runs");
            let run = tiny_run(&runs, "tiny");
            (runs, run)
        }
    };
    let server = Server::start(&runs, &[]);
    let mut browser = cdp::Browser::launch(1400, 1000);

    // Draw a "1": one vertical stroke down the middle of the pad, as mouse events.
    browser.open(
        &format!("{}/draw", server.url),
        "document.getElementById('checkpoint').options.length > 0",
    );
    let (cx, cy) = browser.centre("#pad");
    browser.mouse("mouseMoved", cx + 4.0, cy - 95.0);
    browser.mouse("mousePressed", cx + 4.0, cy - 95.0);
    for k in 1..=20 {
        let t = k as f64 / 20.0;
        browser.mouse("mouseMoved", cx + 4.0 - 8.0 * t, cy - 95.0 + 190.0 * t);
    }
    browser.mouse("mouseReleased", cx - 4.0, cy + 95.0);
    browser.wait_for("document.body.dataset.predictions >= 1 && document.body.dataset.busy === 'false'");
    let shown: u64 = browser
        .eval("document.getElementById('digit').dataset.digit")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(shown, 1, "the page read the stroke as {shown}");
    // The page's answer is the API's answer on the 28×28 image the page shows.
    let input = browser.eval("window.lastInput");
    assert_eq!(input.as_array().unwrap().len(), 784);
    let api: Value = ureq::post(format!("{}/api/predict", server.url))
        .send_json(serde_json::json!({ "pixels": input }))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(api["digit"], shown);
    assert_eq!(browser.eval("window.lastAnswer.probabilities"), api["probabilities"]);
    screenshot(&mut browser, "serve-draw.png");

    // The playground: type η = 0.5 and w1 = 0.3, run N = 10 iterations, read E_total at iteration 11.
    browser.open(
        &format!("{}/playground", server.url),
        "document.body.dataset.busy === 'false'",
    );
    browser.type_into("#lr", "0.5");
    browser.type_into("#w1", "0.3");
    browser.click("#show-grads");
    browser.click("#run");
    browser.wait_for(
        "document.getElementById('iteration').textContent === '11' && document.body.dataset.busy === 'false'",
    );
    let page: f64 = browser
        .eval("document.getElementById('e-total').dataset.value")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let cli = cli_e_total(&[
        "--lr",
        "0.5",
        "--weights",
        "0.3,0.2,0.25,0.3,0.4,0.45,0.5,0.55",
        "--iterations",
        "11",
    ]);
    assert_eq!(page, cli, "E_total on the page vs nnlab backprop table");
    let grads = browser.eval("document.querySelectorAll('#diagram .grad').length");
    assert_eq!(grads, 8);
    screenshot(&mut browser, "serve-playground.png");

    // The runs page: the run's final test accuracy, as its metrics.json has it.
    let metrics: Value = serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let expected = metrics["epochs"].as_array().unwrap().last().unwrap()["test_accuracy"]
        .as_f64()
        .unwrap();
    browser.open(
        &format!("{}/runs", server.url),
        "document.getElementById('final-accuracy') && document.getElementById('final-accuracy').dataset.value !== ''",
    );
    let name = run.file_name().unwrap().to_str().unwrap();
    let row = browser.eval(&format!(
        "document.querySelector('tr[data-run=\"{name}\"] td.final').dataset.value"
    ));
    assert_eq!(row.as_str().unwrap().parse::<f64>().unwrap(), expected);
    browser.wait_for("document.querySelectorAll('#acc-chart path').length >= 1");
    screenshot(&mut browser, "serve-runs.png");
}
