//! `nnlab serve` in a real browser: headless Chromium driven over the DevTools protocol draws a digit on
//! the draw page with mouse events, types η and a weight into the playground and runs it, and reads a run's
//! final accuracy on the runs page — each answer checked against the CLI or the run's files.
//!
//! `NNLAB_SERVE_RUNS=DIR` uses existing runs instead of training a small one; `NNLAB_SCREENSHOTS=DIR` saves
//! a screenshot of each page there (docs/web.md's come from `bench/screenshots.sh`).

mod cdp;
mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{Server, mnist_dir, nnlab, tiny_run};
use serde_json::Value;

/// One small trained run for every test of this file (training it once keeps the suite short), or with
/// `NNLAB_SERVE_RUNS` the first run there (for screenshots of a well-trained model).
fn shared_run() -> &'static PathBuf {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        if let Ok(dir) = std::env::var("NNLAB_SERVE_RUNS") {
            return (tmp, first_run(Path::new(&dir)));
        }
        let run = tiny_run(&tmp.path().join("trained"), "tiny");
        (tmp, run)
    })
    .1
}

/// The alphabetically first folder of `runs` with a metrics.json.
fn first_run(runs: &Path) -> PathBuf {
    std::fs::read_dir(runs)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("metrics.json").is_file())
        .min()
        .expect("a run with metrics.json")
}

/// A fresh runs folder holding a copy of the shared run (tests add their own folders beside it).
fn runs_with_tiny() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let dest = runs.join("tiny");
    std::fs::create_dir_all(&dest).unwrap();
    for entry in std::fs::read_dir(shared_run()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dest.join(entry.file_name())).unwrap();
    }
    (tmp, runs)
}

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
    let (_keep, runs, run): (Option<tempfile::TempDir>, PathBuf, PathBuf) = match std::env::var("NNLAB_SERVE_RUNS") {
        Ok(dir) => {
            let runs = PathBuf::from(dir);
            let first = first_run(&runs);
            (None, runs, first)
        }
        Err(_) => {
            let (keep, runs) = runs_with_tiny();
            let run = runs.join("tiny");
            (Some(keep), runs, run)
        }
    };
    let server = Server::start(&runs, &[]);
    let mut browser = cdp::Browser::launch(1400, 1000);

    // Draw a "1": one vertical stroke down the middle of the pad, as mouse events.
    browser.open(
        &format!("{}/draw", server.url),
        "document.getElementById('checkpoint').options.length > 0",
    );
    browser.eval(FAILED_REQUESTS);
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
    // No request failed: in particular pen-down never posts a blank pad.
    assert_eq!(browser.eval("window.failedRequests"), Value::from(0));
    inside_the_network(&mut browser, &server, &input);
    screenshot(&mut browser, "serve-draw.png");
    uploads(&mut browser);

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

/// Counts the page's requests answered 4xx or 5xx in `window.failedRequests`.
const FAILED_REQUESTS: &str = "(() => { window.failedRequests = 0; const f = window.fetch; \
    window.fetch = async (...a) => { const r = await f(...a); if (r.status >= 400) window.failedRequests += 1; return r; }; })()";

