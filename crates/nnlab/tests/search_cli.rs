//! `nnlab mnist search` run as a user runs it, on the real MNIST files cut small: successive halving's
//! promotions, the parameter prefilter, a rung that is a prefix of the full run, the outputs, resuming
//! after a kill without re-running finished work, and bad space files named by line.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{epoch_records, mnist_dir, nnlab};
use serde_json::Value;

/// Eight points: two widths of each block and two learning rates.
const SPACE: &str = "\
# a tiny space for the tests
input 1x28x28
c1 = choice(4, 8)
c2 = choice(8, 12)
block1 = Sequential(Conv2d(1, c1, 3, bias=False), ReLU(), BatchNorm2d(c1))
pool = MaxPool2d(2, 2)
block2 = Sequential(Conv2d(c1, c2, 3, bias=False), ReLU(), BatchNorm2d(c2))
gap = AdaptiveAvgPool2d(1)
fc = Linear(c2, 10)
recipe.optimizer.lr = choice(0.05, 0.1)
";

const BRIEF: &str = "acc>=90,params<2000,epochs<=3,last=2";

/// The flags that keep a test search small: 1,000 training images, 300 of the 500 held out.
const SMALL: [&str; 10] = [
    "--train-limit",
    "1000",
    "--test-limit",
    "300",
    "--validation",
    "500",
    "--recipe",
    "small8k",
    "--threads",
    "1",
];

fn search_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("search.json")).unwrap()).unwrap()
}

fn write_space(dir: &Path) -> PathBuf {
    let space = dir.join("tiny.space");
    std::fs::write(&space, SPACE).unwrap();
    space
}

/// `nnlab mnist search` of the space file in `tmp` with `args` and the small flags, into `tmp/NAME`: the
/// command (to assert on) and the search folder.
fn search(tmp: &Path, name: &str, args: &[&str]) -> (assert_cmd::Command, PathBuf) {
    let space = write_space(tmp);
    let out = tmp.join(name);
    let mut cmd = nnlab();
    cmd.args(["mnist", "search", "--space"])
        .arg(&space)
        .args(args)
        .args(SMALL)
        .arg("--out")
        .arg(&out);
    (cmd, out)
}

/// Ranks (metric, params, id) best first, as the search does.
fn best_first(mut v: Vec<(f64, u64, String)>) -> Vec<String> {
    v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    v.into_iter().map(|t| t.2).collect()
}

