//! Briefs: the constraints a model must meet, written `acc>=99.4,params<8000,epochs<=15,last=3`, judged
//! clause by clause against a run. A missed brief is a result, not an error.

use nnlab_model::{Layer, ModelSpec};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use nnlab_mnist::training::EpochRecord;

/// Named briefs: (name, clauses, what it is).
pub const NAMED: [(&str, &str, &str); 2] = [
    (
        "seed",
        "acc>=99.4,params<20000,epochs<20,bn,dropout,gap",
        "the seed model's brief (docs/recipe.md)",
    ),
    ("8k", "acc>=99.4,params<8000,epochs<=15,last=3", "the next brief"),
];

/// A brief that does not parse.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("--brief '{text}': {problem}")]
pub struct BriefError {
    /// The brief as given.
    pub text: String,
    /// What is wrong.
    pub problem: String,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
}

impl Op {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Ge => a >= b,
            Op::Gt => a > b,
            Op::Le => a <= b,
            Op::Lt => a < b,
            Op::Eq => a == b,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Ge => "≥",
            Op::Gt => ">",
            Op::Le => "≤",
            Op::Lt => "<",
            Op::Eq => "=",
        }
    }
}

/// One clause of a brief.
#[derive(Debug, Clone, PartialEq)]
enum Clause {
    /// Test accuracy (percent) on each of the last `last` epochs.
    Accuracy(Op, f64),
    /// Trainable parameters.
    Params(Op, f64),
    /// Epochs trained.
    Epochs(Op, f64),
    /// At least one BatchNorm layer.
    BatchNorm,
    /// At least one Dropout layer.
    Dropout,
    /// Global average pooling followed by exactly one linear layer.
    GapLinear,
}

/// A parsed brief.
#[derive(Debug, Clone, PartialEq)]
pub struct Brief {
    /// The clauses as written (a named brief's expansion).
    pub text: String,
    /// The name it was given by, if it is a named brief.
    pub name: Option<String>,
    clauses: Vec<Clause>,
    /// The accuracy clause must hold on each of the last this many epochs.
    pub last: usize,
}

/// One clause judged against a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The clause, readable (`test accuracy ≥ 99.4 % on each of the last 3 epochs`).
    pub clause: String,
    /// Whether it holds.
    pub ok: bool,
    /// The numbers behind the verdict.
    pub detail: String,
}

/// A whole brief judged against a run, as `metrics.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BriefResult {
    /// The brief's clauses as written.
    pub brief: String,
    /// Every clause holds.
    pub met: bool,
    /// Each clause's verdict.
    pub verdicts: Vec<Verdict>,
}

fn split_op(clause: &str) -> Option<(&str, Op, &str)> {
    for (sym, op) in [
        (">=", Op::Ge),
        ("<=", Op::Le),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
    ] {
        if let Some((k, v)) = clause.split_once(sym) {
            return Some((k.trim(), op, v.trim()));
        }
    }
    None
}

impl Brief {
    /// Parses `NAME` (`seed`, `8k`) or clauses `acc>=99.4,params<8000,epochs<=15,last=3,bn,dropout,gap`.
    pub fn parse(text: &str) -> Result<Brief, BriefError> {
        let named = NAMED.iter().find(|(n, ..)| *n == text.trim());
        let clauses_text = named.map_or(text.trim(), |(_, c, _)| *c);
        let fail = |problem: String| BriefError {
            text: text.to_string(),
            problem,
        };
        let mut brief = Brief {
            text: clauses_text.to_string(),
            name: named.map(|(n, ..)| n.to_string()),
            clauses: Vec::new(),
            last: 1,
        };
        for raw in clauses_text.split(',').map(str::trim) {
            let clause = match raw {
                "" => return Err(fail("an empty clause (two commas in a row?)".into())),
                "bn" => Clause::BatchNorm,
                "dropout" => Clause::Dropout,
                "gap" => Clause::GapLinear,
                _ => {
                    let Some((key, op, value)) = split_op(raw) else {
                        return Err(fail(format!(
                            "'{raw}' is not a clause (write key<op>number with acc, params, epochs, last, or bn, dropout, gap; named briefs: {})",
                            NAMED.iter().map(|(n, ..)| *n).collect::<Vec<_>>().join(", ")
                        )));
                    };
                    let number: f64 = value
                        .parse()
                        .ok()
                        .filter(|v: &f64| v.is_finite())
                        .ok_or_else(|| fail(format!("'{raw}': '{value}' is not a number")))?;
                    match key {
                        "acc" => Clause::Accuracy(op, number),
                        "params" => Clause::Params(op, number),
                        "epochs" => Clause::Epochs(op, number),
                        "last" if op == Op::Eq && number >= 1.0 && number.fract() == 0.0 => {
                            brief.last = number as usize;
                            continue;
                        }
                        "last" => return Err(fail(format!("'{raw}': write last=N with N a whole number ≥ 1"))),
                        _ => {
                            return Err(fail(format!(
                                "'{raw}': unknown key '{key}' (known: acc, params, epochs, last, bn, dropout, gap)"
                            )));
                        }
                    }
                }
            };
            brief.clauses.push(clause);
        }
        Ok(brief)
    }