/// The draw page's inside panel after a digit is drawn: one row of maps per spatial statement of the
/// model (as /api/inspect lists them for the same pixels), the heat map, and a hovered map pixel's
/// receptive field outlined where its geometry says.
fn inside_the_network(browser: &mut cdp::Browser, server: &Server, input: &Value) {
    browser.wait_for(
        "Number(document.body.dataset.inspections) >= 1 && document.querySelectorAll('#maps .map-row').length > 0",
    );
    let api: Value = ureq::post(format!("{}/api/inspect", server.url))
        .send_json(serde_json::json!({ "pixels": input }))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let spatial: Vec<&Value> = api["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["values"].is_array())
        .collect();
    let rows = browser.eval("[...document.querySelectorAll('#maps .map-row')].map(r => r.dataset.layer)");
    let names: Vec<Value> = spatial.iter().map(|l| l["name"].clone()).collect();
    assert_eq!(rows, Value::from(names));
    assert!(api["gradcam_layer"].as_str().is_some_and(|l| !l.is_empty()));
    // The heat canvas holds colour (Grad-CAM is not all zero on a drawn digit).
    let coloured = browser.eval("(() => { const d = document.getElementById('heat').getContext('2d').getImageData(0, 0, 28, 28).data; let n = 0; for (let k = 0; k < d.length; k += 4) if (d[k] !== d[k + 1] || d[k + 1] !== d[k + 2]) n++; return n; })()");
    assert!(coloured.as_u64().unwrap() > 0, "the Grad-CAM overlay is not drawn");
    // Hover pixel (row 0, column 0) of the first map of the first row: its receptive field is outlined.
    let first = spatial[0];
    let (rf, start) = (first["rf"].as_f64().unwrap(), first["start"].as_f64().unwrap());
    let (x, y) = {
        let r = browser.eval("(() => { const r = document.querySelector('#maps canvas.map').getBoundingClientRect(); return [r.left + 1, r.top + 1]; })()");
        (r[0].as_f64().unwrap(), r[1].as_f64().unwrap())
    };
    browser.mouse("mouseMoved", x, y);
    browser.wait_for("document.body.dataset.rf");
    let half = (rf - 1.0) / 2.0;
    let lo = (start - half).round().clamp(0.0, 28.0) as i64;
    let hi = ((start + half).round() + 1.0).clamp(0.0, 28.0) as i64;
    assert_eq!(
        browser.eval("document.body.dataset.rf"),
        Value::from(format!("{lo},{lo},{hi},{hi}"))
    );
}

/// An uploaded image is drawn on the pad and answered; a file that is not an image leaves no answer
/// behind its error.
fn uploads(browser: &mut cdp::Browser) {
    let dir = tempfile::tempdir().unwrap();
    let mnist = nnlab_mnist::Mnist::load(&mnist_dir()).unwrap();
    let digit: Vec<u8> = mnist.test.image(0).iter().map(|&p| 255 - p).collect(); // dark ink on white
    let png = dir.path().join("seven.png");
    image::GrayImage::from_raw(28, 28, digit).unwrap().save(&png).unwrap();
    let not_image = dir.path().join("notes.png");
    std::fs::write(&not_image, "not a picture").unwrap();
    let upload = |browser: &mut cdp::Browser, file: &Path| {
        let doc = browser.page("DOM.getDocument", serde_json::json!({}));
        let node = browser.page(
            "DOM.querySelector",
            serde_json::json!({ "nodeId": doc["root"]["nodeId"], "selector": "#upload" }),
        );
        browser.page(
            "DOM.setFileInputFiles",
            serde_json::json!({ "nodeId": node["nodeId"], "files": [file.display().to_string()] }),
        );
    };
    browser.click("#clear");
    upload(browser, &png);
    browser.wait_for("document.getElementById('digit').dataset.digit !== '' && document.body.dataset.busy === 'false'");
    assert_eq!(browser.eval("document.getElementById('digit').dataset.digit"), "7");
    // The pad shows the upload (white paper: its corner is no longer black).
    let corner = browser.eval(
        "Array.from(document.getElementById('pad').getContext('2d').getImageData(140, 5, 1, 1).data.slice(0, 3))",
    );
    assert_ne!(
        corner,
        serde_json::json!([0, 0, 0]),
        "the uploaded image is not on the pad"
    );
    upload(browser, &not_image);
    browser.wait_for("document.getElementById('error').textContent.includes('notes.png')");
    assert_eq!(browser.eval("document.getElementById('digit').dataset.digit"), "");
    assert_eq!(browser.eval("document.getElementById('bars').children.length"), 0);
}

/// The designer: an error on line 3 is marked at line 3; a valid model shows the CLI's parameter count;
/// Train starts a run that appears on the runs page, where Stop stops it cleanly with its checkpoint.
#[test]
fn the_designer_summarises_marks_errors_and_trains() {
    let (_tmp, runs) = runs_with_tiny();
    let data = mnist_dir();
    let server = Server::start(&runs, &["--data-dir", data.to_str().unwrap()]);
    let mut browser = cdp::Browser::launch(1400, 1000);
    browser.open(
        &format!("{}/design", server.url),
        "Number(document.body.dataset.summaries) >= 1",
    );
    let set_text = |browser: &mut cdp::Browser, text: &str| {
        browser.eval(&format!(
            "(() => {{ const t = document.getElementById('text'); t.value = {text:?}; t.dispatchEvent(new Event('input')); }})()"
        ));
    };
    set_text(
        &mut browser,
        "input 1x28x28\nc1 = Conv2d(1, 8, 3)\nc2 = Conv2d(8, 16, 3\nfc = Linear(16, 10)\n",
    );
    browser.wait_for("document.getElementById('model-error').dataset.line === '3'");
    assert_eq!(browser.eval("document.querySelector('#gutter .bad').textContent"), "3");
    assert_eq!(browser.eval("document.getElementById('train').disabled"), true);
    let model = "input 1x28x28\nc1 = Sequential(Conv2d(1, 8, 3, bias=False), ReLU(), BatchNorm2d(8))\npool = MaxPool2d(2, 2)\nc2 = Sequential(Conv2d(8, 12, 3, bias=False), ReLU(), BatchNorm2d(12))\ngap = AdaptiveAvgPool2d(1)\nfc = Linear(12, 10)\n";
    let asked = browser
        .eval("Number(document.body.dataset.summaries)")
        .as_u64()
        .unwrap();
    set_text(&mut browser, model);
    browser.wait_for(&format!(
        "Number(document.body.dataset.summaries) > {asked} && document.getElementById('model-error').dataset.line === ''"
    ));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), model).unwrap();
    let cli = common::json_stdout(nnlab().args(["mnist", "summary", "--json", "--model"]).arg(file.path()));
    assert_eq!(
        browser.eval("Number(document.getElementById('total-params').dataset.value)"),
        cli["params"]
    );
    screenshot(&mut browser, "serve-design.png");
    // A bad field is refused before any request.
    browser.type_into("#epochs", "1.5");
    browser.click("#train");
    assert!(
        browser
            .eval("document.getElementById('epochs').classList.contains('bad')")
            .as_bool()
            .unwrap()
    );
    // Train: many epochs on 20,000 images, so it is surely still training when stopped.
    browser.type_into("#epochs", "40");
    browser.type_into("#train-limit", "20000");
    browser.type_into("#test-limit", "1000");
    browser.click("#train");
    browser.wait_for("document.getElementById('run-link')");
    let name = browser
        .eval("document.getElementById('run-link').textContent")
        .as_str()
        .unwrap()
        .to_string();
    // A second training is refused while this one runs, naming it.
    let (status, body) = post_json(
        &format!("{}/api/runs", server.url),
        serde_json::json!({ "model_text": model, "epochs": 1 }),
    );
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains(&name), "{body}");
    browser.open(
        &format!("{}/runs#{name}", server.url),
        &format!("document.querySelector('tr[data-run=\"{name}\"]') && document.getElementById('stop-run')"),
    );
    let run = runs.join(&name);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !run.join("last.safetensors").is_file() {
        assert!(std::time::Instant::now() < deadline, "no epoch finished in 60 s");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    browser.wait_for("document.getElementById('stop-run')");
    browser.click("#stop-run");
    browser.wait_for("document.getElementById('detail-status').textContent === 'interrupted'");
    let metrics: Value = serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    assert!(!metrics["epochs"].as_array().unwrap().is_empty());
    assert_eq!(metrics["stopped"]["reason"], "interrupted");
    assert!(run.join("last.safetensors").is_file());
    // The slot is free again: another training may start.
    let (status, body) = post_json(&format!("{}/api/runs/{name}/stop", server.url), serde_json::json!({}));
    assert_eq!(status, 409, "{body}");
}

