//! `nnlab serve`'s JSON API with a real HTTP client against the real server on a free loopback port:
//! every endpoint, every kind of bad request, a panic, 50 concurrent predictions, and nothing reachable
//! outside the runs folder.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::{Server, json_stdout, mnist_dir, nnlab, tiny_run};
use image::GrayImage;
use nnlab_mnist::Mnist;
use predicates::prelude::*;
use serde_json::{Value, json};

/// One small trained run for the whole file: (temporary folder, runs folder, run folder).
fn fixture() -> &'static (tempfile::TempDir, PathBuf, PathBuf) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let runs = tmp.path().join("runs");
        let run = tiny_run(&runs, "tiny");
        (tmp, runs, run)
    })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// (status, JSON body) of a GET.
fn get(url: &str) -> (u16, Value) {
    let mut r = agent().get(url).call().unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_json().unwrap_or(Value::Null))
}

/// (status, JSON body) of a POST with `body` and `content_type`.
fn post(url: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
    let mut r = agent()
        .post(url)
        .header("Content-Type", content_type)
        .send(body)
        .unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_json().unwrap_or(Value::Null))
}

/// Test digit `i` as a 100×100 PNG.
fn digit_png(mnist: &Mnist, i: usize) -> Vec<u8> {
    let small = GrayImage::from_raw(28, 28, mnist.test.image(i).to_vec()).unwrap();
    let big = image::imageops::resize(&small, 100, 100, image::imageops::FilterType::Triangle);
    let mut bytes = Vec::new();
    big.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

fn assert_error(status: u16, body: &Value, expected_status: u16, field: Option<&str>, words: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert!(body["error"].as_str().unwrap().contains(words), "{body}");
    if let Some(f) = field {
        assert_eq!(body["field"], f, "{body}");
    }
}

#[test]
fn runs_are_listed_and_nothing_outside_the_runs_folder_is_reachable() {
    let (tmp, runs, run) = fixture();
    // A link inside the runs folder that leads out of it, to a folder that looks like a run.
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(run.join("config.json"), outside.join("config.json")).unwrap();
    let link = runs.join("escape");
    if !link.exists() {
        std::os::unix::fs::symlink(&outside, &link).unwrap();
    }
    let server = Server::start(runs, &[]);
    let (status, list) = get(&format!("{}/api/runs", server.url));
    assert_eq!(status, 200);
    let names: Vec<&str> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tiny"]);
    let metrics: Value = serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let last = metrics["epochs"][1].clone();
    let row = &list["runs"][0];
    assert_eq!(row["final_test_accuracy"], last["test_accuracy"]);
    assert_eq!(
        (row["status"].as_str(), row["epochs_done"].as_u64()),
        (Some("finished"), Some(2))
    );
    assert_eq!(row["params"], 18934);
    assert_eq!(row["validation"], Value::Null);

    let (status, detail) = get(&format!("{}/api/runs/tiny", server.url));
    assert_eq!(status, 200);
    assert_eq!(detail["metrics"], metrics);
    assert_eq!(detail["config"]["epochs"], 2);
    assert!(detail["model_text"].as_str().unwrap().contains("Conv2d"));
    assert_eq!(detail["progress"]["state"], "finished");

    for bad in [
        "escape",
        "..",
        "%2e%2e",
        "..%2F..%2Fetc",
        "%2Fetc",
        "nothing",
        ".hidden",
        "tiny%2F..",
        "tiny%00",
    ] {
        let (status, body) = get(&format!("{}/api/runs/{bad}", server.url));
        assert_eq!(status, 404, "{bad}: {body}");
    }
    let (status, _) = get(&format!("{}/api/predict/../../etc/passwd", server.url));
    assert_eq!(status, 404);
    let (status, body) = post(
        &format!("{}/api/predict?checkpoint=escape/best", server.url),
        "application/json",
        b"{}",
    );
    assert_error(status, &body, 404, Some("checkpoint"), "no checkpoint 'escape/best'");
}

#[test]
fn predictions_match_the_cli_and_bad_bodies_are_refused() {
    let (tmp, runs, run) = fixture();
    let server = Server::start(runs, &[]);
    let mnist = Mnist::load(&mnist_dir()).unwrap();
    let url = format!("{}/api/predict", server.url);

    let (status, list) = get(&format!("{}/api/checkpoints", server.url));
    assert_eq!(status, 200);
    assert_eq!(list["default"], "tiny/best");
    assert_eq!(list["checkpoints"].as_array().unwrap().len(), 2);

    // An image, the same answer as `nnlab mnist predict` on the same file.
    let png = digit_png(&mnist, 0);
    let file = tmp.path().join("digit0.png");
    std::fs::write(&file, &png).unwrap();
    let (status, answer) = post(&url, "image/png", &png);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["checkpoint"], "tiny/best");
    let probabilities: Vec<f64> = answer["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    assert_eq!(probabilities.len(), 10);
    assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-5);
    let cli = json_stdout(
        nnlab()
            .args(["mnist", "predict", "--json", "--checkpoint"])
            .arg(run.join("best.safetensors"))
            .arg(&file),
    );
    assert_eq!(answer["digit"], cli["digit"]);
    assert_eq!(answer["digit"], mnist.test.labels[0]);
    let top = cli["top3"][0]["probability"].as_f64().unwrap();
    assert!((probabilities[answer["digit"].as_u64().unwrap() as usize] - top).abs() < 1e-6);

    // The same 28×28 input as JSON pixels gives the same probabilities.
    let input = answer["input"].clone();
    let (status, again) = post(
        &url,
        "application/json",
        json!({ "pixels": input }).to_string().as_bytes(),
    );
    assert_eq!(status, 200);
    assert_eq!(again["probabilities"], answer["probabilities"]);
    let (status, last) = post(
        &format!("{url}?checkpoint=tiny/last"),
        "application/json",
        json!({ "pixels": input }).to_string().as_bytes(),
    );
    assert_eq!((status, last["checkpoint"].as_str()), (200, Some("tiny/last")));

    // Bad bodies: each a 4xx naming what is wrong, and the server goes on.
    let pixels = |v: Value| json!({ "pixels": v }).to_string().into_bytes();
    let cases: Vec<(Vec<u8>, &str, u16, &str, &str)> = vec![
        (Vec::new(), "image/png", 400, "body", "empty"),
        (b"{not json".to_vec(), "application/json", 400, "body", "not valid JSON"),
        (
            b"{\"pixel\": []}".to_vec(),
            "application/json",
            400,
            "pixels",
            "missing",
        ),
        (
            pixels(json!([0.5, 0.5, 0.5])),
            "application/json",
            400,
            "pixels",
            "expected 784 numbers",
        ),
        (
            pixels(json!("zeros")),
            "application/json",
            400,
            "pixels",
            "must be an array",
        ),
        (
            pixels(json!(vec![2.0; 784])),
            "application/json",
            400,
            "pixels[0]",
            "outside [0, 1]",
        ),
        (
            b"definitely not an image".to_vec(),
            "image/png",
            400,
            "image",
            "cannot read the image",
        ),
        (
            blank_png(5000, 5000),
            "image/png",
            400,
            "image",
            "refused before decoding",
        ),
    ];
    for (body, content_type, code, field, words) in cases {
        let (status, reply) = post(&url, content_type, &body);
        assert_eq!(status, code, "{field} {words}: {reply}");
        assert_error(status, &reply, 400, Some(field), words);
    }
    // A body over the limit is refused with 413 as soon as its length is known; the server may close the
    // connection before the client has sent it all (HTTP allows that), so the client sees the 413 or a
    // broken pipe / reset, never a success, and the server goes on serving.
    let oversized = agent()
        .post(&url)
        .header("Content-Type", "image/png")
        .send(&vec![0u8; 9 << 20][..]);
    match oversized {
        Ok(r) => assert_eq!(r.status().as_u16(), 413),
        Err(ureq::Error::Io(e)) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
            ),
            "{e}"
        ),
        Err(e) => panic!("oversized body: {e}"),
    }
    assert_eq!(post(&url, "image/png", &png).0, 200);
    let text = format!("{{\"pixels\": [\"x\"{}]}}", ",0".repeat(783));
    let (status, reply) = post(&url, "application/json", text.as_bytes());
    assert_error(status, &reply, 400, Some("pixels[0]"), "is not a number");
    let (status, reply) = post(&format!("{url}?checkpoint=nope"), "image/png", &png);
    assert_error(status, &reply, 404, Some("checkpoint"), "no checkpoint 'nope'");

    // A panic in a handler is a 500, and the next request is answered.
    let (status, reply) = get(&format!("{}/api/_panic", server.url));
    assert_error(status, &reply, 500, None, "internal error");
    assert_eq!(post(&url, "image/png", &png).0, 200);
}

