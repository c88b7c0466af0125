//! Recipes as files: a small TOML file (epochs, batch size, optimizer, schedule, augmentation, label
//! smoothing, seed) or a run's own `config.json`. Unknown keys and bad values are refused with the file,
//! the line and the key. `seed` and `tuned` ship as files in `recipes/`, built into the binary.

use std::path::Path;

use serde::Deserialize;

use super::config::{OptimizerKind, Schedule, TrainConfig};

/// The shipped recipes: (name, TOML text).
pub const SHIPPED: [(&str, &str); 5] = [
    ("seed", include_str!("../../recipes/seed.toml")),
    ("tuned", include_str!("../../recipes/tuned.toml")),
    ("small8k", include_str!("../../recipes/small8k.toml")),
    ("small5k", include_str!("../../recipes/small5k.toml")),
    ("small20", include_str!("../../recipes/small20.toml")),
];

/// Why a recipe cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}: {}{message}", line.map_or(String::new(), |l| format!("line {l}: ")))]
pub struct RecipeError {
    /// The file (or `recipe NAME` for a shipped one).
    pub source_name: String,
    /// 1-based line, when the problem is on one.
    pub line: Option<usize>,
    /// What is wrong, naming the key.
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipeFile {
    name: Option<String>,
    model: Option<String>,
    brief: Option<String>,
    epochs: usize,
    batch_size: usize,
    #[serde(default = "one")]
    seed: u64,
    #[serde(default)]
    label_smoothing: f64,
    #[serde(default)]
    ema_decay: f64,
    optimizer: OptimizerSection,
    schedule: Schedule,
    #[serde(default)]
    augmentation: AugmentationSection,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptimizerSection {
    kind: OptimizerKind,
    lr: f64,
    momentum: Option<f32>,
    #[serde(default)]
    nesterov: bool,
    #[serde(default)]
    weight_decay: f32,
    betas: Option<[f32; 2]>,
    eps: Option<f32>,
}

/// Each part can be off: a probability or size of 0 turns it off.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AugmentationSection {
    #[serde(default)]
    crop_probability: f64,
    #[serde(default = "crop_side")]
    crop_size: usize,
    #[serde(default)]
    rotation: f64,
    #[serde(default)]
    translate: u32,
    #[serde(default)]
    clean_epochs: usize,
}

fn crop_side() -> usize {
    22
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn invalid(source_name: &str, key: &str, message: String) -> RecipeError {
    RecipeError {
        source_name: source_name.into(),
        line: None,
        message: format!("{key}: {message}"),
    }
}

/// Checks the values a TOML file and a config.json alike must satisfy, naming the key.
pub fn validate(c: &TrainConfig, source_name: &str) -> Result<(), RecipeError> {
    match out_of_range(c) {
        Some((key, problem)) => Err(invalid(source_name, key, problem)),
        None => Ok(()),
    }
}

/// The first value of `c` outside its range, as (recipe key, what is wrong with it): the one set of checks
/// behind a recipe file, a config.json and the command-line flags that override them; each front names the
/// key its own way (`optimizer.lr: …` in a file, `--lr …` on the command line).
pub fn out_of_range(c: &TrainConfig) -> Option<(&'static str, String)> {
    let bad = |key: &'static str, problem: String| Some((key, problem));
    if c.epochs == 0 {
        return bad("epochs", "must be at least 1".into());
    }
    if c.batch_size == 0 {
        return bad("batch_size", "must be at least 1".into());
    }
    if !(c.lr.is_finite() && c.lr > 0.0) {
        return bad("optimizer.lr", format!("must be a finite number > 0, got {}", c.lr));
    }
    if !(0.0..1.0).contains(&c.momentum) {
        return bad("optimizer.momentum", format!("must be in [0, 1), got {}", c.momentum));
    }
    if !(c.weight_decay.is_finite() && c.weight_decay >= 0.0) {
        return bad(
            "optimizer.weight_decay",
            format!("must be a finite number ≥ 0, got {}", c.weight_decay),
        );
    }
    if c.betas.iter().any(|b| !(0.0..1.0).contains(b)) {
        return bad("optimizer.betas", format!("each must be in [0, 1), got {:?}", c.betas));
    }
    if !(c.eps.is_finite() && c.eps > 0.0) {
        return bad("optimizer.eps", format!("must be > 0, got {}", c.eps));
    }
    if !(0.0..1.0).contains(&c.label_smoothing) {
        return bad(
            "label_smoothing",
            format!("must be in [0, 1), got {}", c.label_smoothing),
        );
    }
    if !(0.0..1.0).contains(&c.ema_decay) {
        return bad(
            "ema_decay",
            format!("must be in [0, 1) (0: no weight averaging), got {}", c.ema_decay),
        );
    }
    if !(0.0..=1.0).contains(&c.crop_probability) {
        return bad(
            "augmentation.crop_probability",
            format!("must be in [0, 1], got {}", c.crop_probability),
        );
    }
    if c.crop_probability > 0.0 && !(1..=28).contains(&c.crop_side) {
        return bad(
            "augmentation.crop_size",
            format!("must be 1 to 28 pixels, got {}", c.crop_side),
        );
    }
    if !(0.0..=180.0).contains(&c.max_degrees) {
        return bad(
            "augmentation.rotation",
            format!("must be in [0, 180] degrees, got {}", c.max_degrees),
        );
    }
    if c.max_shift > 14 {
        return bad(
            "augmentation.translate",
            format!("must be at most 14 pixels (half the image), got {}", c.max_shift),
        );
    }
    if c.clean_epochs > c.epochs {
        return bad(
            "augmentation.clean_epochs",
            format!(
                "must be at most the {} epochs (the last N epochs train without augmentation), got {}",
                c.epochs, c.clean_epochs
            ),
        );
    }
    match c.schedule {
        Schedule::Step { step_size, gamma } => {
            if step_size == 0 {
                return bad("schedule.step_size", "must be at least 1".into());
            }
            if !(gamma > 0.0 && gamma <= 1.0) {
                return bad("schedule.gamma", format!("must be in (0, 1], got {gamma}"));
            }
        }
        Schedule::OneCycle {
            pct_start,
            div_factor,
            final_div_factor,
            base_momentum,
            max_momentum,
            ..
        } => {
            if !(pct_start > 0.0 && pct_start < 1.0) {
                return bad("schedule.pct_start", format!("must be in (0, 1), got {pct_start}"));
            }
            if div_factor <= 0.0 || final_div_factor <= 0.0 {
                return bad(
                    "schedule.div_factor",
                    "div_factor and final_div_factor must be > 0".into(),
                );
            }
            if !(0.0..1.0).contains(&base_momentum) || !(0.0..1.0).contains(&max_momentum) {
                return bad(
                    "schedule.base_momentum",
                    "base_momentum and max_momentum must be in [0, 1)".into(),
                );
            }
        }
        Schedule::Cosine { t_max, eta_min } => {
            if t_max == Some(0) {
                return bad("schedule.t_max", "must be at least 1".into());
            }
            if !(eta_min >= 0.0 && eta_min < c.lr) {
                return bad("schedule.eta_min", format!("must be in [0, lr), got {eta_min}"));
            }
        }
        Schedule::Constant => {}
        Schedule::WarmupCosine { warmup, div, final_div } => {
            if !(warmup > 0.0 && warmup < 1.0) || div <= 0.0 || final_div <= 0.0 {
                return bad(
                    "schedule.warmup",
                    "warmup must be in (0, 1), div and final_div > 0".into(),
                );
            }
        }
    }
    None
}

/// Parses a TOML recipe; `name` is used when the file has no `name` key.
pub fn parse_toml(text: &str, name: &str, source_name: &str) -> Result<TrainConfig, RecipeError> {
    let file: RecipeFile = toml::from_str(text).map_err(|e| RecipeError {
        source_name: source_name.into(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e
            .message()
            .replace("unknown field", "unknown key")
            .replace("missing field", "missing key")
            .replace('`', "'"),
    })?;
    let o = file.optimizer;
    let a = file.augmentation;
    let config = TrainConfig {
        model: file.model.unwrap_or_else(|| "seed".into()),
        model_text: None,
        recipe: file.name.unwrap_or_else(|| name.into()),
        epochs: file.epochs,
        batch_size: file.batch_size,
        lr: o.lr,
        momentum: o
            .momentum
            .unwrap_or(if o.kind == OptimizerKind::Sgd { 0.9 } else { 0.0 }),
        optimizer: o.kind,
        nesterov: o.nesterov,
        weight_decay: o.weight_decay,
        betas: o.betas.unwrap_or([0.9, 0.999]),
        eps: o.eps.unwrap_or(1e-8),
        label_smoothing: file.label_smoothing,
        schedule: file.schedule,
        ema_decay: file.ema_decay,
        seed: file.seed,
        threads: 2,
        crop_probability: a.crop_probability,
        crop_side: a.crop_size,
        max_degrees: a.rotation,
        max_shift: a.translate,
        clean_epochs: a.clean_epochs,
        train_limit: None,
        test_limit: None,
        validation: None,
        brief: file.brief,
        data_dir: None,
        changes: Vec::new(),
    };
    validate(&config, source_name)?;
    Ok(config)
}

/// A recipe as a TOML recipe file that [`parse_toml`] reads back to the same recipe (the run-only
/// settings — threads, limits, validation, the model's text — are not part of a recipe file). `model` is
/// the model line's value (a shipped name or a file's path).
pub fn to_toml(c: &TrainConfig, model: &str) -> String {
    let mut t = format!("name = {:?}\nmodel = {model:?}\n", c.recipe);
    if let Some(b) = &c.brief {
        t += &format!("brief = {b:?}\n");
    }
    t += &format!(
        "epochs = {}\nbatch_size = {}\nseed = {}\nlabel_smoothing = {:?}\nema_decay = {:?}\n",
        c.epochs, c.batch_size, c.seed, c.label_smoothing, c.ema_decay
    );
    let kind = format!("{:?}", c.optimizer).to_lowercase();
    t += &format!(
        "\n[optimizer]\nkind = {kind:?}\nlr = {:?}\nmomentum = {:?}\nnesterov = {}\nweight_decay = {:?}\nbetas = [{:?}, {:?}]\neps = {:?}\n",
        c.lr, c.momentum, c.nesterov, c.weight_decay, c.betas[0], c.betas[1], c.eps
    );
    t += "\n[schedule]\n";
    t += &match c.schedule {
        Schedule::Step { step_size, gamma } => format!("kind = \"step\"\nstep_size = {step_size}\ngamma = {gamma:?}\n"),
        Schedule::OneCycle {
            pct_start,
            div_factor,
            final_div_factor,
            cycle_momentum,
            base_momentum,
            max_momentum,
        } => format!(
            "kind = \"onecycle\"\npct_start = {pct_start:?}\ndiv_factor = {div_factor:?}\nfinal_div_factor = {final_div_factor:?}\ncycle_momentum = {cycle_momentum}\nbase_momentum = {base_momentum:?}\nmax_momentum = {max_momentum:?}\n"
        ),
        Schedule::Cosine { t_max, eta_min } => {
            let t_max = t_max.map_or(String::new(), |t| format!("t_max = {t}\n"));
            format!("kind = \"cosine\"\n{t_max}eta_min = {eta_min:?}\n")
        }
        Schedule::Constant => "kind = \"constant\"\n".to_string(),
        Schedule::WarmupCosine { warmup, div, final_div } => {
            format!("kind = \"warmup_cosine\"\nwarmup = {warmup:?}\ndiv = {div:?}\nfinal_div = {final_div:?}\n")
        }
    };
    t += &format!(
        "\n[augmentation]\ncrop_probability = {:?}\ncrop_size = {}\nrotation = {:?}\ntranslate = {}\nclean_epochs = {}\n",
        c.crop_probability, c.crop_side, c.max_degrees, c.max_shift, c.clean_epochs
    );
    t
}

/// A shipped recipe by name.
pub fn shipped_recipe(name: &str) -> Option<TrainConfig> {
    SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| parse_toml(text, n, &format!("recipe {n}")).expect("the shipped recipes parse (tested)"))
}

/// `--recipe NAME|FILE`: a shipped name, a `.toml` recipe, or a run's `config.json`.
pub fn load_recipe(spec: &str) -> Result<TrainConfig, RecipeError> {
    if let Some(c) = shipped_recipe(spec) {
        return Ok(c);
    }
    let path = Path::new(spec);
    let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !matches!(extension, "toml" | "json") {
        return Err(RecipeError {
            source_name: spec.into(),
            line: None,
            message: format!(
                "not a shipped recipe ({}) nor a .toml recipe or a run's config.json",
                names.join(", ")
            ),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| RecipeError {
        source_name: spec.into(),
        line: None,
        message: format!("cannot read it: {e}"),
    })?;
    if extension == "json" {
        let config: TrainConfig = serde_json::from_str(&text).map_err(|e| RecipeError {
            source_name: spec.into(),
            line: Some(e.line()),
            message: e
                .to_string()
                .split(" at line")
                .next()
                .unwrap_or_default()
                .replace('`', "'"),
        })?;
        validate(&config, spec)?;
        return Ok(config);
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("recipe");
    parse_toml(&text, stem, spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_recipes_parse_and_keep_their_values() {
        let seed = shipped_recipe("seed").unwrap();
        assert_eq!(
            (seed.epochs, seed.batch_size, seed.lr, seed.momentum),
            (19, 256, 0.01, 0.95)
        );
        assert_eq!(
            seed.schedule,
            Schedule::Step {
                step_size: 3,
                gamma: 0.9
            }
        );
        assert_eq!(
            (seed.crop_probability, seed.crop_side, seed.max_degrees),
            (0.1, 22, 10.0)
        );
        let tuned = shipped_recipe("tuned").unwrap();
        assert_eq!(
            (tuned.batch_size, tuned.lr, tuned.momentum, tuned.ema_decay),
            (128, 0.08, 0.9, 0.999)
        );
        assert_eq!(tuned.recipe, "tuned");
        for (name, epochs) in [("small8k", 15), ("small5k", 20), ("small20", 20)] {
            let r = shipped_recipe(name).unwrap();
            assert_eq!((r.model.as_str(), r.epochs), (name, epochs));
            assert!(matches!(r.schedule, Schedule::OneCycle { .. }));
        }
        assert!(shipped_recipe("nope").is_none());
    }

    #[test]
    fn a_recipe_written_as_toml_reads_back_the_same() {
        for (name, _) in SHIPPED {
            let r = shipped_recipe(name).unwrap();
            let text = to_toml(&r, &r.model);
            assert_eq!(parse_toml(&text, "x", "written.toml").unwrap(), r, "{name}:\n{text}");
        }
        let mut r = shipped_recipe("seed").unwrap();
        r.schedule = Schedule::Cosine {
            t_max: Some(7),
            eta_min: 1e-4,
        };
        r.optimizer = OptimizerKind::Adamw;
        assert_eq!(parse_toml(&to_toml(&r, "seed"), "x", "w.toml").unwrap(), r);
    }

    #[test]
    fn mistakes_name_the_file_the_line_and_the_key() {
        let seed = SHIPPED[0].1;
        let typo = seed.replace("batch_size = 256", "batch_sise = 256");
        let e = parse_toml(&typo, "x", "my.toml").unwrap_err().to_string();
        assert!(e.starts_with("my.toml: line 7: unknown key 'batch_sise'"), "{e}");
        let e = parse_toml(&seed.replace("lr = 0.01", "lr = -1"), "x", "my.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "my.toml: optimizer.lr: must be a finite number > 0, got -1"
        );
        let e = parse_toml(
            &seed.replace("kind = \"step\"", "kind = \"exponential\""),
            "x",
            "r.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 1") && e.contains("exponential"), "{e}");
        let e = parse_toml(&seed.replace("gamma = 0.9", "gamma = 0.9\nwarmup = 3"), "x", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown key 'warmup'"), "{e}");
        let e = parse_toml("epochs = 3", "x", "r.toml").unwrap_err().to_string();
        assert!(e.contains("missing key 'batch_size'"), "{e}");
        let e = parse_toml(&seed.replace("rotation = 10.0", "rotation = \"ten\""), "x", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 26"), "{e}");
    }

    #[test]
    fn every_schedule_and_optimizer_is_written_as_the_issue_spells_it() {
        let text = r#"
epochs = 15
batch_size = 128
[optimizer]
kind = "adamw"
lr = 0.003
betas = [0.9, 0.99]
weight_decay = 0.01
[schedule]
kind = "onecycle"
[augmentation]
translate = 2
"#;
        let c = parse_toml(text, "mine", "mine.toml").unwrap();
        assert_eq!(c.recipe, "mine");
        assert_eq!(c.optimizer, OptimizerKind::Adamw);
        assert!(
            matches!(c.schedule, Schedule::OneCycle { pct_start, div_factor, .. } if pct_start == 0.3 && div_factor == 25.0)
        );
        assert_eq!((c.crop_probability, c.max_degrees, c.max_shift), (0.0, 0.0, 2));
        assert_eq!(c.ema_decay, 0.0, "no weight averaging unless asked");
        let averaged = parse_toml(&format!("ema_decay = 0.999\n{text}"), "m", "m.toml").unwrap();
        assert_eq!(averaged.ema_decay, 0.999);
        let e = parse_toml(&format!("ema_decay = 1.0\n{text}"), "m", "m.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "m.toml: ema_decay: must be in [0, 1) (0: no weight averaging), got 1"
        );
        assert_eq!(c.clean_epochs, 0, "every epoch augmented unless asked");
        let clean = parse_toml(&format!("{text}clean_epochs = 2\n"), "m", "m.toml").unwrap();
        assert_eq!(clean.clean_epochs, 2);
        let days: Vec<bool> = (0..15).map(|e| clean.is_clean_epoch(e)).collect();
        assert_eq!(days.iter().filter(|&&d| d).count(), 2);
        assert!(days[13] && days[14] && !days[12], "the last two of 15");
        assert_eq!(clean.augment_for(14), None, "the images as they are");
        assert_eq!(
            clean.augment_for(12),
            Some(clean.augment()),
            "the recipe's own before them"
        );
        assert_eq!(clean.augment_for(12).unwrap().max_shift, 2);
        let e = parse_toml(&format!("{text}clean_epochs = 16\n"), "m", "m.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "m.toml: augmentation.clean_epochs: must be at most the 15 epochs (the last N epochs train without augmentation), got 16"
        );
        for kind in ["kind = \"cosine\"\neta_min = 0.0001", "kind = \"constant\""] {
            let t = text.replace("kind = \"onecycle\"", kind);
            assert!(parse_toml(&t, "m", "m.toml").is_ok(), "{kind}");
        }
    }

    #[test]
    fn a_config_json_is_a_recipe_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = shipped_recipe("tuned").unwrap();
        c.model_text = Some("input 1x28x28\n".into());
        let path = dir.path().join("config.json");
        std::fs::write(&path, serde_json::to_string_pretty(&c).unwrap()).unwrap();
        assert_eq!(load_recipe(path.to_str().unwrap()).unwrap(), c);
        let mut v = serde_json::to_value(&c).unwrap();
        v["colour"] = "blue".into();
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        let e = load_recipe(path.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("unknown field 'colour'"), "{e}");
        let e = load_recipe("fancy").unwrap_err().to_string();
        assert!(e.contains("not a shipped recipe (seed, tuned"), "{e}");
    }
}
