//! Search spaces as files (`*.space`): a model file whose numbers may be choices, plus recipe choices.
//!
//! ```text
//! input 1x28x28
//! c1 = choice(6, 8, 10)
//! block1 = Sequential(Conv2d(1, c1, 3, bias=False), ReLU(), BatchNorm2d(c1))
//! extra = optional(Sequential(Conv2d(c1, c1, 3, padding=1, bias=False), ReLU(), BatchNorm2d(c1)))
//! recipe.optimizer.lr = choice(0.05, 0.1, 0.2)
//! ```
//!
//! `NAME = choice(…)` is usable wherever a number is; `NAME = optional(MODULE)` is a statement present or
//! absent; `recipe.KEY = choice(…)` (or `= value`) sets a key of the base recipe. A plain model file is a
//! space of one point. Every point is a model text with the same line numbers as the space file (the
//! choice lines blanked), so a mistake in any point is reported at the space file's line.

use std::collections::BTreeMap;

use nnlab_model::syntax::logical_lines;

use crate::overrides::{RecipeOverrides, SETTINGS};
use crate::{AppError, Result};

/// Most points a space may enumerate.
pub const MAX_POINTS: usize = 1_000_000;

/// One dimension of a space.
#[derive(Debug, Clone, PartialEq)]
pub enum Dimension {
    /// `NAME = choice(…)`: the values as written.
    Choice {
        /// The name used in the file.
        name: String,
        /// The values, as text.
        values: Vec<String>,
        /// Line of the definition.
        line: usize,
    },
    /// `NAME = optional(MODULE)`: the statement present or absent.
    Optional {
        /// The statement's name.
        name: String,
        /// Line of the statement.
        line: usize,
    },
    /// `recipe.KEY = choice(…)` or `recipe.KEY = value`.
    Recipe {
        /// The recipe key (`optimizer.lr`).
        key: String,
        /// The values, as text.
        values: Vec<String>,
        /// Line of the definition.
        line: usize,
    },
}

impl Dimension {
    /// The name a point's choices are recorded under: the variable, the optional statement, or `recipe.KEY`.
    pub fn label(&self) -> String {
        match self {
            Dimension::Choice { name, .. } | Dimension::Optional { name, .. } => name.clone(),
            Dimension::Recipe { key, .. } => format!("recipe.{key}"),
        }
    }

    fn size(&self) -> usize {
        match self {
            Dimension::Choice { values, .. } | Dimension::Recipe { values, .. } => values.len(),
            Dimension::Optional { .. } => 2,
        }
    }
}

/// A statement of the space file that is not a choice: kept (with names substituted) in every point.
#[derive(Debug, Clone)]
struct Kept {
    /// Its physical lines: (line number, code).
    lines: Vec<(usize, String)>,
    /// For `NAME = optional(…)`: the index of its dimension.
    optional: Option<usize>,
}

/// A parsed search space.
#[derive(Debug, Clone)]
pub struct Space {
    /// Where it was read from (for errors).
    pub origin: String,
    /// Its dimensions in file order.
    pub dimensions: Vec<Dimension>,
    kept: Vec<Kept>,
    line_count: usize,
}

/// One point of a space: the model text and the recipe values it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The index of each dimension's value.
    pub index: Vec<usize>,
    /// Each dimension's value, by label (`"present"`/`"absent"` for an optional statement).
    pub choices: BTreeMap<String, String>,
    /// The model file of this point (same line numbers as the space file).
    pub model_text: String,
    /// The recipe keys this point sets: (key, value).
    pub recipe: Vec<(String, String)>,
}

impl Point {
    /// The recipe values as overrides (checked when the space was read).
    pub fn overrides(&self) -> RecipeOverrides {
        let mut o = RecipeOverrides::default();
        for (key, value) in &self.recipe {
            let setting = SETTINGS
                .iter()
                .find(|s| s.key == key)
                .expect("checked when the space was read");
            (setting.set)(&mut o, value).expect("checked when the space was read");
        }
        o
    }
}

fn error(origin: &str, line: usize, message: impl std::fmt::Display) -> AppError {
    AppError::invalid(format!("{origin}:{line}: {message}"))
}