    /// The clauses a model and an epoch count miss before any training (every clause but accuracy): empty
    /// when the brief admits them. A search drops the points it does not admit.
    pub fn admits(&self, spec: &ModelSpec, epochs: usize) -> Vec<Verdict> {
        self.clauses
            .iter()
            .filter(|c| !matches!(c, Clause::Accuracy(..)))
            .map(|c| self.verdict(c, &[], spec, epochs))
            .filter(|v| !v.ok)
            .collect()
    }

    /// The verdict of every clause but accuracy (parameters, epochs, BatchNorm, Dropout, GAP) on a model
    /// and an epoch count, held or not: what the designer shows with ✓/✗ as the model is typed.
    pub fn structure(&self, spec: &ModelSpec, epochs: usize) -> Vec<Verdict> {
        self.clauses
            .iter()
            .filter(|c| !matches!(c, Clause::Accuracy(..)))
            .map(|c| self.verdict(c, &[], spec, epochs))
            .collect()
    }

    /// The most epochs the brief allows (`epochs<=15` → 15, `epochs<20` → 19), if it bounds them.
    pub fn max_epochs(&self) -> Option<usize> {
        self.clauses.iter().find_map(|c| match *c {
            Clause::Epochs(Op::Le | Op::Eq, goal) => Some(goal.floor() as usize),
            Clause::Epochs(Op::Lt, goal) => Some((goal.ceil() as usize).saturating_sub(1)),
            _ => None,
        })
    }

    /// The parameter bound, if the brief has one (`params<8000` → 8000).
    pub fn params_bound(&self) -> Option<f64> {
        self.clauses.iter().find_map(|c| match *c {
            Clause::Params(_, goal) => Some(goal),
            _ => None,
        })
    }

    /// The accuracy goal in percent, if the brief has one.
    pub fn accuracy_goal(&self) -> Option<f64> {
        self.clauses.iter().find_map(|c| match *c {
            Clause::Accuracy(_, goal) => Some(goal),
            _ => None,
        })
    }

    /// Judges a run: its per-epoch records, its model and the epochs it was set to train.
    pub fn judge(&self, records: &[EpochRecord], spec: &ModelSpec, epochs: usize) -> BriefResult {
        let verdicts: Vec<Verdict> = self
            .clauses
            .iter()
            .map(|c| self.verdict(c, records, spec, epochs))
            .collect();
        BriefResult {
            brief: self.text.clone(),
            met: verdicts.iter().all(|v| v.ok),
            verdicts,
        }
    }

    fn verdict(&self, clause: &Clause, records: &[EpochRecord], spec: &ModelSpec, epochs: usize) -> Verdict {
        let count = |pick: fn(&Layer) -> bool| spec.layers.iter().filter(|l| pick(&l.layer)).count();
        match *clause {
            Clause::Accuracy(op, goal) => {
                let tail = &records[records.len().saturating_sub(self.last)..];
                let ok = tail.len() == self.last && tail.iter().all(|r| op.holds(r.test_accuracy * 100.0, goal));
                let shown: Vec<String> = tail.iter().map(|r| format!("{:.2}", r.test_accuracy * 100.0)).collect();
                let best = records
                    .iter()
                    .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy));
                let where_ = match tail {
                    [] => "no epoch finished".to_string(),
                    [one] => format!("{} % (epoch {})", shown[0], one.epoch),
                    [first, .., last] => format!("{} % (epochs {}–{})", shown.join(", "), first.epoch, last.epoch),
                };
                let on = if self.last == 1 {
                    "on the final epoch".to_string()
                } else {
                    format!("on each of the last {} epochs", self.last)
                };
                Verdict {
                    clause: format!("test accuracy {} {goal} % {on}", op.symbol()),
                    ok,
                    detail: match best {
                        Some(b) => format!("{where_}; best {:.2} % (epoch {})", b.test_accuracy * 100.0, b.epoch),
                        None => where_,
                    },
                }
            }
            Clause::Params(op, goal) => Verdict {
                clause: format!("parameters {} {goal}", op.symbol()),
                ok: op.holds(spec.params() as f64, goal),
                detail: spec.params().to_string(),
            },
            Clause::Epochs(op, goal) => Verdict {
                clause: format!("epochs {} {goal}", op.symbol()),
                ok: op.holds(epochs as f64, goal),
                detail: epochs.to_string(),
            },
            Clause::BatchNorm => {
                let n = count(|l| matches!(l, Layer::BatchNorm2d { .. }));
                Verdict {
                    clause: "BatchNorm used".into(),
                    ok: n > 0,
                    detail: format!("{n} layer(s)"),
                }
            }
            Clause::Dropout => {
                let ps: Vec<String> = spec
                    .layers
                    .iter()
                    .filter_map(|l| match l.layer {
                        Layer::Dropout { p } => Some(p.to_string()),
                        _ => None,
                    })
                    .collect();
                let mut distinct = ps.clone();
                distinct.dedup();
                Verdict {
                    clause: "Dropout used".into(),
                    ok: !ps.is_empty(),
                    detail: if ps.is_empty() {
                        "none".into()
                    } else {
                        format!("{} layer(s), p = {}", ps.len(), distinct.join(", "))
                    },
                }
            }
            Clause::GapLinear => {
                let head = gap_head(spec);
                Verdict {
                    clause: "global average pooling followed by one linear layer".into(),
                    ok: head.is_some(),
                    detail: head.map_or("not this model's head".into(), |(i, o)| format!("{i} → {o}")),
                }
            }
        }
    }
}

