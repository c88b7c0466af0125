//! A recipe and the values given over it, declared once. [`RecipeOverrides`] holds the values (the
//! CLI's flags derive from it with the `clap` feature); [`SETTINGS`] is the one table that says, for each
//! of them, its flag, the recipe key it sets, how it is applied to a new run and what a resumed run
//! recorded for it — so filling a new run, refusing a contradiction on `--resume` and naming the flag
//! of an out-of-range value all read the same rows.

use nnlab_mnist::training::config::{OptimizerKind, Schedule};
use nnlab_mnist::training::recipe_file::out_of_range;
use nnlab_mnist::training::{TrainConfig, load_recipe};

use crate::{AppError, Result};

/// The optimizers `--optimizer` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum OptimizerName {
    /// torch.optim.SGD (dampening 0).
    Sgd,
    /// torch.optim.Adam.
    Adam,
    /// torch.optim.AdamW.
    Adamw,
}

impl From<OptimizerName> for OptimizerKind {
    fn from(n: OptimizerName) -> Self {
        match n {
            OptimizerName::Sgd => OptimizerKind::Sgd,
            OptimizerName::Adam => OptimizerKind::Adam,
            OptimizerName::Adamw => OptimizerKind::Adamw,
        }
    }
}

/// Values given over a recipe (each `None` keeps the recipe's).
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct RecipeOverrides {
    /// Epochs (the goal is ≥ 99.4 % test accuracy in under 20).
    #[cfg_attr(feature = "clap", arg(long))]
    pub epochs: Option<usize>,
    /// Batch size.
    #[cfg_attr(feature = "clap", arg(long))]
    pub batch_size: Option<usize>,
    /// Learning rate (the peak rate of a one-cycle or warm-up schedule).
    #[cfg_attr(feature = "clap", arg(long))]
    pub lr: Option<f64>,
    /// SGD momentum.
    #[cfg_attr(feature = "clap", arg(long))]
    pub momentum: Option<f32>,
    /// The optimizer, each with PyTorch's update rule: sgd (momentum, --nesterov, --weight-decay as L2),
    /// adam (betas 0.9, 0.999; --weight-decay as L2) or adamw (--weight-decay decoupled).
    #[cfg_attr(feature = "clap", arg(long, value_enum))]
    pub optimizer: Option<OptimizerName>,
    /// Weight decay (L2 for sgd and adam, decoupled for adamw).
    #[cfg_attr(feature = "clap", arg(long))]
    pub weight_decay: Option<f32>,
    /// Nesterov momentum (sgd).
    #[cfg_attr(feature = "clap", arg(long))]
    pub nesterov: bool,
    /// Probability of the centre crop + resize augmentation (0 = off; the recipe's 0.1).
    #[cfg_attr(feature = "clap", arg(long, value_name = "P"))]
    pub crop_probability: Option<f64>,
    /// Largest random rotation in degrees (0 = off; the recipe's 10).
    #[cfg_attr(feature = "clap", arg(long, value_name = "DEGREES"))]
    pub rotation: Option<f64>,
    /// Largest random translation in whole pixels along each axis (0 = off, the default).
    #[cfg_attr(feature = "clap", arg(long, value_name = "PIXELS"))]
    pub translate: Option<u32>,
    /// Train the last N epochs on the images as they are, without augmentation (0 = every epoch augmented).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub clean_epochs: Option<usize>,
    /// Label smoothing ε of the training loss, as PyTorch's CrossEntropyLoss(label_smoothing=ε).
    #[cfg_attr(feature = "clap", arg(long, value_name = "EPS"))]
    pub label_smoothing: Option<f64>,
    /// Weight averaging: evaluate and checkpoint an exponential moving average of the weights (and
    /// BatchNorm statistics) with this decay per step, e.g. 0.999 (0 = off; PyTorch's AveragedModel).
    #[cfg_attr(feature = "clap", arg(long, value_name = "DECAY"))]
    pub ema: Option<f64>,
    /// Epochs between learning-rate decays (switches to the step schedule).
    #[cfg_attr(feature = "clap", arg(long))]
    pub step_size: Option<usize>,
    /// Learning-rate decay factor (switches to the step schedule).
    #[cfg_attr(feature = "clap", arg(long))]
    pub gamma: Option<f32>,
    /// Seed of initialisation, shuffling, augmentation and dropout.
    #[cfg_attr(feature = "clap", arg(long))]
    pub seed: Option<u64>,
    /// Engine threads.
    #[cfg_attr(feature = "clap", arg(long))]
    pub threads: Option<usize>,
    /// Train on the first N training images only (quick runs).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub train_limit: Option<usize>,
    /// Evaluate on the first N test images only (quick runs).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub test_limit: Option<usize>,
    /// Hold out the last N training images as a validation set and evaluate on it instead of the test set
    /// (choose hyperparameters on it; the run's "test" metrics are then validation metrics).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub validation: Option<usize>,
}

