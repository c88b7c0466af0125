//! What the network sees, for one prepared image, written once for `nnlab mnist inspect`, `eval
//! --gallery` and `POST /api/inspect`: the ten probabilities, every statement's output (its feature maps),
//! the first convolution's filters, a saliency map (|∂score/∂input| of the predicted class's logit) and
//! Grad-CAM on the last spatial statement. Gradients come from the engine's own backward pass through the
//! model's evaluation-mode function ([`nnlab_model::frozen`]), so any model file works.

use nnlab_mnist::data::{MEAN, STD};
use nnlab_model::{Layer, Network, frozen};
use nnlab_nn::{Mode, Tensor, softmax_rows};
use serde::Serialize;

use crate::classify::PIXELS;

/// Where a statement's outputs sit on the 28×28 input: output (i, j) is centred on input pixel
/// (start + i·jump, start + j·jump) and sees `rf` × `rf` pixels around it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Geometry {
    /// Receptive field along one axis, in input pixels.
    pub rf: usize,
    /// Input pixels between adjacent outputs.
    pub jump: usize,
    /// Input coordinate of the first output's centre (may be fractional or negative with padding).
    pub start: f64,
}

/// One statement's output for the image.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureMaps {
    /// The statement's name in the model file.
    pub name: String,
    /// [channels, height, width] (a flattened or pooled output is [features, 1, 1]).
    pub shape: [usize; 3],
    /// Smallest value.
    pub min: f32,
    /// Largest value.
    pub max: f32,
    /// Where the outputs sit on the input (None after global pooling or flattening).
    pub geometry: Option<Geometry>,
    /// The values, channel by channel, row by row.
    #[serde(skip)]
    pub values: Vec<f32>,
}

impl FeatureMaps {
    /// Whether the output is an image (height or width above 1), drawn as a grid of maps.
    pub fn is_spatial(&self) -> bool {
        self.shape[1] > 1 || self.shape[2] > 1
    }

    /// Channel `c`'s map, row by row.
    pub fn channel(&self, c: usize) -> &[f32] {
        let plane = self.shape[1] * self.shape[2];
        &self.values[c * plane..(c + 1) * plane]
    }
}

/// The first convolution's weights: [out channels, in channels, k, k].
#[derive(Debug, Clone, Serialize)]
pub struct Filters {
    /// The statement holding the convolution.
    pub name: String,
    /// [out, in, k, k].
    pub shape: [usize; 4],
    /// The weights, filter by filter.
    pub values: Vec<f32>,
}

/// Everything `inspect` shows for one image.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The 28×28 input, in [0, 1] with 1 = ink.
    pub input: Vec<f32>,
    /// The ten probabilities.
    pub probabilities: Vec<f32>,
    /// The most probable digit (the class the maps explain).
    pub digit: usize,
    /// Every statement's output, in file order.
    pub layers: Vec<FeatureMaps>,
    /// The first convolution's filters, when the model has one.
    pub filters: Option<Filters>,
    /// |∂logit/∂input|, scaled to [0, 1], 28×28.
    pub saliency: Vec<f32>,
    /// Grad-CAM on [`Inspection::gradcam_layer`], upsampled to 28×28 and scaled to [0, 1].
    pub gradcam: Vec<f32>,
    /// The statement Grad-CAM is taken on (the last with a spatial output).
    pub gradcam_layer: String,
}

/// Each statement's output geometry (None from global pooling or flattening on), in file order.
pub fn geometries(net: &Network) -> Vec<Option<Geometry>> {
    let spec = net.spec();
    let mut out = vec![None; spec.statements.len()];
    let (mut rf, mut jump, mut start, mut spatial) = (1usize, 1usize, 0.0f64, true);
    for placed in &spec.layers {
        match placed.layer {
            Layer::GlobalAvgPool | Layer::Flatten | Layer::Linear { .. } => spatial = false,
            layer => {
                let (span, stride) = layer.window();
                let pad = if let Layer::Conv2d(c) = layer { c.pad } else { 0 };
                start += ((span as f64 - 1.0) / 2.0 - pad as f64) * jump as f64;
                rf += (span - 1) * jump;
                jump *= stride;
            }
        }
        out[placed.statement] = spatial.then_some(Geometry { rf, jump, start });
    }
    out
}