/// `choice(a, b, …)` → the values; `None` when `rhs` is not a choice.
fn choice_values(origin: &str, line: usize, rhs: &str) -> Result<Option<Vec<String>>> {
    let Some(inner) = rhs.strip_prefix("choice(").and_then(|r| r.strip_suffix(')')) else {
        return Ok(None);
    };
    let values: Vec<String> = inner.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        return Err(error(
            origin,
            line,
            "choice(…) needs one or more values, separated by commas",
        ));
    }
    let mut seen = values.clone();
    seen.sort();
    seen.dedup();
    if seen.len() != values.len() {
        return Err(error(origin, line, format!("choice({inner}) repeats a value")));
    }
    Ok(Some(values))
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Names a choice may not take: they mean something in a model file already.
const RESERVED: [&str; 5] = ["True", "False", "None", "input", "recipe"];

impl Space {
    /// Reads a space from its text; `origin` names it in errors (`FILE:LINE: …`).
    pub fn parse(origin: &str, text: &str) -> Result<Space> {
        let statements = logical_lines(origin, text).map_err(|e| AppError::invalid(e.to_string()))?;
        let mut space = Space {
            origin: origin.to_string(),
            dimensions: Vec::new(),
            kept: Vec::new(),
            line_count: text.lines().count(),
        };
        for (line, lines) in statements {
            let joined: String = lines.iter().map(|(_, c)| c.trim()).collect::<Vec<_>>().join(" ");
            space.statement(line, lines, &joined)?;
        }
        space.check_names_used()?;
        if space.points_count() > MAX_POINTS {
            return Err(AppError::invalid(format!(
                "{origin}: {} points; a space may have at most {MAX_POINTS}",
                space.points_count()
            )));
        }
        Ok(space)
    }

    fn statement(&mut self, line: usize, lines: Vec<(usize, String)>, joined: &str) -> Result<()> {
        let origin = self.origin.clone();
        let Some((lhs, rhs)) = joined.split_once('=') else {
            self.kept.push(Kept { lines, optional: None });
            return Ok(());
        };
        let (lhs, rhs) = (lhs.trim(), rhs.trim());
        if let Some(key) = lhs.strip_prefix("recipe.") {
            let values = match choice_values(&origin, line, rhs)? {
                Some(v) => v,
                None => vec![rhs.to_string()],
            };
            let Some(setting) = SETTINGS.iter().find(|s| s.key == key) else {
                let keys: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
                return Err(error(
                    &origin,
                    line,
                    format!("recipe.{key}: not a recipe key (known: {})", keys.join(", ")),
                ));
            };
            for v in &values {
                (setting.set)(&mut RecipeOverrides::default(), v)
                    .map_err(|e| error(&origin, line, format!("recipe.{key}: {e}")))?;
            }
            self.add(
                line,
                Dimension::Recipe {
                    key: key.to_string(),
                    values,
                    line,
                },
            )?;
            return Ok(());
        }
        if let Some(values) = choice_values(&origin, line, rhs)? {
            if !is_name(lhs) || RESERVED.contains(&lhs) || nnlab_model::modules::module_kind(lhs).is_some() {
                return Err(error(&origin, line, format!("'{lhs}' cannot name a choice")));
            }
            return self.add(
                line,
                Dimension::Choice {
                    name: lhs.to_string(),
                    values,
                    line,
                },
            );
        }
        if rhs.starts_with("optional(") {
            if !rhs.ends_with(')') {
                return Err(error(
                    &origin,
                    line,
                    "optional(…) must hold the whole statement's module",
                ));
            }
            self.add(
                line,
                Dimension::Optional {
                    name: lhs.to_string(),
                    line,
                },
            )?;
            let index = self.dimensions.len() - 1;
            self.kept.push(Kept {
                lines,
                optional: Some(index),
            });
            return Ok(());
        }
        self.kept.push(Kept { lines, optional: None });
        Ok(())
    }

    fn add(&mut self, line: usize, d: Dimension) -> Result<()> {
        if self.dimensions.iter().any(|e| e.label() == d.label()) {
            return Err(error(&self.origin, line, format!("'{}' is defined twice", d.label())));
        }
        self.dimensions.push(d);
        Ok(())
    }