/// What `--resume` does with a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnResume {
    /// Taken: it changes no number of the epochs already run (more epochs, another thread count).
    Taken,
    /// Refused when it differs from what the run recorded.
    Refused,
}

/// One setting of a recipe that a value can override.
pub struct Setting {
    /// The CLI flag.
    pub flag: &'static str,
    /// The recipe's key, as recipe files and range errors name it.
    pub key: &'static str,
    /// On `--resume`.
    pub on_resume: OnResume,
    /// The value given, as text, if any.
    pub given: fn(&RecipeOverrides) -> Option<String>,
    /// The value a config holds, as text.
    pub recorded: fn(&TrainConfig) -> String,
    /// Sets the config's value from the given one (when given).
    pub apply: fn(&RecipeOverrides, &mut TrainConfig),
    /// Gives the value from text (a search space's `recipe.KEY = …`); the error says why not.
    pub set: fn(&mut RecipeOverrides, &str) -> Result<(), String>,
}

/// A value of type `T` from text, or why not.
fn parsed<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("'{}' is not a {}", text.trim(), std::any::type_name::<T>()))
}

fn text<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

fn limit(l: Option<usize>) -> String {
    l.map_or("all".to_string(), |v| v.to_string())
}

fn step_schedule(c: &TrainConfig) -> (Option<usize>, Option<f32>) {
    match c.schedule {
        Schedule::Step { step_size, gamma } => (Some(step_size), Some(gamma)),
        _ => (None, None),
    }
}

/// Switches to the step schedule, keeping the schedule's other value (or the default 3 epochs, ×0.9).
fn set_step(c: &mut TrainConfig, step_size: Option<usize>, gamma: Option<f32>) {
    let (s, g) = step_schedule(c);
    c.schedule = Schedule::Step {
        step_size: step_size.or(s).unwrap_or(3),
        gamma: gamma.or(g).unwrap_or(0.9),
    };
}

fn not_step(v: Option<String>) -> String {
    v.unwrap_or_else(|| "none (not a step schedule)".into())
}

