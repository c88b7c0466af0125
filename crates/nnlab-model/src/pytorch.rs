//! A model written out as a PyTorch module file: class `Net` with a no-argument constructor and a
//! `forward` returning log-softmax, whose `state_dict` keys and shapes equal nnlab's checkpoints, so a
//! run moves to PyTorch (GPU, DDP) and back.

use crate::spec::{Layer, ModelSpec, PlacedLayer};

/// The constructor call of one layer, every setting explicit (the module table's exporter).
fn constructor(layer: &Layer) -> String {
    (layer.kind().export)(layer)
}

/// Whether a layer needs the implied flatten before it (a `Linear` reached by a feature map).
fn needs_flatten(l: &PlacedLayer) -> bool {
    matches!(l.layer, Layer::Linear { .. }) && !l.input.flat
}

/// `convblock1.0.1` → `self.convblock1[0][1]`.
fn attribute(key: &str) -> String {
    let mut parts = key.split('.');
    let mut s = format!("self.{}", parts.next().unwrap_or_default());
    for p in parts {
        s += &format!("[{p}]");
    }
    s
}

/// The whole module file.
pub fn export(spec: &ModelSpec) -> String {
    const FLATTEN: &str = "        x = x.view(x.size(0), -1)\n";
    let mut init = String::new();
    let mut forward = String::new();
    for st in &spec.statements {
        let layers = &spec.layers[st.layers.clone()];
        init += &format!("        self.{} = {}\n", st.name, module_code(st.sequential, layers));
        let inner_flatten = layers.iter().skip(1).any(needs_flatten);
        if st.sequential && inner_flatten {
            // A flatten is implied inside the Sequential: run its layers one by one.
            for l in layers {
                if needs_flatten(l) {
                    forward += FLATTEN;
                }
                forward += &format!("        x = {}(x)\n", attribute(&l.key));
            }
        } else {
            if needs_flatten(&layers[0]) {
                forward += FLATTEN;
            }
            forward += &format!("        x = self.{}(x)\n", st.name);
        }
    }
    let source: String = spec
        .source
        .lines()
        .map(|l| format!("#   {l}\n").replace("#   \n", "#\n"))
        .collect();
    format!(
        r#""""PyTorch module of the nnlab model '{name}' ({params} parameters), written by `nnlab mnist export-pytorch`.

`Net()` has the same state_dict keys and shapes as nnlab's checkpoints:

    model = Net()
    load_nnlab_checkpoint(model, "runs/…/last.safetensors")       # nnlab → PyTorch
    safetensors.torch.save_file(model.state_dict(), "net.safetensors")
    # PyTorch → nnlab: nnlab mnist eval --model <the model file> --checkpoint net.safetensors
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

# The model file:
{source}

INPUT_SHAPE = ({c}, {h}, {w})


class Net(nn.Module):
    def __init__(self):
        super().__init__()
{init}
    def forward(self, x):
{forward}        x = x.view(x.size(0), -1)
        return F.log_softmax(x, dim=1)


def load_nnlab_checkpoint(model, path):
    """Loads an nnlab checkpoint, skipping its optimizer state (and an EMA run's weights under training)."""
    from safetensors.torch import load_file

    state = {{k: v for k, v in load_file(path).items() if not k.startswith(("optimizer.", "training."))}}
    model.load_state_dict(state)
    return model
"#,
        name = spec.name,
        params = spec.params(),
        c = spec.input[0],
        h = spec.input[1],
        w = spec.input[2],
    )
}

/// The constructor of a statement's module (a Sequential's children in order, nested ones included).
fn module_code(sequential: bool, layers: &[PlacedLayer]) -> String {
    if !sequential {
        return constructor(&layers[0].layer);
    }
    // Rebuild the nesting from the keys: `a.1.0` sits in the Sequential at `a.1`.
    fn build(prefix: &str, layers: &[PlacedLayer]) -> String {
        let mut children: Vec<String> = Vec::new();
        let mut i = 0;
        while i < layers.len() {
            let rest = &layers[i].key[prefix.len() + 1..];
            match rest.split_once('.') {
                None => {
                    children.push(constructor(&layers[i].layer));
                    i += 1;
                }
                Some((index, _)) => {
                    let sub = format!("{prefix}.{index}");
                    let n = layers[i..]
                        .iter()
                        .take_while(|l| l.key.starts_with(&format!("{sub}.")))
                        .count();
                    children.push(build(&sub, &layers[i..i + n]));
                    i += n;
                }
            }
        }
        format!("nn.Sequential({})", children.join(", "))
    }
    let prefix = layers[0].key.split('.').next().unwrap_or_default();
    build(prefix, layers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shipped::shipped;

    #[test]
    fn the_seed_model_as_pytorch() {
        let py = export(&shipped("seed").unwrap());
        assert!(py.contains(
            "        self.convblock1 = nn.Sequential(nn.Conv2d(1, 12, 3, stride=1, padding=0, dilation=1, groups=1, bias=False), nn.ReLU(), nn.BatchNorm2d(12, eps=1e-5, momentum=0.1), nn.Dropout(0.1))\n"
        ));
        assert!(py.contains("        self.pool1 = nn.MaxPool2d(2, stride=2)\n"));
        assert!(py.contains(
            "        x = self.global_avg_pool(x)\n        x = x.view(x.size(0), -1)\n        x = self.fc(x)\n"
        ));
        assert!(py.contains("class Net(nn.Module):"));
    }

    #[test]
    fn an_implied_flatten_inside_a_sequential_runs_it_layer_by_layer() {
        let m = ModelSpec::parse(
            "t",
            "t",
            "input 1x4x4\nhead = Sequential(Conv2d(1, 2, 3), Sequential(ReLU(), Linear(8, 3)))\n",
        )
        .unwrap();
        let py = export(&m);
        assert!(py.contains("self.head = nn.Sequential(nn.Conv2d(1, 2, 3, stride=1, padding=0, dilation=1, groups=1, bias=True), nn.Sequential(nn.ReLU(), nn.Linear(8, 3, bias=True)))"), "{py}");
        assert!(py.contains("        x = self.head[0](x)\n        x = self.head[1][0](x)\n        x = x.view(x.size(0), -1)\n        x = self.head[1][1](x)\n"), "{py}");
    }
}