/// The linear layer's in → out when global average pooling feeds exactly one linear layer (flattens
/// aside) at the end of the model.
fn gap_head(spec: &ModelSpec) -> Option<(usize, usize)> {
    let gap = spec.layers.iter().rposition(|l| l.layer == Layer::GlobalAvgPool)?;
    let after: Vec<&Layer> = spec.layers[gap + 1..]
        .iter()
        .map(|l| &l.layer)
        .filter(|l| **l != Layer::Flatten)
        .collect();
    match after.as_slice() {
        [Layer::Linear { inputs, outputs, .. }] => Some((*inputs, *outputs)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nnlab_mnist::model::seed_model;

    fn record(epoch: usize, acc: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 0.1,
            train_accuracy: 0.99,
            test_loss: 0.02,
            test_accuracy: acc,
            lr: 0.01,
            seconds: 1.0,
            raw_test_loss: None,
            raw_test_accuracy: None,
        }
    }

    #[test]
    fn a_brief_admits_a_model_before_training_and_bounds_the_epochs() {
        let spec = seed_model();
        let small = Brief::parse("8k").unwrap();
        let missed = small.admits(&spec, 15);
        assert_eq!(missed.len(), 1, "{missed:?}");
        assert!(missed[0].clause.starts_with("parameters"));
        assert!(Brief::parse("seed").unwrap().admits(&spec, 19).is_empty());
        assert_eq!(small.max_epochs(), Some(15));
        assert_eq!(Brief::parse("seed").unwrap().max_epochs(), Some(19));
        assert_eq!(Brief::parse("acc>=99").unwrap().max_epochs(), None);
        assert_eq!(small.accuracy_goal(), Some(99.4));
    }

    #[test]
    fn named_and_written_briefs_judge_each_clause_with_its_numbers() {
        let records = [
            record(1, 0.9950),
            record(2, 0.9938),
            record(3, 0.9942),
            record(4, 0.9945),
        ];
        let seed = Brief::parse("seed").unwrap();
        let r = seed.judge(&records, &seed_model(), 19);
        assert!(r.met, "{r:?}");
        assert_eq!(r.verdicts[0].clause, "test accuracy ≥ 99.4 % on the final epoch");
        assert_eq!(r.verdicts[0].detail, "99.45 % (epoch 4); best 99.50 % (epoch 1)");
        assert_eq!(r.verdicts[5].detail, "32 → 10");
        let eight = Brief::parse("8k").unwrap();
        let r = eight.judge(&records, &seed_model(), 19);
        assert!(!r.met);
        let oks: Vec<bool> = r.verdicts.iter().map(|v| v.ok).collect();
        assert_eq!(
            oks,
            [false, false, false],
            "99.38 % in the last three, 18,934 params, 19 epochs"
        );
        assert_eq!(
            r.verdicts[0].clause,
            "test accuracy ≥ 99.4 % on each of the last 3 epochs"
        );
        assert_eq!(
            r.verdicts[0].detail,
            "99.38, 99.42, 99.45 % (epochs 2–4); best 99.50 % (epoch 1)"
        );
        let last2 = Brief::parse("acc>=99.4,last=2").unwrap();
        assert!(last2.judge(&records, &seed_model(), 4).met);
    }

    #[test]
    fn bad_briefs_say_what_is_wrong() {
        let e = |t: &str| Brief::parse(t).unwrap_err().to_string();
        assert_eq!(e("acc>=x"), "--brief 'acc>=x': 'acc>=x': 'x' is not a number");
        assert!(e("speed>3").contains("unknown key 'speed' (known: acc, params, epochs, last, bn, dropout, gap)"));
        assert!(e("acc99").contains("'acc99' is not a clause"));
        assert!(e("last=0").contains("write last=N"));
        assert!(e("acc>=99,,params<5").contains("empty clause"));
    }
}
