//! The recipe a `train` invocation asks for: a named recipe with the flags' values over it, checked, or —
//! on `--resume` — the checkpoint's own recipe, with any flag that would contradict it refused.

use anyhow::{Result, bail};
use nnlab_mnist::training::config::{OptimizerKind, Schedule};
use nnlab_mnist::training::recipe_file::out_of_range;
use nnlab_mnist::training::{TrainConfig, load_recipe};

use super::TrainArgs;

/// `--resume` continues a run exactly: a flag that would change its recipe is refused, naming each
/// setting that differs (more epochs, and another thread count, which changes no number, are fine).
fn refuse_contradictions(args: &TrainArgs, r: &TrainConfig) -> Result<()> {
    let mut differ = Vec::new();
    let mut check = |flag: &str, given: Option<String>, had: String| {
        if let Some(g) = given
            && g != had
        {
            differ.push(format!("{flag} {g} (the run has {had})"));
        }
    };
    let given_recipe = args
        .recipe
        .as_deref()
        .map(|spec| load_recipe(spec).map_or_else(|_| spec.to_string(), |c| c.recipe));
    check("--recipe", given_recipe, r.recipe.clone());
    check(
        "--batch-size",
        args.batch_size.map(|v| v.to_string()),
        r.batch_size.to_string(),
    );
    check("--lr", args.lr.map(|v| v.to_string()), r.lr.to_string());
    check(
        "--momentum",
        args.momentum.map(|v| v.to_string()),
        r.momentum.to_string(),
    );
    check("--seed", args.seed.map(|v| v.to_string()), r.seed.to_string());
    check("--ema", args.ema.map(|v| v.to_string()), r.ema_decay.to_string());
    check(
        "--crop-probability",
        args.crop_probability.map(|v| v.to_string()),
        r.crop_probability.to_string(),
    );
    check(
        "--rotation",
        args.rotation.map(|v| v.to_string()),
        r.max_degrees.to_string(),
    );
    check(
        "--translate",
        args.translate.map(|v| v.to_string()),
        r.max_shift.to_string(),
    );
    check(
        "--clean-epochs",
        args.clean_epochs.map(|v| v.to_string()),
        r.clean_epochs.to_string(),
    );
    check(
        "--label-smoothing",
        args.label_smoothing.map(|v| v.to_string()),
        r.label_smoothing.to_string(),
    );
    check(
        "--optimizer",
        args.optimizer.map(|o| format!("{o:?}").to_lowercase()),
        format!("{:?}", r.optimizer).to_lowercase(),
    );
    check(
        "--weight-decay",
        args.weight_decay.map(|v| v.to_string()),
        r.weight_decay.to_string(),
    );
    check(
        "--nesterov",
        args.nesterov.then(|| "on".to_string()),
        if r.nesterov { "on" } else { "off" }.to_string(),
    );
    let (step_size, gamma) = match r.schedule {
        Schedule::Step { step_size, gamma } => (step_size.to_string(), gamma.to_string()),
        _ => ("none (not a step schedule)".into(), "none (not a step schedule)".into()),
    };
    check("--step-size", args.step_size.map(|v| v.to_string()), step_size);
    check("--gamma", args.gamma.map(|v| v.to_string()), gamma);
    let limit = |l: Option<usize>| l.map_or("all".to_string(), |v| v.to_string());
    check(
        "--train-limit",
        args.train_limit.map(|v| v.to_string()),
        limit(r.train_limit),
    );
    check(
        "--test-limit",
        args.test_limit.map(|v| v.to_string()),
        limit(r.test_limit),
    );
    if !differ.is_empty() {
        bail!(
            "--resume continues the checkpoint's run exactly, and these would change it: {}; leave them out, or start a new run",
            differ.join(", ")
        );
    }
    Ok(())
}

pub(super) fn config_from(args: &TrainArgs, resumed: Option<&TrainConfig>) -> Result<TrainConfig> {
    let mut c = match resumed {
        Some(c) => c.clone(),
        None => load_recipe(args.recipe.as_deref().unwrap_or("seed")).map_err(|e| anyhow::anyhow!("--recipe {e}"))?,
    };
    if let Some(r) = resumed {
        refuse_contradictions(args, r)?;
    }
    if let Some(v) = args.epochs {
        c.epochs = v;
    }
    if resumed.is_none() {
        if let Some(v) = args.batch_size {
            c.batch_size = v;
        }
        if let Some(v) = args.lr {
            c.lr = v;
        }
        if let Some(v) = args.momentum {
            c.momentum = v;
        }
        if let Some(v) = args.optimizer {
            c.optimizer = v.into();
        }
        if let Some(v) = args.weight_decay {
            c.weight_decay = v;
        }
        if let Some(v) = args.label_smoothing {
            c.label_smoothing = v;
        }
        if let Some(v) = args.crop_probability {
            c.crop_probability = v;
        }
        if let Some(v) = args.rotation {
            c.max_degrees = v;
        }
        if let Some(v) = args.translate {
            c.max_shift = v;
        }
        if let Some(v) = args.clean_epochs {
            c.clean_epochs = v;
        }
        if let Some(v) = args.ema {
            c.ema_decay = v;
        }
        if args.nesterov {
            if c.optimizer != OptimizerKind::Sgd {
                bail!("--nesterov is a form of SGD momentum: it needs --optimizer sgd");
            }
            c.nesterov = true;
        }
        if args.step_size.is_some() || args.gamma.is_some() {
            let (s, g) = match c.schedule {
                Schedule::Step { step_size, gamma } => (step_size, gamma),
                _ => (3, 0.9),
            };
            c.schedule = Schedule::Step {
                step_size: args.step_size.unwrap_or(s),
                gamma: args.gamma.unwrap_or(g),
            };
        }
        if let Some(v) = args.seed {
            c.seed = v;
        }
        if args.train_limit.is_some() {
            c.train_limit = args.train_limit;
        }
        if args.test_limit.is_some() {
            c.test_limit = args.test_limit;
        }
        if args.validation.is_some() {
            c.validation = args.validation;
        }
    }
    if let Some(v) = args.threads {
        c.threads = v;
    }
    if let Some((key, problem)) = out_of_range(&c) {
        bail!("{} {problem}", flag_of(key));
    }
    if c.threads == 0 {
        bail!("--threads must be at least 1");
    }
    if let Some(n) = c.validation
        && !(1..60_000).contains(&n)
    {
        bail!("--validation must hold out 1 to 59999 of the 60000 training images, got {n}");
    }
    if c.train_limit == Some(0) || c.test_limit == Some(0) {
        bail!("--train-limit and --test-limit must be at least 1");
    }
    Ok(c)
}

/// The flag that sets a recipe key, for naming it in an error; a key no flag sets (it can only be wrong in a
/// recipe file, which is checked when it is read) is named as the recipe's.
fn flag_of(key: &str) -> String {
    let flag = match key {
        "epochs" => "--epochs",
        "batch_size" => "--batch-size",
        "optimizer.lr" => "--lr",
        "optimizer.momentum" => "--momentum",
        "optimizer.weight_decay" => "--weight-decay",
        "label_smoothing" => "--label-smoothing",
        "augmentation.crop_probability" => "--crop-probability",
        "augmentation.rotation" => "--rotation",
        "augmentation.translate" => "--translate",
        "augmentation.clean_epochs" => "--clean-epochs",
        "ema_decay" => "--ema",
        "schedule.step_size" => "--step-size",
        "schedule.gamma" => "--gamma",
        other => return format!("the recipe's {other}"),
    };
    flag.to_string()
}