/// POST with a JSON body: (status, JSON answer), 4xx included.
fn post_json(url: &str, body: Value) -> (u16, Value) {
    let mut r = ureq::post(url)
        .config()
        .http_status_as_error(false)
        .build()
        .send_json(body)
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_json().unwrap_or(Value::Null))
}

/// The playground validates before any request: a bad field or N moves nothing and is named; N is a
/// whole number within the limit; typing is debounced; 50,000 iterations draw.
#[test]
fn the_playground_validates_before_it_sends() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path(), &[]);
    let mut browser = cdp::Browser::launch(1400, 1000);
    browser.open(
        &format!("{}/playground", server.url),
        "document.body.dataset.busy === 'false'",
    );
    browser.eval(FAILED_REQUESTS);
    let iteration = |b: &mut cdp::Browser| b.eval("document.getElementById('iteration').textContent");
    let error = |b: &mut cdp::Browser| {
        b.eval("document.getElementById('error').textContent")
            .as_str()
            .unwrap()
            .to_string()
    };
    browser.type_into("#w1", "abc");
    browser.click("#step");
    browser.click("#run");
    assert_eq!(iteration(&mut browser), "1");
    assert!(error(&mut browser).starts_with("w1:"), "{}", error(&mut browser));
    assert!(
        browser
            .eval("document.getElementById('w1').classList.contains('bad')")
            .as_bool()
            .unwrap()
    );
    browser.type_into("#w1", "0.15");
    browser.click("#step");
    browser
        .wait_for("document.getElementById('iteration').textContent === '2' && document.body.dataset.busy === 'false'");
    for bad in ["1e7", "10^7", "", "-3"] {
        browser.type_into("#n", bad);
        browser.click("#run");
        assert_eq!(iteration(&mut browser), "2", "N = {bad}");
        assert!(
            error(&mut browser).starts_with("N:"),
            "N = {bad}: {}",
            error(&mut browser)
        );
    }
    browser.type_into("#n", "10000000");
    browser.click("#run");
    assert!(error(&mut browser).contains("limit"), "{}", error(&mut browser));
    browser.click("#step");
    browser
        .wait_for("document.getElementById('iteration').textContent === '3' && document.body.dataset.busy === 'false'");
    browser.type_into("#n", "50000");
    browser.click("#run");
    browser.wait_for(
        "document.getElementById('iteration').textContent === '50003' && document.body.dataset.busy === 'false'",
    );
    assert_eq!(error(&mut browser), "");
    // Typing "-0.3" a character at a time sends one request, after the pause, and no half-typed value.
    let before = browser.eval("window.nnRequests").as_u64().unwrap();
    browser.eval("(() => { const e = document.getElementById('w2'); e.focus(); e.select(); })()");
    for ch in ["-", "0", ".", "3"] {
        browser.page("Input.insertText", serde_json::json!({ "text": ch }));
    }
    std::thread::sleep(std::time::Duration::from_millis(1200));
    browser.wait_for("document.body.dataset.busy === 'false'");
    assert_eq!(browser.eval("window.nnRequests").as_u64().unwrap(), before + 1);
    assert_eq!(browser.eval("window.failedRequests"), Value::from(0));
}

