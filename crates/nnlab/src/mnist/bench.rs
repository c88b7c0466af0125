//! `nnlab mnist bench`: training and evaluation throughput on random batches.

use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use nnlab_mnist::Network;
use nnlab_mnist::data::batches::Batch;
use nnlab_mnist::training::{train_step, train_step_probed};
use nnlab_nn::{Mode, Optimizer, Phase, Profile, Sgd, Tensor};

/// Arguments of `nnlab mnist bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Images per step.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Timed steps (after 3 warm-up steps).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Engine threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Print {"train_images_per_sec":…, "eval_images_per_sec":…} instead of text.
    #[arg(long)]
    json: bool,
    /// Also time each layer's forward and backward and each phase of the step, over `--steps` more steps.
    #[arg(long)]
    profile: bool,
    /// Also time the data pipeline alone: one epoch of augmented training batches from the real files.
    #[arg(long)]
    pipeline: bool,
    #[command(flatten)]
    data: super::data_args::DataArgs,
    #[command(flatten)]
    model: super::model_args::ModelArg,
}

/// Batches per second of the augmentation pipeline over one training epoch, with `workers` threads.
fn pipeline_rate(split: &std::sync::Arc<nnlab_mnist::Split>, batch_size: usize, workers: usize) -> (f64, usize) {
    use nnlab_mnist::data::augment::Augment;
    use nnlab_mnist::data::batches::{EpochPlan, Prefetcher};
    let plan = EpochPlan::train(split.len(), batch_size, Some(Augment::default()), 1, 0);
    let t = Instant::now();
    let batches = Prefetcher::start(std::sync::Arc::clone(split), plan, workers, 4).count();
    (batches as f64 / t.elapsed().as_secs_f64(), batches)
}

/// Multiply-adds per image of the model's forward pass, and of a training step: forward, ∂W and ∂x, less
/// the first statement's ∂x (the input needs no gradient).
fn macs_per_image(spec: &nnlab_model::ModelSpec) -> (f64, f64) {
    let rows = nnlab_model::summary::summarize(spec);
    let forward: usize = rows.iter().map(|r| r.macs).sum();
    let first = rows.first().map_or(0, |r| r.macs);
    (forward as f64, (3 * forward - first) as f64)
}

/// The phases of a training step, as the profile names them.
const PHASES: [(&str, Phase); 4] = [
    ("data", Phase::Data),
    ("forward", Phase::Forward),
    ("backward", Phase::Backward),
    ("update", Phase::Update),
];

/// Milliseconds per step.
fn ms(d: std::time::Duration, steps: usize) -> f64 {
    d.as_secs_f64() * 1e3 / steps as f64
}

/// The profile as a table: one row per layer (training forward, backward, total and share of the
/// step; evaluation forward), then the training step per phase.
fn profile_table((p, eval): &(Profile, Profile), steps: usize) -> String {
    let total = ms(p.total(), steps);
    let mut out = format!("\nprofile, ms per training step (mean of {steps} steps):\n");
    out += &format!(
        "{:<7} {:>9} {:>9} {:>9} {:>7} {:>10}\n",
        "part", "forward", "backward", "total", "share", "eval fwd"
    );
    let cell = |v: f64| if v > 0.0 { format!("{v:.2}") } else { "".into() };
    for part in p.parts() {
        let (f, b) = (
            ms(p.get(part, Phase::Forward), steps),
            ms(p.get(part, Phase::Backward), steps),
        );
        let sum = f + b + ms(p.get(part, Phase::Data) + p.get(part, Phase::Update), steps);
        let e = ms(eval.get(part, Phase::Forward), steps);
        out += &format!(
            "{part:<7} {:>9} {:>9} {sum:>9.2} {:>6.1}% {:>10}\n",
            cell(f),
            cell(b),
            100.0 * sum / total,
            cell(e)
        );
    }
    for (name, phase) in PHASES {
        let v = ms(p.phase_total(phase), steps);
        out += &format!("phase {name:<9} {v:>8.2} ms {:>6.1}%\n", 100.0 * v / total);
    }
    out + &format!(
        "step total      {total:>8.2} ms   (evaluation forward {:.2} ms)\n",
        ms(eval.total(), steps)
    )
}