/// Normalises a prepared input as the training data is, as one [1, 1, 28, 28] batch.
fn batch(input: &[f32]) -> Tensor {
    Tensor::from_vec([1, 1, 28, 28], input.iter().map(|v| (v - MEAN) / STD).collect())
}

/// Scales non-negative values so the largest is 1 (all zeros stay zeros).
fn unit_scaled(mut values: Vec<f32>) -> Vec<f32> {
    let max = values.iter().copied().fold(0.0f32, f32::max);
    if max > 0.0 {
        values.iter_mut().for_each(|v| *v /= max);
    }
    values
}

/// A map on a statement's output grid, bilinearly resampled onto the 28×28 input by its geometry.
fn upsample(map: &[f32], h: usize, w: usize, g: Geometry) -> Vec<f32> {
    let at = |p: usize, n: usize| {
        let u = ((p as f64 - g.start) / g.jump as f64).clamp(0.0, (n - 1) as f64);
        let i0 = u.floor() as usize;
        (i0, (i0 + 1).min(n - 1), (u - i0 as f64) as f32)
    };
    (0..PIXELS)
        .map(|k| {
            let ((y0, y1, fy), (x0, x1, fx)) = (at(k / 28, h), at(k % 28, w));
            let v = |y: usize, x: usize| map[y * w + x];
            let top = v(y0, x0) * (1.0 - fx) + v(y0, x1) * fx;
            let bottom = v(y1, x0) * (1.0 - fx) + v(y1, x1) * fx;
            top * (1.0 - fy) + bottom * fy
        })
        .collect()
}

/// Grad-CAM: ReLU(Σ_c α_c·A_c) with α_c the mean of ∂score/∂A_c over the map, for maps A of `shape`.
fn gradcam(shape: [usize; 3], activations: &[f32], grads: &[f32]) -> Vec<f32> {
    let [c, h, w] = shape;
    let plane = h * w;
    let mut cam = vec![0.0f32; plane];
    for ch in 0..c {
        let alpha = grads[ch * plane..(ch + 1) * plane].iter().sum::<f32>() / plane as f32;
        for (v, a) in cam.iter_mut().zip(&activations[ch * plane..(ch + 1) * plane]) {
            *v += alpha * a;
        }
    }
    cam.iter_mut().for_each(|v| *v = v.max(0.0));
    cam
}

/// The first convolution's weights, with its statement's name.
fn first_filters(net: &Network) -> Option<Filters> {
    let spec = net.spec();
    let placed = spec.layers.iter().find(|l| matches!(l.layer, Layer::Conv2d(_)))?;
    let Layer::Conv2d(c) = placed.layer else { return None };
    let key = format!("{}.weight", placed.key);
    let (_, weight) = net.named_params().into_iter().find(|(k, _)| *k == key)?;
    Some(Filters {
        name: spec.statements[placed.statement].name.clone(),
        shape: [c.cout, c.cin / c.groups, c.k, c.k],
        values: weight.value.clone(),
    })
}

/// Inspects one prepared input (784 values in [0, 1], 1 = ink) with a trained network, Grad-CAM on the
/// last statement with a spatial output.
pub fn inspect(net: &Network, input: Vec<f32>) -> Inspection {
    inspect_at(net, input, None).expect("the default Grad-CAM statement always exists")
}