/// A real, blank PNG of `w`×`h` pixels (small on disk: zeros compress well).
fn blank_png(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    GrayImage::new(w, h)
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    assert!(bytes.len() < 1 << 20);
    bytes
}

#[test]
fn fifty_concurrent_predictions_are_all_answered_correctly() {
    let (_, runs, _) = fixture();
    let server = Server::start(runs, &[]);
    let mnist = Mnist::load(&mnist_dir()).unwrap();
    let url = format!("{}/api/predict", server.url);
    let pngs: Vec<Vec<u8>> = (0..10).map(|i| digit_png(&mnist, i)).collect();
    let expected: Vec<Value> = pngs
        .iter()
        .map(|p| post(&url, "image/png", p).1["digit"].clone())
        .collect();
    let answers: Vec<(usize, u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|k| {
                let (url, png) = (&url, &pngs[k % 10]);
                s.spawn(move || {
                    let (status, body) = post(url, "image/png", png);
                    (k, status, body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(answers.len(), 50);
    for (k, status, body) in answers {
        assert_eq!(status, 200, "request {k}: {body}");
        assert_eq!(body["digit"], expected[k % 10], "request {k}");
    }
}

/// Slow work runs off the async threads: with more 100,000-iteration table requests in flight than the
/// server has async worker threads (tokio starts one per core), 20 predictions are still all answered
/// before the first table is done. Were the tables computed on the workers, the predictions would wait
/// for them.
#[test]
fn a_slow_table_request_does_not_stall_predictions() {
    let (_, runs, _) = fixture();
    let server = Server::start(runs, &[]);
    let mnist = Mnist::load(&mnist_dir()).unwrap();
    let png = digit_png(&mnist, 0);
    let predict = format!("{}/api/predict", server.url);
    assert_eq!(
        post(&predict, "image/png", &png).0,
        200,
        "the model is loaded before timing"
    );
    let tables = 2 * std::thread::available_parallelism().map_or(2, usize::from);
    let table = format!("{}/api/backprop?iterations=100000", server.url);
    let start = std::time::Instant::now();
    let (table_done, predictions_done) = std::thread::scope(|s| {
        let in_flight: Vec<_> = (0..tables)
            .map(|_| {
                s.spawn(|| {
                    // About 30 MB of JSON: above ureq's default read limit of 10 MB.
                    let mut response = agent().get(&table).call().unwrap();
                    // The server answers once the whole table is computed and serialised.
                    let answered = start.elapsed();
                    assert_eq!(response.status().as_u16(), 200);
                    let body: Value = response.body_mut().with_config().limit(1 << 28).read_json().unwrap();
                    assert_eq!(body["rows"].as_array().unwrap().len(), 100_000);
                    answered
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let answered: Vec<_> = (0..20)
            .map(|_| {
                s.spawn(|| {
                    let (status, body) = post(&predict, "image/png", &png);
                    assert_eq!(status, 200, "{body}");
                    start.elapsed()
                })
            })
            .collect();
        let predictions = answered.into_iter().map(|h| h.join().unwrap()).max().unwrap();
        let first_table = in_flight.into_iter().map(|h| h.join().unwrap()).min().unwrap();
        (first_table, predictions)
    });
    eprintln!("20 predictions answered by {predictions_done:?}, the first table at {table_done:?}");
    assert!(
        predictions_done < table_done,
        "20 predictions took until {predictions_done:?}, the first of {tables} tables was done at {table_done:?}"
    );
}

/// A search folder under the runs folder is listed with its state, counts, best and leaderboard.
#[test]
fn searches_are_listed_with_their_leaderboard() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    let space = tmp.path().join("two.space");
    std::fs::write(
        &space,
        "input 1x28x28\nc = choice(4, 8)\nb = Sequential(Conv2d(1, c, 3, bias=False), ReLU(), BatchNorm2d(c))\ngap = AdaptiveAvgPool2d(1)\nfc = Linear(c, 10)\n",
    )
    .unwrap();
    nnlab()
        .args(["mnist", "search", "--space"])
        .arg(&space)
        .args([
            "--brief",
            "acc>=90,params<1000,epochs<=1",
            "--recipe",
            "small8k",
            "--seeds",
            "1",
        ])
        .args([
            "--train-limit",
            "300",
            "--test-limit",
            "100",
            "--validation",
            "500",
            "--out",
        ])
        .arg(runs.join("tiny-search"))
        .assert()
        .success();
    let server = Server::start(&runs, &[]);
    let (status, body) = get(&format!("{}/api/searches", server.url));
    assert_eq!(status, 200);
    let searches = body["searches"].as_array().unwrap();
    assert_eq!(searches.len(), 1, "{body}");
    let s = &searches[0];
    assert_eq!(
        (s["name"].as_str(), s["state"].as_str()),
        (Some("tiny-search"), Some("finished"))
    );
    assert_eq!(s["counts"]["trials"], 2);
    assert_eq!(s["leaderboard"].as_array().unwrap().len(), 2);
    assert_eq!(s["leaderboard"][0]["id"], s["best"]["id"]);
    // The search folder is not a run; its runs are listed with --runs pointing into it.
    let (_, list) = get(&format!("{}/api/runs", server.url));
    assert_eq!(list["runs"].as_array().unwrap().len(), 0);
}

/// `nnlab backprop table --format csv` with `args`.
fn cli_csv(args: &[&str]) -> String {
    let out = nnlab()
        .args(["backprop", "table", "--format", "csv"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_backprop_api_is_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path(), &[]);
    let q = "lr=0.5&iterations=12&weights=0.3,0.2,0.25,0.3,0.4,0.45,0.5,0.55&biases=0.35,0.6&learn_biases=true";
    let cli = cli_csv(&[
        "--lr",
        "0.5",
        "--iterations",
        "12",
        "--weights",
        "0.3,0.2,0.25,0.3,0.4,0.45,0.5,0.55",
        "--biases",
        "0.35,0.6",
        "--learn-biases",
    ]);
    let mut csv = agent()
        .get(format!("{}/api/backprop.csv?{q}", server.url))
        .call()
        .unwrap();
    assert_eq!(csv.status().as_u16(), 200);
    assert_eq!(csv.body_mut().read_to_string().unwrap(), cli);

    let (status, table) = get(&format!("{}/api/backprop?{q}", server.url));
    assert_eq!(status, 200);
    let header: Vec<&str> = cli.lines().next().unwrap().split(',').collect();
    assert_eq!(table["columns"], json!(header));
    for (line, row) in cli.lines().skip(1).zip(table["rows"].as_array().unwrap()) {
        let values: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        let from_api: Vec<f64> = row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(from_api, values);
    }
    assert_eq!(table["biases"], "learned");

    let (status, sweep) = get(&format!("{}/api/backprop/sweep?lrs=0.5,2&iterations=5", server.url));
    assert_eq!(status, 200);
    let cli_sweep = nnlab()
        .args(["backprop", "sweep", "--lrs", "0.5,2", "--iterations", "5"])
        .output()
        .unwrap();
    let text = String::from_utf8(cli_sweep.stdout).unwrap();
    for (i, line) in text.lines().skip(1).enumerate() {
        let values: Vec<f64> = line.split(',').skip(1).map(|x| x.parse().unwrap()).collect();
        assert_eq!(
            values,
            [
                sweep["curves"][0][i].as_f64().unwrap(),
                sweep["curves"][1][i].as_f64().unwrap()
            ]
        );
    }

    // The workbook download is the exporter's, and passes the auditor.
    let mut xlsx = agent()
        .get(format!("{}/api/backprop.xlsx?{q}", server.url))
        .call()
        .unwrap();
    assert_eq!(xlsx.status().as_u16(), 200);
    let bytes = xlsx.body_mut().with_config().limit(50 << 20).read_to_vec().unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let book = tmp.path().join("download.xlsx");
    std::fs::write(&book, bytes).unwrap();
    nnlab().args(["backprop", "audit"]).arg(&book).assert().success();

    for (query, field, words) in [
        ("lr=0", "lr", "not a finite number > 0"),
        ("lr=abc", "lr", "not a finite number > 0"),
        ("iterations=0", "iterations", "from 1 to 100000"),
        ("iterations=100001", "iterations", "from 1 to 100000"),
        ("weights=1,2", "weights", "expected 8 comma-separated numbers, got 2"),
        ("inputs=0.1,x", "inputs", "'x' is not a number"),
        ("biases=1,2,3", "biases", "expected 2"),
        ("learn_biases=maybe", "learn_biases", "use true or false"),
        ("lrs=1,-1", "lrs", "each > 0"),
        ("colour=blue", "colour", "unknown parameter"),
    ] {
        let (status, body) = get(&format!("{}/api/backprop?{query}", server.url));
        assert_error(status, &body, 400, Some(field), words);
    }
    let (status, body) = get(&format!("{}/api/backprop.xlsx?iterations=20000", server.url));
    assert_error(status, &body, 400, Some("iterations"), "at most 10000");
}

#[test]
fn pages_and_assets_are_served_and_unknown_paths_are_404() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path(), &[]);
    for (path, needle) in [
        ("/", "<title>nnlab</title>"),
        ("/playground", "playground.js"),
        ("/draw", "<title>Draw a digit · nnlab</title>"),
        ("/runs", "runs.js"),
        ("/design", "<title>Model designer · nnlab</title>"),
        ("/assets/design.js", "/api/summary"),
        ("/assets/inspect.js", "/api/inspect"),
        ("/assets/chart.js", "nnChart"),
        ("/assets/app.css", "--accent"),
    ] {
        let mut r = agent().get(format!("{}{path}", server.url)).call().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let text = r.body_mut().read_to_string().unwrap();
        assert!(text.contains(needle), "{path}");
        // Every page carries its icon inline, so no browser asks for a /favicon.ico that is not there.
        if !path.starts_with("/assets") {
            assert!(text.contains(r#"<link rel="icon" href="data:image/svg+xml,"#), "{path}");
        }
    }
    for path in ["/nothing", "/assets/../Cargo.toml", "/assets/secret.js"] {
        assert_eq!(get(&format!("{}{path}", server.url)).0, 404, "{path}");
    }
    // No runs and no checkpoint: predicting says how to get one.
    let (status, body) = post(&format!("{}/api/predict", server.url), "image/png", b"x");
    assert_error(status, &body, 404, None, "no checkpoint to predict with");
    let (status, list) = get(&format!("{}/api/runs", server.url));
    assert_eq!((status, list["runs"].as_array().unwrap().len()), (200, 0));
}

#[test]
fn the_server_refuses_bad_flags_and_warns_off_loopback() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    nnlab()
        .args(["serve", "--runs"])
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--runs").and(predicates::str::contains("no such folder")));
    nnlab()
        .args(["serve", "--checkpoint", "nope.safetensors", "--runs"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--checkpoint nope.safetensors: no such file"));
    nnlab()
        .args(["serve", "--addr", "not-an-address"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--addr"));
}

#[test]
fn a_run_in_training_shows_its_progress_and_grows_epoch_by_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    let server = Server::start(&runs, &[]);
    let mut training = std::process::Command::new(assert_cmd::cargo::cargo_bin("nnlab"))
        .env("MNIST_DIR", mnist_dir())
        .args([
            "mnist",
            "train",
            "--recipe",
            "seed",
            "--seed",
            "3",
            "--epochs",
            "2",
            "--batch-size",
            "64",
        ])
        .args(["--train-limit", "10000", "--test-limit", "500", "--out"])
        .arg(runs.join("live"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("{}/api/runs/live", server.url);
    let (mut saw_progress, mut saw_epoch_one_while_training) = (false, false);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let last = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not finish in 5 minutes"
        );
        let (status, run) = get(&url);
        if status == 200 {
            if run["status"] == "training" && run["progress"]["batch"].as_u64().unwrap_or(0) > 0 {
                saw_progress = true;
                assert_eq!(run["progress"]["batches"], 157);
                saw_epoch_one_while_training |= run["epochs_done"] == 1;
            }
            if run["status"] == "finished" {
                break run;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(training.wait().unwrap().success());
    assert!(saw_progress, "never saw the run's progress while it trained");
    assert!(
        saw_epoch_one_while_training,
        "never saw epoch 1 finished while epoch 2 trained"
    );
    assert_eq!(last["epochs_done"], 2);
    assert_eq!(last["progress"]["state"], "finished");
}

#[test]
fn inspect_answers_the_cli_numbers_and_refuses_bad_requests() {
    let (_, runs, run) = fixture();
    let server = Server::start(runs, &[]);
    let mnist = Mnist::load(&mnist_dir()).unwrap();
    let png = digit_png(&mnist, 0);
    let (status, doc) = post(
        &format!("{}/api/inspect?checkpoint=tiny/best", server.url),
        "image/png",
        &png,
    );
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["checkpoint"], "tiny/best");
    assert_eq!(doc["digit"], 7);
    // The same numbers as the CLI on the same image file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seven.png");
    std::fs::write(&file, &png).unwrap();
    let cli = json_stdout(
        nnlab()
            .args(["mnist", "inspect", "--checkpoint"])
            .arg(run.join("best.safetensors"))
            .arg(&file)
            .args(["--json", "--out"])
            .arg(dir.path().join("out")),
    );
    for key in ["probabilities", "saliency", "gradcam", "gradcam_layer", "input"] {
        assert_eq!(doc[key], cli[key], "{key}");
    }
    let layers = doc["layers"].as_array().unwrap();
    for (l, c) in layers.iter().zip(cli["layers"].as_array().unwrap()) {
        assert_eq!((&l["name"], &l["shape"], &l["rf"]), (&c["name"], &c["shape"], &c["rf"]));
        let [ch, h, w] = [0, 1, 2].map(|k| l["shape"][k].as_u64().unwrap() as usize);
        if h * w > 1 {
            assert_eq!(l["values"].as_array().unwrap().len(), ch * h * w, "{}", l["name"]);
        }
    }
    assert_eq!(
        doc["filters"]["shape"],
        json!([12, 1, 3, 3]),
        "the seed model's first convolution: 12 filters 3×3"
    );
    // JSON pixels give the same document as the prepared image.
    let (status, again) = post(
        &format!("{}/api/inspect", server.url),
        "application/json",
        json!({ "pixels": doc["input"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().clone()).collect::<Vec<_>>() }).to_string().as_bytes(),
    );
    assert_eq!(status, 200);
    assert_eq!(again["gradcam"], doc["gradcam"]);
    for (query, body, field, words) in [
        ("", &b""[..], "body", "empty"),
        ("", &b"{\"pixels\": [1, 2]}"[..], "pixels", "784"),
        ("?gradcam_layer=fc", &png[..], "gradcam_layer", "not a spatial map"),
        ("?gradcam_layer=nope", &png[..], "gradcam_layer", "no such statement"),
    ] {
        let (status, body) = post(&format!("{}/api/inspect{query}", server.url), "image/png", body);
        assert_error(status, &body, 400, Some(field), words);
    }
}

#[test]
fn summary_is_the_cli_summary_or_the_line_at_fault() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path(), &[]);
    let text = include_str!("../../nnlab-model/models/small8k.model");
    let body = json!({ "text": text, "brief": "8k" }).to_string();
    let (status, doc) = post(
        &format!("{}/api/summary", server.url),
        "application/json",
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{doc}");
    let cli = json_stdout(nnlab().args(["mnist", "summary", "--model", "small8k", "--json"]));
    assert_eq!(doc["params"], cli["params"]);
    assert_eq!(doc["layers"], cli["layers"]);
    let clauses = doc["brief"]["clauses"].as_array().unwrap();
    assert!(
        clauses
            .iter()
            .any(|c| c["clause"].as_str().unwrap().starts_with("parameters") && c["ok"] == true)
    );
    // Plain text works too; an error names its line.
    let bad = "input 1x28x28\nc1 = Conv2d(1, 8, 3)\nc2 = Conv2d(8, 16, 3\n";
    let (status, err) = post(&format!("{}/api/summary", server.url), "text/plain", bad.as_bytes());
    assert_eq!((status, &err["line"]), (400, &json!(3)), "{err}");
    let wide = "input 1x28x28\nc1 = Conv2d(1, 8, 3)\nc2 = Conv2d(9, 16, 3)\n";
    let (status, err) = post(&format!("{}/api/summary", server.url), "text/plain", wide.as_bytes());
    assert_eq!((status, &err["line"]), (400, &json!(3)), "{err}");
    let body = json!({ "text": text, "brief": "acc>>1" }).to_string();
    let (status, err) = post(
        &format!("{}/api/summary", server.url),
        "application/json",
        body.as_bytes(),
    );
    assert_error(status, &err, 400, Some("brief"), "acc>>1");
    let (status, models) = get(&format!("{}/api/models", server.url));
    assert_eq!(status, 200);
    assert!(
        models["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "small8k" && m["text"] == text)
    );
    assert!(models["recipes"].as_array().unwrap().contains(&json!("small8k")));
}

#[test]
fn training_over_http_is_checked_and_only_on_loopback_or_when_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let url = |s: &Server| format!("{}/api/runs", s.url);
    let loopback = Server::start(tmp.path(), &[]);
    for (body, words) in [
        (
            json!({ "model_text": "input 1x28x28\nc = Conv2d(1, 8, 3\n" }),
            "model:2",
        ),
        (
            json!({ "model_text": "input 1x28x28\nfc = Linear(784, 10)\n", "recipe": "nope" }),
            "--recipe nope",
        ),
        (
            json!({ "model_text": "input 1x28x28\nfc = Linear(784, 10)\n", "epochs": 0 }),
            "epochs",
        ),
    ] {
        let (status, err) = post(&url(&loopback), "application/json", body.to_string().as_bytes());
        assert_eq!(status, 400, "{body}: {err}");
        assert!(err["error"].as_str().unwrap().contains(words), "{body}: {err}");
    }
    let (status, _) = post(&url(&loopback), "application/json", b"{\"model\": 1}");
    assert_eq!(status, 422, "unknown fields are refused");
    let (status, err) = post(
        &format!("{}/api/runs/nope/stop", loopback.url),
        "application/json",
        b"{}",
    );
    assert_eq!(status, 404, "{err}");
    // Off loopback, training is refused unless --allow-train.
    let open = Server::start_at("0.0.0.0:0", tmp.path(), &[]);
    let body = json!({ "model_text": "input 1x28x28\nfc = Linear(784, 10)\n" }).to_string();
    let (status, err) = post(&url(&open), "application/json", body.as_bytes());
    assert_error(status, &err, 403, None, "--allow-train");
    let allowed = Server::start_at("0.0.0.0:0", tmp.path(), &["--allow-train"]);
    let bad = json!({ "model_text": "nope" }).to_string();
    let (status, _) = post(&url(&allowed), "application/json", bad.as_bytes());
    assert_eq!(status, 400, "allowed: the request itself is judged");
}