/// Every overridable setting, once. `epochs` first: it is the one a resumed run may raise.
pub const SETTINGS: [Setting; 20] = [
    Setting {
        flag: "--epochs",
        key: "epochs",
        on_resume: OnResume::Taken,
        given: |o| text(o.epochs),
        recorded: |c| c.epochs.to_string(),
        apply: |o, c| c.epochs = o.epochs.unwrap_or(c.epochs),
        set: |o, v| {
            o.epochs = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--threads",
        key: "threads",
        on_resume: OnResume::Taken,
        given: |o| text(o.threads),
        recorded: |c| c.threads.to_string(),
        apply: |o, c| c.threads = o.threads.unwrap_or(c.threads),
        set: |o, v| {
            o.threads = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--batch-size",
        key: "batch_size",
        on_resume: OnResume::Refused,
        given: |o| text(o.batch_size),
        recorded: |c| c.batch_size.to_string(),
        apply: |o, c| c.batch_size = o.batch_size.unwrap_or(c.batch_size),
        set: |o, v| {
            o.batch_size = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--lr",
        key: "optimizer.lr",
        on_resume: OnResume::Refused,
        given: |o| text(o.lr),
        recorded: |c| c.lr.to_string(),
        apply: |o, c| c.lr = o.lr.unwrap_or(c.lr),
        set: |o, v| {
            o.lr = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--momentum",
        key: "optimizer.momentum",
        on_resume: OnResume::Refused,
        given: |o| text(o.momentum),
        recorded: |c| c.momentum.to_string(),
        apply: |o, c| c.momentum = o.momentum.unwrap_or(c.momentum),
        set: |o, v| {
            o.momentum = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--optimizer",
        key: "optimizer.kind",
        on_resume: OnResume::Refused,
        given: |o| {
            o.optimizer
                .map(|n| format!("{:?}", OptimizerKind::from(n)).to_lowercase())
        },
        recorded: |c| format!("{:?}", c.optimizer).to_lowercase(),
        apply: |o, c| c.optimizer = o.optimizer.map_or(c.optimizer, Into::into),
        set: |o, v| {
            o.optimizer = Some(match v.trim().trim_matches(['\'', '"']) {
                "sgd" => OptimizerName::Sgd,
                "adam" => OptimizerName::Adam,
                "adamw" => OptimizerName::Adamw,
                other => return Err(format!("'{other}' is not an optimizer (sgd, adam, adamw)")),
            });
            Ok(())
        },
    },
    Setting {
        flag: "--weight-decay",
        key: "optimizer.weight_decay",
        on_resume: OnResume::Refused,
        given: |o| text(o.weight_decay),
        recorded: |c| c.weight_decay.to_string(),
        apply: |o, c| c.weight_decay = o.weight_decay.unwrap_or(c.weight_decay),
        set: |o, v| {
            o.weight_decay = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--nesterov",
        key: "optimizer.nesterov",
        on_resume: OnResume::Refused,
        given: |o| o.nesterov.then(|| "on".to_string()),
        recorded: |c| if c.nesterov { "on" } else { "off" }.to_string(),
        apply: |o, c| c.nesterov |= o.nesterov,
        set: |o, v| {
            o.nesterov = match v.trim() {
                "True" | "true" => true,
                "False" | "false" => false,
                other => return Err(format!("'{other}' is not True or False")),
            };
            Ok(())
        },
    },
    Setting {
        flag: "--crop-probability",
        key: "augmentation.crop_probability",
        on_resume: OnResume::Refused,
        given: |o| text(o.crop_probability),
        recorded: |c| c.crop_probability.to_string(),
        apply: |o, c| c.crop_probability = o.crop_probability.unwrap_or(c.crop_probability),
        set: |o, v| {
            o.crop_probability = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--rotation",
        key: "augmentation.rotation",
        on_resume: OnResume::Refused,
        given: |o| text(o.rotation),
        recorded: |c| c.max_degrees.to_string(),
        apply: |o, c| c.max_degrees = o.rotation.unwrap_or(c.max_degrees),
        set: |o, v| {
            o.rotation = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--translate",
        key: "augmentation.translate",
        on_resume: OnResume::Refused,
        given: |o| text(o.translate),
        recorded: |c| c.max_shift.to_string(),
        apply: |o, c| c.max_shift = o.translate.unwrap_or(c.max_shift),
        set: |o, v| {
            o.translate = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--clean-epochs",
        key: "augmentation.clean_epochs",
        on_resume: OnResume::Refused,
        given: |o| text(o.clean_epochs),
        recorded: |c| c.clean_epochs.to_string(),
        apply: |o, c| c.clean_epochs = o.clean_epochs.unwrap_or(c.clean_epochs),
        set: |o, v| {
            o.clean_epochs = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--label-smoothing",
        key: "label_smoothing",
        on_resume: OnResume::Refused,
        given: |o| text(o.label_smoothing),
        recorded: |c| c.label_smoothing.to_string(),
        apply: |o, c| c.label_smoothing = o.label_smoothing.unwrap_or(c.label_smoothing),
        set: |o, v| {
            o.label_smoothing = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--ema",
        key: "ema_decay",
        on_resume: OnResume::Refused,
        given: |o| text(o.ema),
        recorded: |c| c.ema_decay.to_string(),
        apply: |o, c| c.ema_decay = o.ema.unwrap_or(c.ema_decay),
        set: |o, v| {
            o.ema = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--step-size",
        key: "schedule.step_size",
        on_resume: OnResume::Refused,
        given: |o| text(o.step_size),
        recorded: |c| not_step(text(step_schedule(c).0)),
        apply: |o, c| {
            if o.step_size.is_some() {
                set_step(c, o.step_size, None)
            }
        },
        set: |o, v| {
            o.step_size = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--gamma",
        key: "schedule.gamma",
        on_resume: OnResume::Refused,
        given: |o| text(o.gamma),
        recorded: |c| not_step(text(step_schedule(c).1)),
        apply: |o, c| {
            if o.gamma.is_some() {
                set_step(c, None, o.gamma)
            }
        },
        set: |o, v| {
            o.gamma = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--seed",
        key: "seed",
        on_resume: OnResume::Refused,
        given: |o| text(o.seed),
        recorded: |c| c.seed.to_string(),
        apply: |o, c| c.seed = o.seed.unwrap_or(c.seed),
        set: |o, v| {
            o.seed = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--train-limit",
        key: "train_limit",
        on_resume: OnResume::Refused,
        given: |o| text(o.train_limit),
        recorded: |c| limit(c.train_limit),
        apply: |o, c| c.train_limit = o.train_limit.or(c.train_limit),
        set: |o, v| {
            o.train_limit = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--test-limit",
        key: "test_limit",
        on_resume: OnResume::Refused,
        given: |o| text(o.test_limit),
        recorded: |c| limit(c.test_limit),
        apply: |o, c| c.test_limit = o.test_limit.or(c.test_limit),
        set: |o, v| {
            o.test_limit = Some(parsed(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--validation",
        key: "validation",
        on_resume: OnResume::Refused,
        given: |o| text(o.validation),
        recorded: |c| {
            c.validation
                .map_or("none (evaluated on the test set)".into(), |v| v.to_string())
        },
        apply: |o, c| c.validation = o.validation.or(c.validation),
        set: |o, v| {
            o.validation = Some(parsed(v)?);
            Ok(())
        },
    },
];

/// The flag that sets a recipe key, for naming it in an error; a key no flag sets (it can only be wrong in a
/// recipe file, which is checked when it is read) is named as the recipe's.
pub fn flag_of(key: &str) -> String {
    SETTINGS
        .iter()
        .find(|s| s.key == key)
        .map_or_else(|| format!("the recipe's {key}"), |s| s.flag.to_string())
}

impl RecipeOverrides {
    /// A new run's recipe: `base` with every given value over it, checked.
    pub fn new_run(&self, base: TrainConfig) -> Result<TrainConfig> {
        let mut c = base;
        for s in &SETTINGS {
            (s.apply)(self, &mut c);
        }
        if self.nesterov && c.optimizer != OptimizerKind::Sgd {
            return Err(AppError::invalid(
                "--nesterov is a form of SGD momentum: it needs --optimizer sgd",
            ));
        }
        // A recipe's own clean last epochs shrink with a shorter --epochs (a quick run of a recipe that
        // ends without augmentation); only a --clean-epochs given beyond --epochs is an error.
        if self.clean_epochs.is_none() && c.clean_epochs > c.epochs {
            c.clean_epochs = c.epochs;
        }
        check(&c)?;
        Ok(c)
    }

    /// A resumed run's recipe: the one it recorded, with more epochs or another thread count taken and any
    /// other given value that differs refused, each named (`recipe` is the `--recipe` given, if any).
    pub fn resumed(&self, had: &TrainConfig, recipe: Option<&str>) -> Result<TrainConfig> {
        let mut differ = Vec::new();
        if let Some(spec) = recipe {
            let given = load_recipe(spec).map_or_else(|_| spec.to_string(), |c| c.recipe);
            if given != had.recipe {
                differ.push(format!("--recipe {given} (the run has {})", had.recipe));
            }
        }
        let mut c = had.clone();
        for s in &SETTINGS {
            match s.on_resume {
                OnResume::Taken => (s.apply)(self, &mut c),
                OnResume::Refused => {
                    let recorded = (s.recorded)(had);
                    if let Some(given) = (s.given)(self)
                        && given != recorded
                    {
                        differ.push(format!("{} {given} (the run has {recorded})", s.flag));
                    }
                }
            }
        }
        if !differ.is_empty() {
            return Err(AppError::invalid(format!(
                "--resume continues the checkpoint's run exactly, and these would change it: {}; leave them out, or start a new run",
                differ.join(", ")
            )));
        }
        check(&c)?;
        Ok(c)
    }
}

/// The checks every recipe passes, naming the flag that sets a wrong value.
fn check(c: &TrainConfig) -> Result<()> {
    if let Some((key, problem)) = out_of_range(c) {
        return Err(AppError::invalid(format!("{} {problem}", flag_of(key))));
    }
    if c.threads == 0 {
        return Err(AppError::invalid("--threads must be at least 1"));
    }
    if let Some(n) = c.validation
        && !(1..60_000).contains(&n)
    {
        return Err(AppError::invalid(format!(
            "--validation must hold out 1 to 59999 of the 60000 training images, got {n}"
        )));
    }
    if c.train_limit == Some(0) || c.test_limit == Some(0) {
        return Err(AppError::invalid("--train-limit and --test-limit must be at least 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nnlab_mnist::training::shipped_recipe;

    /// The overrides that flags and values give, through the table's own `set` (a flag without a value is
    /// a switch: True).
    fn given(args: &[&str]) -> RecipeOverrides {
        let mut o = RecipeOverrides::default();
        let mut rest = args.iter().peekable();
        while let Some(flag) = rest.next() {
            let setting = SETTINGS.iter().find(|s| s.flag == *flag).expect("a flag of the table");
            let value = match rest.peek() {
                Some(v) if !v.starts_with("--") => rest.next().unwrap().to_string(),
                _ => "True".to_string(),
            };
            (setting.set)(&mut o, &value).unwrap();
        }
        o
    }

    /// A value differing from the seed recipe's for every flag of the table.
    const DIFFERENT: [(&str, &str); 20] = [
        ("--epochs", "30"),
        ("--threads", "1"),
        ("--batch-size", "64"),
        ("--lr", "0.2"),
        ("--momentum", "0.8"),
        ("--optimizer", "adam"),
        ("--weight-decay", "0.001"),
        ("--nesterov", "True"),
        ("--crop-probability", "0.5"),
        ("--rotation", "3"),
        ("--translate", "2"),
        ("--clean-epochs", "2"),
        ("--label-smoothing", "0.1"),
        ("--ema", "0.99"),
        ("--step-size", "4"),
        ("--gamma", "0.5"),
        ("--seed", "9"),
        ("--train-limit", "500"),
        ("--test-limit", "200"),
        ("--validation", "5000"),
    ];

    #[test]
    fn every_setting_is_applied_to_a_new_run_and_checked_on_resume() {
        let flags: Vec<&str> = SETTINGS.iter().map(|s| s.flag).collect();
        let tested: Vec<&str> = DIFFERENT.iter().map(|(f, _)| *f).collect();
        assert_eq!(flags, tested, "every row of the table has a test value");
        let seed = shipped_recipe("seed").unwrap();
        for (flag, value) in DIFFERENT {
            let o = given(&[flag, value]);
            let setting = SETTINGS.iter().find(|s| s.flag == flag).unwrap();
            let run = o.new_run(seed.clone());
            if flag == "--nesterov" {
                assert!(run.is_ok(), "the seed recipe is SGD");
            }
            let run = run.unwrap();
            assert_ne!((setting.recorded)(&run), (setting.recorded)(&seed), "{flag} applied");
            let resumed = o.resumed(&seed, None);
            match setting.on_resume {
                OnResume::Taken => assert_eq!((setting.recorded)(&resumed.unwrap()), (setting.recorded)(&run)),
                OnResume::Refused => {
                    let err = resumed.unwrap_err().to_string();
                    assert!(err.contains(&format!("{flag} ")), "{flag}: {err}");
                    // The value the run recorded is taken as it is.
                    let same = RecipeOverrides { ..o.clone() }.resumed(&run, None);
                    assert!(same.is_ok(), "{flag}: {same:?}");
                }
            }
        }
    }

    /// A recipe's own clean epochs shrink with a shorter --epochs; a --clean-epochs beyond it is refused.
    #[test]
    fn a_shorter_run_of_a_recipe_keeps_its_clean_ending() {
        let mut recipe = shipped_recipe("seed").unwrap();
        recipe.clean_epochs = 3;
        let quick = given(&["--epochs", "1"]).new_run(recipe.clone()).unwrap();
        assert_eq!((quick.epochs, quick.clean_epochs), (1, 1));
        let err = given(&["--epochs", "2", "--clean-epochs", "3"])
            .new_run(recipe)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--clean-epochs must be at most the 2 epochs"), "{err}");
    }

    #[test]
    fn out_of_range_values_name_their_flag() {
        let seed = shipped_recipe("seed").unwrap();
        let err = given(&["--ema", "1.5"]).new_run(seed.clone()).unwrap_err().to_string();
        assert!(err.starts_with("--ema must be in [0, 1)"), "{err}");
        let err = given(&["--validation", "60000"])
            .new_run(seed.clone())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--validation must hold out"), "{err}");
        let err = given(&["--optimizer", "adam", "--nesterov"])
            .new_run(seed.clone())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--nesterov"), "{err}");
        assert_eq!(flag_of("optimizer.lr"), "--lr");
        assert_eq!(flag_of("crop_side"), "the recipe's crop_side");
        let mut o = RecipeOverrides::default();
        let optimizer = SETTINGS.iter().find(|s| s.key == "optimizer.kind").unwrap();
        assert!(
            (optimizer.set)(&mut o, "'rmsprop'")
                .unwrap_err()
                .contains("sgd, adam, adamw")
        );
        assert!((optimizer.set)(&mut o, "'adamw'").is_ok());
        let lr = SETTINGS.iter().find(|s| s.key == "optimizer.lr").unwrap();
        assert_eq!((lr.set)(&mut o, "fast").unwrap_err(), "'fast' is not a f64");
        let err = given(&[]).resumed(&seed, Some("tuned")).unwrap_err().to_string();
        assert!(err.contains("--recipe tuned (the run has seed)"), "{err}");
    }
}
