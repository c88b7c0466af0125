//! `nnlab mnist search --ray` against a real local Ray head: every trial submitted through Ray's Job
//! Submission REST API as an `nnlab mnist train` command line, with the same results as local workers.
//!
//! Ray's agents announce the machine's own network address, so the head runs inside a network namespace
//! this test makes with only loopback up (`unshare -n`, then `ip link set lo up`; root is needed): nothing
//! leaves the machine. `NNLAB_RAY` names the `ray` program (`.ci/run` makes a venv with `ray[default]`);
//! without it the test is skipped, and under `CI` it fails instead.

mod common;

use std::path::Path;

use common::{mnist_dir, nnlab};
use serde_json::Value;

const SPACE: &str = "\
input 1x28x28
c = choice(4, 8)
block1 = Sequential(Conv2d(1, c, 3, bias=False), ReLU(), BatchNorm2d(c))
pool = MaxPool2d(2, 2)
block2 = Sequential(Conv2d(c, 8, 3, bias=False), ReLU(), BatchNorm2d(8))
gap = AdaptiveAvgPool2d(1)
fc = Linear(8, 10)
";

const ARGS: [&str; 16] = [
    "--brief",
    "acc>=90,params<2000,epochs<=2,last=2",
    "--recipe",
    "small8k",
    "--seeds",
    "1",
    "--eta",
    "2",
    "--train-limit",
    "1000",
    "--test-limit",
    "300",
    "--validation",
    "500",
    "--threads",
    "1",
];

fn metrics(search: &Path) -> Vec<(String, Value)> {
    let record: Value = serde_json::from_str(&std::fs::read_to_string(search.join("search.json")).unwrap()).unwrap();
    assert_eq!(record["state"], "finished", "{record}");
    record["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap().to_string(), t["rungs"].clone()))
        .collect()
}

/// The `ray` program, or why the test cannot run here.
fn ray() -> Result<String, String> {
    let ray = std::env::var("NNLAB_RAY").map_err(|_| "NNLAB_RAY is not set (.ci/run sets it)".to_string())?;
    let netns = std::process::Command::new("unshare").args(["-n", "true"]).status();
    if !netns.is_ok_and(|s| s.success()) {
        return Err("unshare -n fails here (root is needed for a network namespace)".into());
    }
    Ok(ray)
}

#[test]
fn a_search_on_a_ray_head_gives_the_local_results() {
    let ray = match ray() {
        Ok(r) => r,
        Err(why) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: {why}");
            return;
        }
        Err(why) => panic!("CI must run the Ray test: {why}"),
    };
    let shared = tempfile::tempdir().unwrap();
    let space = shared.path().join("two.space");
    std::fs::write(&space, SPACE).unwrap();
    let local = shared.path().join("local");
    nnlab()
        .args(["mnist", "search", "--space"])
        .arg(&space)
        .args(ARGS)
        .arg("--out")
        .arg(&local)
        .assert()
        .success();
    let nnlab_bin = assert_cmd::cargo::cargo_bin("nnlab");
    let remote = shared.path().join("on-ray");
    let quoted: Vec<String> = ARGS.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        r#"set -e
ip link set lo up
export PATH="{bin_dir}:$PATH" MNIST_DIR="{mnist}"
"{ray}" start --head --node-ip-address 127.0.0.1 --num-cpus 2 --dashboard-host 127.0.0.1 --dashboard-port 8265 --disable-usage-stats >"{shared}/ray-start.log" 2>&1
trap '"{ray}" stop --force >/dev/null 2>&1' EXIT
nnlab mnist search --ray http://127.0.0.1:8265 --shared-dir "{shared}" --space "{space}" {args} --out "{remote}"
"#,
        bin_dir = nnlab_bin.parent().unwrap().display(),
        mnist = mnist_dir().display(),
        ray = ray,
        shared = shared.path().display(),
        space = space.display(),
        args = quoted.join(" "),
        remote = remote.display(),
    );
    let out = std::process::Command::new("timeout")
        .args(["600", "unshare", "-n", "bash", "-c", &script])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{text}\n{}",
        std::fs::read_to_string(shared.path().join("ray-start.log")).unwrap_or_default()
    );
    assert!(text.contains("2 points enumerated"), "{text}");
    // Each trial was a Ray job (its log is the job's, fetched from the head) with the local run's numbers.
    assert_eq!(metrics(&remote), metrics(&local));
    let log = std::fs::read_to_string(remote.join("logs/t000-seed1-epoch2.log")).unwrap();
    assert!(log.contains("training model 't000'"), "{log}");
}