/// [`inspect`], with Grad-CAM on the statement named `gradcam_on` (an error names it when it has no
/// spatial output or does not exist).
pub fn inspect_at(net: &Network, input: Vec<f32>, gradcam_on: Option<&str>) -> crate::Result<Inspection> {
    let mut f = frozen(net);
    let (logits, trace) = f.forward_traced(batch(&input), Mode::Train);
    let probabilities = softmax_rows(&logits.data, logits.data.len()).remove(0);
    let digit = (0..probabilities.len())
        .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]).then(b.cmp(&a)))
        .unwrap_or(0);
    let mut seed = vec![0.0; logits.data.len()];
    seed[digit] = 1.0;
    let (dx, grads) = f.backward_to_input(Tensor::from_vec(logits.shape, seed));
    let geometry = geometries(net);
    let names: Vec<&str> = net.spec().statements.iter().map(|s| s.name.as_str()).collect();
    let kinds: Vec<bool> = f.execution_plan().iter().map(|p| p.ends_with(": ReLU")).collect();
    // A statement's output is its last engine layer's output. Grad-CAM weighs the statement's last ReLU
    // output when it has one of the same shape (non-negative activations, as Grad-CAM assumes; a
    // BatchNorm after the ReLU makes the statement's output signed), else the output itself.
    let mut layers: Vec<FeatureMaps> = Vec::new();
    let mut cam_inputs: Vec<(Vec<f32>, Vec<f32>)> = Vec::new();
    let mut relu: Option<(Vec<f32>, Vec<f32>, [usize; 4])> = None;
    for (((name, mut out), mut grad), is_relu) in trace.into_iter().zip(grads).zip(kinds) {
        if layers.last().is_some_and(|l| l.name == name) {
            layers.pop();
            cam_inputs.pop();
        } else {
            relu = None;
        }
        if is_relu {
            relu = Some((out.data.clone(), grad.data.clone(), out.shape));
        }
        let [_, c, h, w] = out.shape;
        let min = out.data.iter().copied().fold(f32::INFINITY, f32::min);
        let max = out.data.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let index = names.iter().position(|n| *n == name).unwrap_or(0);
        let cam_input = match &relu {
            Some((a, g, shape)) if *shape == out.shape => (a.clone(), g.clone()),
            _ => (out.data.clone(), std::mem::take(&mut grad.data)),
        };
        layers.push(FeatureMaps {
            geometry: geometry[index],
            name,
            shape: [c, h, w],
            min,
            max,
            values: std::mem::take(&mut out.data),
        });
        cam_inputs.push(cam_input);
    }
    let spatial = |l: &FeatureMaps| l.is_spatial() && l.geometry.is_some();
    let last_spatial = match gradcam_on {
        None => layers.iter().rposition(spatial),
        Some(name) => {
            let i = layers.iter().position(|l| l.name == name).ok_or_else(|| {
                crate::AppError::invalid(format!("Grad-CAM layer '{name}': the model has no such statement"))
            })?;
            if !spatial(&layers[i]) {
                return Err(crate::AppError::invalid(format!(
                    "Grad-CAM layer '{name}': its output is not a spatial map ({:?})",
                    layers[i].shape
                )));
            }
            Some(i)
        }
    };
    let (gradcam, gradcam_layer) = match last_spatial {
        Some(i) => {
            let [_, h, w] = layers[i].shape;
            let (activations, grads) = &cam_inputs[i];
            let cam = gradcam(layers[i].shape, activations, grads);
            let geometry = layers[i].geometry.expect("a spatial statement has a geometry");
            (unit_scaled(upsample(&cam, h, w, geometry)), layers[i].name.clone())
        }
        None => (vec![0.0; PIXELS], String::new()),
    };
    Ok(Inspection {
        saliency: unit_scaled(dx.data.iter().map(|g| g.abs()).collect()),
        filters: first_filters(net),
        input,
        probabilities,
        digit,
        layers,
        gradcam,
        gradcam_layer,
    })
}

/// 784 values as 28 rows of 28.
fn rows(values: &[f32]) -> Vec<&[f32]> {
    values.chunks(28).collect()
}

impl Inspection {
    /// The JSON document of `inspect --json` and `POST /api/inspect`: `digit`, `probabilities`, `input`,
    /// `saliency` and `gradcam` (28×28 arrays), `gradcam_layer`, `layers` ([{`name`, `shape`, `min`, `max`,
    /// `rf`, `jump`, `start`}], geometry null after global pooling) and, with `with_values`, each spatial
    /// layer's `values` (channel by channel, row by row) and the first layer's `filters`.
    pub fn to_json(&self, with_values: bool) -> serde_json::Value {
        let layers: Vec<serde_json::Value> = self
            .layers
            .iter()
            .map(|l| {
                let mut v = serde_json::json!({
                    "name": l.name, "shape": l.shape, "min": l.min, "max": l.max,
                    "rf": l.geometry.map(|g| g.rf), "jump": l.geometry.map(|g| g.jump),
                    "start": l.geometry.map(|g| g.start),
                });
                if with_values && l.is_spatial() {
                    v["values"] = serde_json::json!(l.values);
                }
                v
            })
            .collect();
        let mut doc = serde_json::json!({
            "digit": self.digit,
            "probabilities": self.probabilities,
            "input": rows(&self.input),
            "saliency": rows(&self.saliency),
            "gradcam": rows(&self.gradcam),
            "gradcam_layer": self.gradcam_layer,
            "layers": layers,
        });
        if with_values {
            doc["filters"] = serde_json::json!(self.filters);
        }
        doc
    }
}