    /// Every choice must be used by some statement (a forgotten one multiplies the search for nothing).
    fn check_names_used(&self) -> Result<()> {
        for d in &self.dimensions {
            if let Dimension::Choice { name, line, .. } = d {
                let used = self.kept.iter().any(|k| {
                    k.lines
                        .iter()
                        .enumerate()
                        .any(|(j, (_, code))| !substitute_line(code, j, name, "").eq(code))
                });
                if !used {
                    return Err(error(
                        &self.origin,
                        *line,
                        format!("'{name}' is a choice no statement uses"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// How many points the space has.
    pub fn points_count(&self) -> usize {
        self.dimensions
            .iter()
            .map(Dimension::size)
            .fold(1usize, |a, b| a.saturating_mul(b))
    }

    /// Point number `k` (0 ≤ k < points_count), the last dimension varying fastest.
    pub fn point(&self, mut k: usize) -> Point {
        let mut index = vec![0; self.dimensions.len()];
        for (i, d) in self.dimensions.iter().enumerate().rev() {
            index[i] = k % d.size();
            k /= d.size();
        }
        self.point_at(index)
    }

    /// The point with these value indices.
    pub fn point_at(&self, index: Vec<usize>) -> Point {
        let mut choices = BTreeMap::new();
        let mut recipe = Vec::new();
        for (d, &i) in self.dimensions.iter().zip(&index) {
            let value = match d {
                Dimension::Choice { values, .. } => values[i].clone(),
                Dimension::Optional { .. } => if i == 0 { "present" } else { "absent" }.to_string(),
                Dimension::Recipe { key, values, .. } => {
                    recipe.push((key.clone(), values[i].clone()));
                    values[i].clone()
                }
            };
            choices.insert(d.label(), value);
        }
        let mut lines = vec![String::new(); self.line_count];
        for kept in &self.kept {
            let present = kept.optional.is_none_or(|d| index[d] == 0);
            if !present {
                continue;
            }
            for (j, (line, code)) in kept.lines.iter().enumerate() {
                let mut code = code.clone();
                if kept.optional.is_some() && j == 0 {
                    code = code.replacen("optional(", "", 1);
                }
                if kept.optional.is_some()
                    && j + 1 == kept.lines.len()
                    && let Some(at) = code.rfind(')')
                {
                    code.remove(at);
                }
                for (d, &i) in self.dimensions.iter().zip(&index) {
                    if let Dimension::Choice { name, values, .. } = d {
                        code = substitute_line(&code, j, name, &values[i]);
                    }
                }
                lines[line - 1] = code;
            }
        }
        Point {
            index,
            choices,
            model_text: lines.join("\n") + "\n",
            recipe,
        }
    }
}

/// `code`, a statement's first line, with every use of `name` as a value replaced by `value`: whole
/// identifiers only, outside strings, not a keyword argument's name (`name=`) nor a module (`name(`), and
/// only right of the statement's `=`.
fn substitute(code: &str, name: &str, value: &str) -> String {
    match code.find('=') {
        Some(eq) => substitute_after(code, eq + 1, name, value),
        None => code.to_string(),
    }
}

/// [`substitute`] from byte `from` on: a continuation line of a statement is all arguments.
fn substitute_after(code: &str, from: usize, name: &str, value: &str) -> String {
    let (head, tail) = code.split_at(from);
    let chars: Vec<char> = tail.chars().collect();
    let mut out = String::from(head);
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            out.push(c);
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let prev = chars[..start].iter().rev().find(|c| !c.is_whitespace());
            let is_value = !matches!(next, Some('=') | Some('(')) && prev != Some(&'.');
            out.push_str(if word == name && is_value { value } else { &word });
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// [`substitute`] on line `j` of a statement (its first line from the `=`, a continuation line whole).
fn substitute_line(code: &str, j: usize, name: &str, value: &str) -> String {
    if j == 0 {
        substitute(code, name, value)
    } else {
        substitute_after(code, 0, name, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPACE: &str = "\
# a small space
input 1x28x28
c1 = choice(4, 6)
p = choice(0, 0.05)
block1 = Sequential(Conv2d(1, c1, 3, bias=False), ReLU(), BatchNorm2d(c1), Dropout(p))
extra = optional(Sequential(Conv2d(c1, c1, 3, padding=1, bias=False),
                            ReLU(), BatchNorm2d(c1)))
gap = AdaptiveAvgPool2d(1)
fc = Linear(c1, 10)
recipe.optimizer.lr = choice(0.05, 0.1)
recipe.augmentation.rotation = 5
";

    #[test]
    fn every_point_is_a_model_file_with_the_space_files_line_numbers() {
        let space = Space::parse("s.space", SPACE).unwrap();
        assert_eq!(space.points_count(), 2 * 2 * 2 * 2);
        let labels: Vec<String> = space.dimensions.iter().map(Dimension::label).collect();
        assert_eq!(
            labels,
            [
                "c1",
                "p",
                "extra",
                "recipe.optimizer.lr",
                "recipe.augmentation.rotation"
            ]
        );
        let first = space.point(0);
        assert_eq!(first.choices["c1"], "4");
        assert_eq!(first.choices["extra"], "present");
        assert_eq!(
            first.recipe,
            [
                ("optimizer.lr".to_string(), "0.05".to_string()),
                ("augmentation.rotation".into(), "5".into())
            ]
        );
        let spec = nnlab_model::ModelSpec::parse("p0", "s.space", &first.model_text).unwrap();
        assert_eq!(spec.statements.len(), 4);
        assert_eq!(spec.statements[1].line, 6, "the optional statement keeps its line");
        let last = space.point(space.points_count() - 1);
        assert_eq!(
            (last.choices["c1"].as_str(), last.choices["extra"].as_str()),
            ("6", "absent")
        );
        let spec = nnlab_model::ModelSpec::parse("p", "s.space", &last.model_text).unwrap();
        assert_eq!(spec.statements.len(), 3);
        assert!(last.model_text.contains("Conv2d(1, 6, 3, bias=False)") && last.model_text.contains("Dropout(0.05)"));
        let o = last.overrides();
        assert_eq!((o.lr, o.rotation), (Some(0.1), Some(5.0)));
    }

    #[test]
    fn a_plain_model_file_is_a_space_of_one_point() {
        let text = nnlab_model::shipped::SHIPPED[0].1;
        let space = Space::parse("seed.model", text).unwrap();
        assert_eq!(space.points_count(), 1);
        assert_eq!(
            space.point(0).model_text.trim_end(),
            text.lines()
                .map(|l| l.split('#').next().unwrap())
                .collect::<Vec<_>>()
                .join("\n")
                .trim_end()
        );
    }

    #[test]
    fn mistakes_name_the_line() {
        let bad = |text: &str| Space::parse("s.space", text).unwrap_err().to_string();
        assert_eq!(
            bad("input 1x28x28\nc = choice()\n"),
            "s.space:2: choice(…) needs one or more values, separated by commas"
        );
        assert!(bad("input 1x28x28\nc = choice(1, 1)\n").starts_with("s.space:2: choice(1, 1) repeats"));
        assert!(
            bad("input 1x28x28\nc = choice(1, 2)\nfc = Linear(784, 10)\n")
                .starts_with("s.space:2: 'c' is a choice no statement uses")
        );
        assert!(
            bad("input 1x28x28\nrecipe.optimizer.speed = choice(1, 2)\n")
                .starts_with("s.space:2: recipe.optimizer.speed: not a recipe key")
        );
        assert!(
            bad("input 1x28x28\nrecipe.optimizer.lr = choice(0.1, fast)\n")
                .starts_with("s.space:2: recipe.optimizer.lr: 'fast' is not")
        );
        assert!(bad("input 1x28x28\nConv2d = choice(1, 2)\n").starts_with("s.space:2: 'Conv2d' cannot name a choice"));
        assert!(bad("input 1x28x28\nc = choice(1, 2)\nc = choice(3)\n").starts_with("s.space:3: 'c' is defined twice"));
        assert!(bad("input 1x28x28\nx = optional(Linear(784, 10)\n").starts_with("s.space:2: unbalanced"));
    }

    #[test]
    fn names_are_replaced_only_where_they_are_values() {
        assert_eq!(
            substitute("a = Conv2d(c, c2, 3, c=c)", "c", "8"),
            "a = Conv2d(8, c2, 3, c=8)"
        );
        assert_eq!(
            substitute("a = Conv2d(1, 4, 3, padding='c')", "c", "8"),
            "a = Conv2d(1, 4, 3, padding='c')"
        );
        assert_eq!(substitute("c = Linear(c, 10)", "c", "8"), "c = Linear(8, 10)");
    }
}