#[test]
fn a_search_halves_promotes_and_writes_a_model_and_recipe_that_train() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "--brief",
        BRIEF,
        "--eta",
        "2",
        "--seeds",
        "2",
        "--test-seeds",
        "1",
        "--workers",
        "2",
    ];
    let (mut cmd, out) = search(tmp.path(), "search", &args);
    let assert = cmd.assert().success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("8 points enumerated, 8 within the brief"), "{stdout}");
    assert!(
        stdout.contains("rung 1: 8 trial(s) to epoch 2") && stdout.contains("rung 2: 4 trial(s) to epoch 3"),
        "{stdout}"
    );
    let record = search_json(&out);
    assert_eq!(record["rung_epochs"], serde_json::json!([2, 3]));
    assert_eq!(record["state"], "finished");
    let trials = record["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 8);
    // Rung 1: every trial's metric is its run's validation accuracy at epoch 2; the best half goes on.
    let rung1: Vec<(f64, u64, String)> = trials
        .iter()
        .map(|t| {
            (
                t["rungs"][0]["metric"].as_f64().unwrap(),
                t["params"].as_u64().unwrap(),
                t["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for t in trials {
        let (records, _) = epoch_records(&out.join(t["run_dir"].as_str().unwrap()));
        let at2 = records[1]["test_accuracy"].as_f64().unwrap() * 100.0;
        assert!((t["rungs"][0]["metric"].as_f64().unwrap() - at2).abs() < 1e-6);
    }
    let promoted: Vec<String> = best_first(rung1)[..4].to_vec();
    for t in trials {
        let id = t["id"].as_str().unwrap().to_string();
        let expected = if promoted.contains(&id) { "done" } else { "pruned" };
        assert_eq!(t["status"], expected, "{id}");
        assert_eq!(
            t["rungs"].as_array().unwrap().len(),
            if expected == "done" { 2 } else { 1 }
        );
    }
    // The last rung: the mean over both seeds of the worst of the last two epochs; the best of it wins.
    let finals: Vec<(f64, u64, String)> = trials
        .iter()
        .filter(|t| t["status"] == "done")
        .map(|t| {
            let seeds = t["seeds"].as_array().unwrap();
            assert_eq!(seeds.len(), 2);
            let mean = seeds.iter().map(|s| s["worst_last"].as_f64().unwrap()).sum::<f64>() / 2.0;
            assert!((t["rungs"][1]["metric"].as_f64().unwrap() - mean).abs() < 1e-6);
            (
                t["rungs"][1]["metric"].as_f64().unwrap(),
                t["params"].as_u64().unwrap(),
                t["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let best = &best_first(finals)[0];
    assert_eq!(record["best"]["id"], best.as_str());
    // A promoted trial continued its own run: its three epochs are those of one uninterrupted run.
    let fresh = tmp.path().join("fresh");
    let model = out.join(format!("trials/{best}.model"));
    let lr = trials.iter().find(|t| t["id"] == best.as_str()).unwrap()["choices"]["recipe.optimizer.lr"]
        .as_str()
        .unwrap()
        .to_string();
    nnlab()
        .args(["mnist", "train", "--model"])
        .arg(&model)
        .args(["--epochs", "3", "--seed", "1", "--lr", &lr, "--brief", BRIEF])
        .args(SMALL)
        .arg("--out")
        .arg(&fresh)
        .assert()
        .success();
    assert_eq!(
        epoch_records(&fresh).0,
        epoch_records(&out.join(format!("runs/{best}"))).0
    );
    // The test run, and best.toml + best.model as `train` takes them.
    assert_eq!(record["test"].as_array().unwrap().len(), 1);
    assert_eq!(record["test"][0]["last"].as_array().unwrap().len(), 2);
    let again = tmp.path().join("again");
    nnlab()
        .args(["mnist", "train", "--recipe"])
        .arg(out.join("best.toml"))
        .args(["--epochs", "1", "--train-limit", "500", "--test-limit", "100", "--out"])
        .arg(&again)
        .assert()
        .success();
    assert_eq!(epoch_records(&again).1, record["best"]["params"]);
    let leaderboard = std::fs::read_to_string(out.join("leaderboard.md")).unwrap();
    assert_eq!(
        leaderboard
            .lines()
            .filter(|l| l.starts_with("| ") && l.contains(" t00"))
            .count(),
        8
    );
    assert!(std::fs::read(out.join("pareto.png")).unwrap().starts_with(b"\x89PNG"));
}

/// `--rank worst` scores a trial at the last rung by its unluckiest seed, records it, and is kept on resume.
#[test]
fn rank_worst_scores_the_last_rung_by_the_worst_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut cmd, out) = search(
        tmp.path(),
        "worst",
        &[
            "--brief", BRIEF, "--eta", "4", "--seeds", "2", "--rank", "worst", "--trials", "4",
        ],
    );
    let assert = cmd.assert().success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("worst worst-of-last validation accuracy"), "{stdout}");
    let record = search_json(&out);
    assert_eq!(record["options"]["rank"], "worst");
    let mut finals = 0;
    for t in record["trials"].as_array().unwrap() {
        let seeds: Vec<f64> = t["seeds"].as_array().map_or(Vec::new(), |s| {
            s.iter().map(|x| x["worst_last"].as_f64().unwrap()).collect()
        });
        if seeds.len() == 2 {
            finals += 1;
            let last = t["rungs"].as_array().unwrap().last().unwrap()["metric"]
                .as_f64()
                .unwrap();
            assert_eq!(last, seeds[0].min(seeds[1]), "{t}");
        }
    }
    assert!(finals >= 1, "no trial reached the last rung");
    // The recorded rank is the search's: --resume refuses another.
    nnlab()
        .args(["mnist", "search", "--rank", "mean", "--resume"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("leave out --rank"));
}

#[test]
fn points_over_the_briefs_budget_are_never_trained() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut cmd, out) = search(
        tmp.path(),
        "search",
        &["--brief", "acc>=90,params<500,epochs<=1", "--seeds", "1"],
    );
    let assert = cmd.assert().success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("8 points enumerated, 2 within the brief"), "{stdout}");
    let record = search_json(&out);
    let trials = record["trials"].as_array().unwrap();
    for t in trials {
        let over = t["params"].as_u64().unwrap() >= 500;
        assert_eq!(t["status"], if over { "over_budget" } else { "done" }, "{t}");
        assert_eq!(out.join(t["run_dir"].as_str().unwrap()).exists(), !over);
    }
    // Too tight a budget: one line, exit 2, nothing trained.
    let (mut cmd, none) = search(tmp.path(), "none", &["--brief", "params<100"]);
    let result = cmd.output().unwrap();
    let err = String::from_utf8(result.stderr).unwrap();
    assert_eq!((result.status.code(), err.lines().count()), (Some(2), 1), "{err}");
    assert!(err.contains("none of its 8 points is within the brief"), "{err}");
    assert!(!none.exists());
}

#[test]
fn a_killed_search_resumes_without_running_finished_work_again() {
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    let space = write_space(tmp.path());
    let out = tmp.path().join("search");
    let args: Vec<String> = [
        "mnist",
        "search",
        "--brief",
        BRIEF,
        "--eta",
        "2",
        "--seeds",
        "2",
        "--workers",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(SMALL.iter().map(|s| s.to_string()))
    .collect();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("nnlab"))
        .args(&args)
        .arg("--space")
        .arg(&space)
        .arg("--out")
        .arg(&out)
        .env("MNIST_DIR", mnist_dir())
        .stdout(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    // Kill the search and its trainings (SIGKILL: nothing is cleaned up) once three trainings have finished.
    let start = Instant::now();
    let finished_logs = |out: &Path| -> Vec<(PathBuf, std::time::SystemTime)> {
        std::fs::read_dir(out.join("logs"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("paused after epoch")))
                    .map(|e| (e.path(), e.metadata().unwrap().modified().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    };
    while finished_logs(&out).len() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the search made no progress"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the search ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the process group the search leads (its trainings are in it).
    assert_eq!(unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) }, 0);
    child.wait().unwrap();
    let before = finished_logs(&out);
    assert_ne!(search_json(&out)["state"], "finished");
    std::thread::sleep(Duration::from_millis(1100));
    nnlab()
        .args(["mnist", "search", "--resume"])
        .arg(&out)
        .assert()
        .success();
    let record = search_json(&out);
    assert_eq!(record["state"], "finished");
    for (log, modified) in &before {
        assert_eq!(
            &std::fs::metadata(log).unwrap().modified().unwrap(),
            modified,
            "{} ran again",
            log.display()
        );
    }
    let err = nnlab()
        .args(["mnist", "search", "--trials", "3", "--resume"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("leave out --trials"));
    let done = record["trials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "done")
        .count();
    assert_eq!(done, 4);
}

#[test]
fn bad_space_files_are_one_line_naming_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    for (k, (text, words)) in [
        (
            "input 1x28x28\nc = choice()\nfc = Linear(784, 10)\n",
            ":2: choice(…) needs one or more values",
        ),
        (
            "input 1x28x28\nc = choice(4, 8)\nfc = Linear(784, 10)\n",
            ":2: 'c' is a choice no statement uses",
        ),
        (
            "input 1x28x28\nc = choice(4, 8)\nx = Conv2d(1, c, 3)\nfc = Linear(c, 10)\nrecipe.optimizer.speed = 1\n",
            ":5: recipe.optimizer.speed: not a recipe key",
        ),
        (
            "input 1x28x28\nc = choice(4, 8)\nx = Conv2d(1, c, 3)\ny = Conv2d(3, c, 3)\n",
            ":4:",
        ),
        (
            "input 1x28x28\nrecipe.epochs = choice(3, 5)\nfc = Linear(784, 10)\n",
            ":2: recipe.epochs is the search's own setting",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let space = tmp.path().join(format!("bad{k}.space"));
        std::fs::write(&space, text).unwrap();
        let out = tmp.path().join(format!("out{k}"));
        let result = nnlab()
            .args(["mnist", "search", "--brief", "8k", "--space"])
            .arg(&space)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8(result.stderr).unwrap();
        assert_eq!((result.status.code(), err.lines().count()), (Some(2), 1), "{err}");
        assert!(err.contains(&format!("bad{k}.space{words}")), "{words}: {err}");
        assert!(!out.exists());
    }
}

#[test]
fn the_shipped_spaces_enumerate_as_the_docs_say() {
    let spaces = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/spaces");
    for (file, brief, counts) in [
        (
            "small8k.space",
            "8k",
            "11664 points enumerated, 10692 within the brief '8k'",
        ),
        (
            "small6k.space",
            "acc>=99.4,params<6000,epochs<=15,last=3",
            "5832 points enumerated, 3456 within the brief",
        ),
        (
            "quick.space",
            "acc>=97,params<5000,epochs<=3,last=2",
            "8 points enumerated, 4 within the brief",
        ),
    ] {
        let assert = nnlab()
            .args([
                "mnist",
                "search",
                "--recipe",
                "small8k",
                "--dry-run",
                "--brief",
                brief,
                "--space",
            ])
            .arg(spaces.join(file))
            .assert()
            .success();
        let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
        assert!(stdout.contains(counts), "{file}: {stdout}");
    }
}
