//! `nnlab mnist predict`: the digit in your own images (any size, colour or grey, either polarity).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use nnlab_app::classify::{classify, prepare_file};
use nnlab_mnist::training::Checkpoint;

/// Arguments of `nnlab mnist predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The checkpoint to use.
    #[arg(long, value_name = "FILE")]
    checkpoint: PathBuf,
    /// The model, for a checkpoint that does not describe itself (a PyTorch state_dict saved with
    /// safetensors.torch.save_file); nnlab's own checkpoints carry their model.
    #[arg(long, value_name = "NAME|FILE")]
    model: Option<String>,
    /// Images (PNG, JPEG, …), directories of images, or glob patterns such as 'digits/*.png'.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// One JSON object per image instead of text.
    #[arg(long)]
    json: bool,
    /// Refuse images wider or taller than this many pixels (read from the header, before decoding).
    #[arg(long, value_name = "PIXELS", default_value_t = nnlab_app::image_input::DEFAULT_MAX_SIDE)]
    max_image_side: u32,
}

const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "bmp", "gif", "webp"];

fn is_image_name(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// `*` and `?` wildcards against a whole file name.
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&pattern[1..], name) || (!name.is_empty() && wildcard(pattern, &name[1..])),
        (Some(b'?'), Some(_)) => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// Expands the arguments into files: directories give their image files, patterns their matches.
fn expand(args: &[String]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for arg in args {
        let path = PathBuf::from(arg);
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|e| anyhow::anyhow!("{arg}: cannot read the directory: {e}"))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_image_name(p))
                .collect();
            if found.is_empty() {
                bail!(
                    "{arg}: the directory has no image files ({})",
                    IMAGE_EXTENSIONS.join(", ")
                );
            }
            found.sort();
            files.extend(found);
        } else if arg.contains(['*', '?']) {
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let pattern = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
                .map_err(|e| anyhow::anyhow!("{arg}: cannot read {}: {e}", parent.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.file_name()
                            .is_some_and(|n| wildcard(pattern.as_bytes(), n.to_string_lossy().as_bytes()))
                })
                .collect();
            if found.is_empty() {
                bail!("{arg}: no file matches the pattern");
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

/// Runs `nnlab mnist predict`; exits non-zero when any image could not be read.
pub fn run(args: PredictArgs) -> Result<()> {
    if !args.checkpoint.is_file() {
        bail!("--checkpoint {}: no such file", args.checkpoint.display());
    }
    let given = args.model.as_deref().map(super::model_args::load).transpose()?;
    let mut model = Checkpoint::load(&args.checkpoint, given.as_ref())?.model;
    let files = expand(&args.images)?;
    let mut failures = 0;
    for file in &files {
        let shown = file.display().to_string();
        match prepare_file(file, args.max_image_side) {
            Err(reason) => {
                failures += 1;
                if args.json {
                    println!("{}", serde_json::json!({ "file": shown, "error": reason }));
                }
                eprintln!("{shown}: {reason}");
            }
            Ok(input) => {
                let ranked = classify(&mut model, input).ranked();
                let top3 = &ranked[..3];
                if args.json {
                    let top: Vec<_> = top3
                        .iter()
                        .map(|(d, p)| serde_json::json!({ "digit": d, "probability": p }))
                        .collect();
                    println!(
                        "{}",
                        serde_json::json!({ "file": shown, "digit": top3[0].0, "top3": top })
                    );
                } else {
                    let rest: Vec<String> = top3.iter().map(|(d, p)| format!("{d} {:.3}", p)).collect();
                    println!("{shown}: {}   (top 3: {})", top3[0].0, rest.join(", "));
                }
            }
        }
    }
    if failures > 0 {
        bail!("{failures} of {} images could not be read", files.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_names() {
        assert!(wildcard(b"*.png", b"seven.png"));
        assert!(wildcard(b"d?git-*.jpg", b"digit-3.jpg"));
        assert!(!wildcard(b"*.png", b"seven.jpg"));
        assert!(!wildcard(b"a?", b"a"));
    }
}