/// The runs page: the newest good run is shown (not the alphabetically first, broken one) and it alone
/// is ticked; a damaged metrics.json says so; axes read whole epochs and %; the run is in the URL; a
/// link to a run elsewhere is named, not silently skipped; the page never scrolls sideways.
#[test]
fn the_runs_page_shows_the_right_run_and_says_what_it_skips() {
    let (tmp, runs) = runs_with_tiny();
    let broken = runs.join("aaa-broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::copy(runs.join("tiny/config.json"), broken.join("config.json")).unwrap();
    std::fs::write(broken.join("metrics.json"), "{\"epochs\": [").unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("run")).unwrap();
    std::fs::copy(runs.join("tiny/config.json"), elsewhere.join("run/config.json")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("run"), runs.join("linked")).unwrap();
    let server = Server::start(&runs, &[]);
    let mut browser = cdp::Browser::launch(1400, 1000);
    browser.open(
        &format!("{}/runs", server.url),
        "document.getElementById('final-accuracy')",
    );
    assert_eq!(browser.eval("location.hash"), "");
    assert!(
        browser
            .eval("document.getElementById('detail').textContent")
            .as_str()
            .unwrap()
            .starts_with("tiny")
    );
    assert_eq!(
        browser.eval("document.querySelectorAll('#runs input:checked').length"),
        1
    );
    browser.wait_for("document.querySelectorAll('#acc-chart path').length >= 1");
    let ticks = browser.eval("[...document.querySelectorAll('#acc-chart text')].map(t => t.textContent)");
    let ticks: Vec<&str> = ticks.as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(ticks.iter().any(|t| t.ends_with(" %")), "{ticks:?}");
    assert!(
        !ticks.iter().any(|t| t.contains('.') && !t.ends_with('%')),
        "fractional epoch ticks: {ticks:?}"
    );
    assert!(
        browser
            .eval("document.getElementById('skipped').textContent")
            .as_str()
            .unwrap()
            .contains("linked")
    );
    assert_eq!(
        browser.eval("document.documentElement.scrollWidth <= window.innerWidth"),
        true
    );
    browser.click("a[data-focus=\"aaa-broken\"]");
    browser.wait_for("document.getElementById('metrics-error')");
    assert_eq!(browser.eval("location.hash"), "#aaa-broken");
    // A reload keeps the run shown.
    browser.eval("window.beforeReload = true");
    browser.page("Page.reload", serde_json::json!({}));
    browser.wait_for(
        "!window.beforeReload && document.readyState === 'complete' && document.getElementById('detail-status')",
    );
    assert!(
        browser
            .eval("document.getElementById('detail').textContent")
            .as_str()
            .unwrap()
            .starts_with("aaa-broken")
    );
}