/// The fraction of a non-negative map's mass inside the ink's bounding box (pixels above `ink`), for
/// checking that a map points at the digit.
pub fn mass_inside_ink_box(map: &[f32], input: &[f32], ink: f32) -> f64 {
    let inked: Vec<usize> = (0..PIXELS).filter(|&k| input[k] > ink).collect();
    if inked.is_empty() {
        return 0.0;
    }
    let (rows, cols) = (inked.iter().map(|k| k / 28), inked.iter().map(|k| k % 28));
    let (r0, r1) = (rows.clone().min().unwrap_or(0), rows.max().unwrap_or(27));
    let (c0, c1) = (cols.clone().min().unwrap_or(0), cols.max().unwrap_or(27));
    let total: f64 = map.iter().map(|&v| v as f64).sum();
    let inside: f64 = (0..PIXELS)
        .filter(|k| (r0..=r1).contains(&(k / 28)) && (c0..=c1).contains(&(k % 28)))
        .map(|k| map[k] as f64)
        .sum();
    if total > 0.0 { inside / total } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nnlab_model::shipped;

    fn stroke() -> Vec<f32> {
        (0..PIXELS)
            .map(|k| {
                if (k % 28).abs_diff(14) <= 1 && (6..22).contains(&(k / 28)) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    }

    #[test]
    fn every_statement_is_reported_once_with_the_summary_geometry() {
        let net = Network::new(&shipped("small8k").unwrap(), 1);
        let report = inspect(&net, stroke());
        let names: Vec<&str> = report.layers.iter().map(|l| l.name.as_str()).collect();
        let statements: Vec<&str> = net.spec().statements.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, statements);
        let summary = nnlab_model::summarize(net.spec());
        for (l, s) in report.layers.iter().zip(&summary) {
            assert_eq!(l.shape, s.output, "{}", l.name);
            if let Some(g) = l.geometry {
                assert_eq!((g.rf, g.jump), (s.rf, s.jump), "{}", l.name);
            }
        }
        assert_eq!(report.gradcam_layer, "block6");
        // The first layer's filters: one 3×3 kernel on the one input channel per output channel.
        assert_eq!(report.filters.as_ref().unwrap().shape, [summary[0].output[0], 1, 3, 3]);
        assert!((report.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        for map in [&report.saliency, &report.gradcam] {
            assert_eq!(map.len(), PIXELS);
            assert!(map.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }

    /// A valid convolution shifts the first output's centre by (k − 1)/2; padding 1 keeps it.
    #[test]
    fn geometry_follows_padding_and_pooling() {
        let net = Network::new(&shipped("small8k").unwrap(), 1);
        let g = geometries(&net);
        let start = |i: usize| g[i].unwrap().start;
        assert_eq!(start(0), 1.0);
        assert_eq!(start(1), 2.0);
        assert_eq!(start(2), 2.0);
        assert_eq!((start(3), g[3].unwrap().jump), (2.5, 2));
        assert!(g.last().unwrap().is_none());
    }

    #[test]
    fn upsampling_a_constant_map_gives_the_constant_and_mass_is_measured_in_the_box() {
        let g = Geometry {
            rf: 10,
            jump: 4,
            start: 3.5,
        };
        assert!(upsample(&[2.0; 36], 6, 6, g).iter().all(|&v| (v - 2.0).abs() < 1e-6));
        let ink = stroke();
        assert_eq!(mass_inside_ink_box(&ink, &ink, 0.5), 1.0);
        let mut outside = vec![0.0; PIXELS];
        outside[0] = 1.0;
        assert_eq!(mass_inside_ink_box(&outside, &ink, 0.5), 0.0);
    }
}