/// The profile as JSON: {part: {"forward": ms, "backward": ms, …, "eval": ms}}.
fn profile_json((p, eval): &(Profile, Profile), steps: usize) -> serde_json::Value {
    p.parts()
        .into_iter()
        .map(|part| {
            let mut row: serde_json::Map<_, _> = PHASES
                .iter()
                .filter(|(_, ph)| !p.get(part, *ph).is_zero())
                .map(|(name, ph)| (name.to_string(), serde_json::json!(ms(p.get(part, *ph), steps))))
                .collect();
            let e = eval.get(part, Phase::Forward);
            if !e.is_zero() {
                row.insert("eval".into(), serde_json::json!(ms(e, steps)));
            }
            (part.to_string(), serde_json::Value::Object(row))
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Runs `nnlab mnist bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    if args.batch_size == 0 || args.steps == 0 || args.threads == 0 {
        bail!("--batch-size, --steps and --threads must be at least 1");
    }
    let spec = args.model.load_or_seed()?;
    nnlab_app::threads::init_threads(args.threads)?;
    let n = args.batch_size;
    let batch = Batch {
        index: 0,
        images: (0..n * 784).map(|i| ((i * 7919) % 255) as f32 / 255.0).collect(),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
    };
    let mut model = Network::new(&spec, 1);
    let sgd = Optimizer::Sgd(Sgd::new(0.01, 0.95));
    let diverged = |e| anyhow::anyhow!("the benchmark's training step diverged: {e}");
    for s in 0..3 {
        train_step(&mut model, &batch, &sgd, 0.0, s).map_err(diverged)?;
    }
    let t = Instant::now();
    for s in 0..args.steps {
        train_step(&mut model, &batch, &sgd, 0.0, s as u64).map_err(diverged)?;
    }
    let train = (args.steps * n) as f64 / t.elapsed().as_secs_f64();
    let x = Tensor::from_slice([n, 1, 28, 28], &batch.images);
    let profile = if args.profile {
        let mut profile = Profile::default();
        for s in 0..args.steps {
            train_step_probed(&mut model, &batch, &sgd, 0.0, s as u64, &mut profile).map_err(diverged)?;
        }
        let mut eval_profile = Profile::default();
        for _ in 0..args.steps {
            model.forward_probed(x.clone(), Mode::Eval, 0, &mut eval_profile);
        }
        Some((profile, eval_profile))
    } else {
        None
    };
    model.forward(x.clone(), Mode::Eval, 0);
    let t = Instant::now();
    for _ in 0..args.steps {
        model.forward(x.clone(), Mode::Eval, 0);
    }
    let eval = (args.steps * n) as f64 / t.elapsed().as_secs_f64();
    let peak = nnlab_nn::peak::peak_fma_rate(args.threads, 100);
    let (eval_macs, train_macs) = macs_per_image(&spec);
    let fraction = |images: f64, macs: f64| images * macs / peak.macs_per_sec;
    let pipeline = if args.pipeline {
        let split = std::sync::Arc::new(args.data.load()?.train);
        Some([1, 2].map(|w| (w, pipeline_rate(&split, n, w))))
    } else {
        None
    };
    if args.json {
        let simd = nnlab_nn::cpu::simd_path();
        let mut json = serde_json::json!({
            "train_images_per_sec": train, "eval_images_per_sec": eval,
            "cpu": cpu_model(), "simd": simd.features, "gemm_kernel": simd.gemm_kernel,
            "simd_level": simd.level.name(), "simd_detected": simd.detected.name(),
            "macs_per_image": eval_macs, "train_macs_per_image": train_macs,
            "peak_macs_per_sec": peak.macs_per_sec,
            "train_peak_fraction": fraction(train, train_macs), "eval_peak_fraction": fraction(eval, eval_macs),
        });
        if let Some(p) = &pipeline {
            json["pipeline_batches_per_sec"] = serde_json::json!(
                p.iter()
                    .map(|(w, (r, _))| (format!("{w}_workers"), serde_json::json!(*r)))
                    .collect::<serde_json::Map<_, _>>()
            );
        }
        if let Some(p) = &profile {
            json["profile_ms_per_step"] = profile_json(p, args.steps);
        }
        println!("{json}");
    } else {
        println!(
            "model '{}' ({} parameters), batch {n}, {} threads, {} timed steps",
            spec.name,
            spec.params(),
            args.threads,
            args.steps
        );
        println!("cpu: {}; {}", cpu_model(), nnlab_nn::cpu::simd_path().describe());
        println!(
            "train (forward + backward + update): {train:.0} images/s ({:.1} batches/s)",
            train / n as f64
        );
        println!("eval  (forward):                     {eval:.0} images/s");
        println!(
            "peak: {:.1} G multiply-adds/s ({} threads, {}-lane fused multiply-adds); train reaches {:.1} % of it \
             ({:.2} M multiply-adds per image: forward, ∂W, ∂x), eval {:.1} % ({:.2} M)",
            peak.macs_per_sec / 1e9,
            peak.threads,
            peak.lanes,
            100.0 * fraction(train, train_macs),
            train_macs / 1e6,
            100.0 * fraction(eval, eval_macs),
            eval_macs / 1e6
        );
        if let Some(p) = &profile {
            print!("{}", profile_table(p, args.steps));
        }
        for (w, (rate, batches)) in pipeline.iter().flatten() {
            println!(
                "data pipeline, {w} worker(s): {rate:.1} batches/s ({:.0} images/s; one epoch = {batches} augmented batches)",
                rate * n as f64
            );
        }
    }
    Ok(())
}

/// The CPU's model name (Linux `/proc/cpuinfo`), or `unknown`.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