/// Every page at phone width (390 × 844): nothing scrolls sideways, and the draw page's answer sits right
/// under the pad.
#[test]
fn every_page_fits_a_phone() {
    let (_tmp, runs) = runs_with_tiny();
    let server = Server::start(&runs, &[]);
    let mut browser = cdp::Browser::launch(390, 844);
    browser.phone(390, 844);
    let wide = "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)";
    for (path, ready) in [
        ("/", "true"),
        ("/playground", "document.body.dataset.busy === 'false'"),
        (
            "/playground/net",
            "Number(document.body.dataset.requests) >= 1 && document.body.dataset.busy === 'false'",
        ),
        ("/draw", "document.getElementById('checkpoint').options.length > 0"),
        ("/design", "Number(document.body.dataset.summaries) >= 1"),
        ("/runs", "document.getElementById('final-accuracy')"),
    ] {
        browser.open(&format!("{}{path}", server.url), ready);
        let fits = browser.eval("document.documentElement.scrollWidth <= window.innerWidth");
        assert_eq!(fits, true, "{path} scrolls sideways: {}", browser.eval(wide));
        let name = format!(
            "serve-phone-{}.png",
            if path == "/" {
                "index".into()
            } else {
                path[1..].replace('/', "-")
            }
        );
        screenshot(&mut browser, &name);
    }
    browser.open(
        &format!("{}/draw", server.url),
        "document.getElementById('checkpoint').options.length > 0",
    );
    let gap = browser.eval("document.querySelector('.answer').getBoundingClientRect().top - document.getElementById('pad').getBoundingClientRect().bottom");
    assert!(gap.as_f64().unwrap() < 300.0, "the answer is {gap} px below the pad");
}

/// The playground's second mode: a network built by clicking (spiral, a layer added, a neuron added),
/// trained with Play; the boundary picture changes and the test loss falls; the address re-opens it.
#[test]
fn any_network_is_built_by_clicking_and_trains() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path(), &[]);
    let mut browser = cdp::Browser::launch(1400, 1000);
    browser.open(
        &format!("{}/playground/net", server.url),
        "Number(document.body.dataset.requests) >= 1 && document.body.dataset.busy === 'false'",
    );
    let requests = |b: &mut cdp::Browser| b.eval("Number(document.body.dataset.requests)").as_u64().unwrap();
    let settle = |b: &mut cdp::Browser, after: u64| {
        b.wait_for(&format!(
            "Number(document.body.dataset.requests) > {after} && document.body.dataset.busy === 'false'"
        ));
    };
    let n = requests(&mut browser);
    browser.eval("(() => { const s = document.getElementById('data'); s.value = 'spiral'; s.dispatchEvent(new Event('change')); })()");
    settle(&mut browser, n);
    for feature in ["f-sinx1", "f-sinx2"] {
        let n = requests(&mut browser);
        browser.click(&format!("#{feature}"));
        settle(&mut browser, n);
    }
    let n = requests(&mut browser);
    browser.click("#add-layer");
    settle(&mut browser, n);
    let n = requests(&mut browser);
    browser.click("button[data-add=\"2\"]");
    settle(&mut browser, n);
    assert_eq!(
        browser.eval("document.getElementById('weights').textContent"),
        "33 weights · 4-4-2-3-1"
    );
    assert_eq!(
        browser.eval("document.querySelectorAll('#network canvas.neuron').length"),
        14
    );
    let picture = "(() => { const d = document.getElementById('boundary').getContext('2d').getImageData(0, 0, 50, 50).data; let h = 0; for (let k = 0; k < d.length; k++) h = (h * 31 + d[k]) >>> 0; return h; })()";
    let before = browser.eval(picture);
    let loss_before: f64 = browser
        .eval("Number(document.getElementById('test-loss').dataset.value)")
        .as_f64()
        .unwrap();
    browser.click("#play");
    browser.wait_for("Number(document.body.dataset.epoch) >= 200");
    browser.click("#play");
    browser.wait_for("document.body.dataset.busy === 'false'");
    let loss_after: f64 = browser
        .eval("Number(document.getElementById('test-loss').dataset.value)")
        .as_f64()
        .unwrap();
    assert!(loss_after < loss_before, "test loss {loss_before} → {loss_after}");
    assert_ne!(browser.eval(picture), before, "the boundary did not change");
    screenshot(&mut browser, "serve-playground-net.png");
    // The address holds the setup: the API at that query gives the page's numbers.
    let search = browser.eval("location.search").as_str().unwrap().to_string();
    assert!(
        search.contains("data=spiral") && search.contains("hidden=4%2C2%2C3"),
        "{search}"
    );
    let api: Value = ureq::get(format!("{}/api/boundary{search}", server.url))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(api["test_loss"].as_f64().unwrap(), loss_after);
    // A bad field is named and nothing is sent.
    let n = requests(&mut browser);
    browser.type_into("#noise", "80");
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(requests(&mut browser), n);
    assert!(
        browser
            .eval("document.getElementById('error').textContent")
            .as_str()
            .unwrap()
            .contains("noise")
    );
}
