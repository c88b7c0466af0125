//! What a search leaves besides `search.json`: `best.model` and `best.toml` (a plain model file and a recipe
//! that `nnlab mnist train` accepts) and `leaderboard.md` (every trial, best first).

use std::fmt::Write as _;
use std::path::Path;

use nnlab_mnist::training::recipe_file::to_toml;

use super::Search;
use super::record::{Best, SearchRecord, Trial, TrialStatus};
use crate::Result;
use crate::atomic::write_atomic;

/// Writes best.model and best.toml for the winning trial.
pub fn write_best(search: &Search, dir: &Path, trial: &Trial, metric: f64, params: usize) -> Result<Best> {
    let point = search.space.point(trial.point);
    let choices: Vec<String> = trial.choices.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let model: String = point
        .model_text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    let brief = match &search.brief.name {
        Some(name) => format!("{name} ({})", search.brief.text),
        None => search.brief.text.clone(),
    };
    let header = format!(
        "# The best point of the search of {} under the brief {brief}: trial {}, {params} parameters, {}\n# worst-of-last validation accuracy {metric:.3} %. Choices: {}\n",
        search.options.space,
        trial.id,
        search.options.rank.word(),
        choices.join(", ")
    );
    write_atomic(&dir.join("best.model"), (header + &model).as_bytes())?;
    let mut recipe = point.overrides().new_run(search.recipe.clone())?;
    recipe.epochs = search.epochs;
    recipe.recipe = format!("search-{}", trial.id);
    recipe.brief = Some(search.options.brief.clone());
    let model_path = dir
        .canonicalize()
        .unwrap_or_else(|_| dir.to_path_buf())
        .join("best.model");
    let toml = format!(
        "# The recipe of the best point of the search in {} (base recipe {}), over the brief's {} epochs.\n{}",
        dir.display(),
        search.options.recipe,
        search.epochs,
        to_toml(&recipe, &model_path.display().to_string())
    );
    write_atomic(&dir.join("best.toml"), toml.as_bytes())?;
    Ok(Best {
        id: trial.id.clone(),
        params,
        metric,
        model_file: "best.model".into(),
        recipe_file: "best.toml".into(),
    })
}

/// `leaderboard.md`: every trial in [`SearchRecord::leaderboard`]'s order.
pub fn write_leaderboard(dir: &Path, record: &SearchRecord) -> Result<()> {
    let order = record.leaderboard();
    let mut md = format!(
        "# Search of `{}` under the brief `{}` (base recipe `{}`)\n\n{} points enumerated, {} within the brief, {} trained; rungs at {} epochs (η = {}); {} seed(s) at the last rung; state: {}.\n\n",
        record.space,
        record.brief,
        record.recipe,
        record.counts.enumerated,
        record.counts.admitted,
        record.counts.trials,
        record
            .rung_epochs
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        record.options.eta,
        record.options.seeds,
        record.state,
    );
    if let Some(b) = &record.best {
        let _ = writeln!(
            md,
            "**Best: {}**, {} parameters, {:.3} % ({} over seeds of the worst of the brief's last validation epochs) → `best.model`, `best.toml`.\n",
            b.id,
            b.params,
            b.metric,
            record.options.rank.word()
        );
    }
    if !record.test.is_empty() {
        let met = record.test.iter().filter(|t| t.brief_met).count();
        let _ = writeln!(
            md,
            "On the test set (trained without a hold-out): brief met on {met} of {} seeds.\n",
            record.test.len()
        );
        let _ = writeln!(md, "| seed | last epochs, test % | brief |\n|---|---|---|");
        for t in &record.test {
            let last: Vec<String> = t.last.iter().map(|a| format!("{a:.2}")).collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                t.seed,
                last.join(" · "),
                if t.brief_met { "✓ met" } else { "✗ missed" }
            );
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "| rank | trial | status | params | MACs | RF | {} | choices |",
        rung_header(&record.rung_epochs)
    );
    let _ = writeln!(
        md,
        "|---|---|---|---|---|---|{}---|",
        "---|".repeat(record.rung_epochs.len())
    );
    for (rank, t) in order.iter().enumerate() {
        let metrics: Vec<String> = record
            .rung_epochs
            .iter()
            .map(|&e| {
                t.rungs
                    .iter()
                    .find(|r| r.epochs == e)
                    .map_or("".into(), |r| format!("{:.2}", r.metric))
            })
            .collect();
        let choices: Vec<String> = t.choices.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let status = match t.status {
            TrialStatus::Done => "done",
            TrialStatus::Pruned => "pruned",
            TrialStatus::OverBudget => "over budget",
            TrialStatus::Failed => "failed",
            TrialStatus::Stopped => "stopped",
            TrialStatus::Pending => "pending",
        };
        let _ = writeln!(
            md,
            "| {} | {} | {status} | {} | {} | {} | {} | {} |",
            rank + 1,
            t.id,
            t.params,
            t.macs,
            t.rf,
            metrics.join(" | "),
            choices.join(", ")
        );
    }
    write_atomic(&dir.join("leaderboard.md"), md.as_bytes())
}

fn rung_header(rungs: &[usize]) -> String {
    let n = rungs.len();
    rungs
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if i + 1 == n {
                format!("{e} ep (final)")
            } else {
                format!("{e} ep")
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}
