//! The model: layer list (explicit or from `arch`), shape inference with messages naming
//! `model.layers[i]`, construction and initialisation.

use crate::build::data::DataSpec;
use crate::config::{Arch, Experiment, InitConfig, LayerSpec, LossConfig, ModelConfig};
use sinapsis::nn::init::{
    kaiming_normal_, kaiming_uniform_, normal_, orthogonal_, xavier_normal_, xavier_uniform_,
    zeros_, FanMode,
};
use sinapsis::nn::*;
use sinapsis::{Conv2dOptions, Error, Result, Tensor};
use std::sync::Arc;

/// One layer as `summary` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerInfo {
    /// Index in the Sequential (`"0"`), also the parameter-name prefix.
    pub name: String,
    /// PyTorch's class name (`"Linear"`).
    pub type_name: String,
    /// Output shape per sample (without the batch dimension).
    pub output_shape: Vec<usize>,
    /// Number of parameters.
    pub params: usize,
}

fn bad(msg: String) -> Error {
    Error::InvalidArgument { op: "model", msg }
}

fn shape_str(s: &[usize]) -> String {
    let inner: Vec<String> = std::iter::once("-1".to_string())
        .chain(s.iter().map(|d| d.to_string()))
        .collect();
    format!("[{}]", inner.join(", "))
}

/// The explicit layer list of `model`: `layers` as given, or the one `arch` stands for,
/// ending in `out` features (and a sigmoid for bce, log_softmax for nll).
pub fn expand(model: &ModelConfig, loss: Option<&LossConfig>) -> Result<Vec<LayerSpec>> {
    if model.blocks.is_some() && model.arch != Some(Arch::ResidualMlp) {
        return Err(bad(
            "model.blocks: only used with arch = \"residual_mlp\"".into()
        ));
    }
    if let Some(l) = &model.layers {
        return Ok(l.clone());
    }
    let arch = model
        .arch
        .ok_or_else(|| bad("give arch or layers".into()))?;
    let out = model
        .out
        .ok_or_else(|| bad("model.out: the number of outputs is unknown".into()))?;
    let act = LayerSpec::activation(model.activation.as_deref().unwrap_or("relu"))
        .ok_or_else(|| bad("model.activation: unknown activation".into()))?;
    let dropout = model.dropout.unwrap_or(0.0);
    let linear = |o: usize| LayerSpec::Linear {
        in_features: None,
        out_features: o,
        bias: true,
    };
    let mut layers = Vec::new();
    match arch {
        Arch::Mlp => {
            for &h in model.hidden.as_deref().unwrap_or(&[100]) {
                layers.push(linear(h));
                layers.push(act.clone());
                if dropout > 0.0 {
                    layers.push(LayerSpec::Dropout { p: dropout });
                }
            }
        }
        Arch::Cnn => {
            let conv = |o: usize| LayerSpec::Conv2d {
                in_channels: None,
                out_channels: o,
                kernel_size: crate::config::Pair::One(3),
                stride: crate::config::Pair::One(1),
                padding: crate::config::Pair::One(1),
                dilation: crate::config::Pair::One(1),
                groups: 1,
                bias: true,
            };
            let pool = LayerSpec::Maxpool2d {
                kernel_size: crate::config::Pair::One(2),
                stride: None,
                padding: crate::config::Pair::One(0),
            };
            for c in [32, 64] {
                layers.extend([conv(c), act.clone(), pool.clone()]);
            }
            layers.push(LayerSpec::Flatten {
                start_dim: 1,
                end_dim: -1,
            });
            for &h in model.hidden.as_deref().unwrap_or(&[128]) {
                layers.push(linear(h));
                layers.push(act.clone());
                if dropout > 0.0 {
                    layers.push(LayerSpec::Dropout { p: dropout });
                }
            }
        }
        Arch::ResidualMlp => {
            let width = match model.hidden.as_deref() {
                None => 64,
                Some([w]) if *w > 0 => *w,
                Some(other) => {
                    return Err(bad(format!(
                        "model.hidden: residual_mlp takes one positive width (hidden = 64), got {other:?}"
                    )))
                }
            };
            let blocks = model.blocks.unwrap_or(2);
            if blocks == 0 {
                return Err(bad(
                    "model.blocks: residual_mlp needs at least 1 residual block, got 0".into(),
                ));
            }
            layers.push(linear(width));
            layers.push(act.clone());
            for _ in 0..blocks {
                layers.push(LayerSpec::Residual {
                    features: None,
                    hidden: Some(width),
                    activation: model.activation.clone().unwrap_or_else(|| "relu".into()),
                });
                layers.push(act.clone());
                if dropout > 0.0 {
                    layers.push(LayerSpec::Dropout { p: dropout });
                }
            }
        }
    }
    layers.push(linear(out));
    match loss {
        Some(LossConfig::Bce {}) => layers.push(LayerSpec::Sigmoid {}),
        Some(LossConfig::Nll {}) => layers.push(LayerSpec::LogSoftmax { dim: 1 }),
        _ => {}
    }
    Ok(layers)
}

/// Output shape (per sample) of `spec` on an input of per-sample shape `s`, filling the
/// sizes left out; errors name `model.layers[i]`.
fn infer(i: usize, spec: &mut LayerSpec, s: &[usize]) -> std::result::Result<Vec<usize>, String> {
    let at = format!("model.layers[{i}] ({})", spec.type_name());
    let window = |h: usize, k: usize, st: usize, p: usize, d: usize| -> Option<usize> {
        let eff = d * (k.max(1) - 1) + 1;
        (h + 2 * p).checked_sub(eff).map(|v| v / st.max(1) + 1)
    };
    let image = |s: &[usize]| -> std::result::Result<(usize, usize, usize), String> {
        match s {
            [c, h, w] => Ok((*c, *h, *w)),
            _ => Err(format!(
                "{at}: expects images (C, H, W) but the previous layer outputs {}; set data.flatten = false for image data",
                shape_str(s)
            )),
        }
    };
    Ok(match spec {
        LayerSpec::Linear {
            in_features,
            out_features,
            ..
        } => {
            let Some(&last) = s.last() else {
                return Err(format!("{at}: cannot follow a scalar output"));
            };
            if s.len() > 1 && in_features.is_none_or(|f| f != last) {
                return Err(format!(
                    "{at}: expects {} input features but gets {}; add {{ type = \"flatten\" }} before it (or set data.flatten = true)",
                    in_features.map_or(s.iter().product::<usize>(), |f| f),
                    shape_str(s)
                ));
            }
            match in_features {
                Some(f) if *f != last => {
                    return Err(format!(
                        "{at}: in = {f} but the previous layer outputs {last} features (shape {})",
                        shape_str(s)
                    ))
                }
                _ => *in_features = Some(last),
            }
            let mut o = s.to_vec();
            *o.last_mut().expect("non-empty") = *out_features;
            o
        }
        LayerSpec::Conv2d {
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            ..
        } => {
            let (c, h, w) = image(s)?;
            if let Some(ic) = in_channels {
                if *ic != c {
                    return Err(format!(
                        "{at}: in_channels = {ic} but the input has {c} channels (shape {})",
                        shape_str(s)
                    ));
                }
            }
            *in_channels = Some(c);
            if *groups == 0 || c % *groups != 0 || *out_channels % *groups != 0 {
                return Err(format!("{at}: in_channels {c} and out_channels {out_channels} must be divisible by groups {groups}"));
            }
            let (k, st, p, d) = (kernel_size.hw(), stride.hw(), padding.hw(), dilation.hw());
            match (
                window(h, k.0, st.0, p.0, d.0),
                window(w, k.1, st.1, p.1, d.1),
            ) {
                (Some(oh), Some(ow)) if oh > 0 && ow > 0 => vec![*out_channels, oh, ow],
                _ => {
                    return Err(format!(
                        "{at}: kernel {k:?} is larger than the padded input {}",
                        shape_str(s)
                    ))
                }
            }
        }
        LayerSpec::Maxpool2d {
            kernel_size,
            stride,
            padding,
        }
        | LayerSpec::Avgpool2d {
            kernel_size,
            stride,
            padding,
        } => {
            let (c, h, w) = image(s)?;
            let k = kernel_size.hw();
            let st = stride.unwrap_or(*kernel_size).hw();
            let p = padding.hw();
            match (window(h, k.0, st.0, p.0, 1), window(w, k.1, st.1, p.1, 1)) {
                (Some(oh), Some(ow)) if oh > 0 && ow > 0 => vec![c, oh, ow],
                _ => {
                    return Err(format!(
                        "{at}: window {k:?} is larger than the input {}",
                        shape_str(s)
                    ))
                }
            }
        }
        LayerSpec::AdaptiveAvgpool2d { output_size } => {
            let (c, ..) = image(s)?;
            let (h, w) = output_size.hw();
            vec![c, h, w]
        }
        LayerSpec::Batchnorm1d { num_features, .. } => {
            if !(1..=2).contains(&s.len()) {
                return Err(format!(
                    "{at}: expects (N, C) or (N, C, L) but gets {}",
                    shape_str(s)
                ));
            }
            if num_features.is_some_and(|n| n != s[0]) {
                return Err(format!(
                    "{at}: num_features = {} but the input has {} features",
                    num_features.unwrap_or(0),
                    s[0]
                ));
            }
            *num_features = Some(s[0]);
            s.to_vec()
        }
        LayerSpec::Batchnorm2d { num_features, .. } => {
            let (c, ..) = image(s)?;
            if num_features.is_some_and(|n| n != c) {
                return Err(format!(
                    "{at}: num_features = {} but the input has {c} channels",
                    num_features.unwrap_or(0)
                ));
            }
            *num_features = Some(c);
            s.to_vec()
        }
        LayerSpec::Layernorm { normalized_shape } => {
            let ns = normalized_shape
                .get_or_insert_with(|| s.last().map(|d| vec![*d]).unwrap_or_default());
            if ns.is_empty() || ns.len() > s.len() || s[s.len() - ns.len()..] != ns[..] {
                return Err(format!(
                    "{at}: normalized_shape {ns:?} does not match the end of {}",
                    shape_str(s)
                ));
            }
            s.to_vec()
        }
        LayerSpec::Dropout { p } | LayerSpec::Dropout2d { p } => {
            if !(0.0..=1.0).contains(p) {
                return Err(format!("{at}: p must be in [0, 1], got {p}"));
            }
            s.to_vec()
        }
        LayerSpec::Flatten { start_dim, end_dim } => {
            // Dims count the batch, as in PyTorch.
            let full: Vec<usize> = std::iter::once(1).chain(s.iter().copied()).collect();
            let r = full.len() as i64;
            let norm = |d: i64| if d < 0 { d + r } else { d };
            let (a, b) = (norm(*start_dim), norm(*end_dim));
            if a < 1 || b >= r || a > b {
                return Err(format!("{at}: start_dim {start_dim} / end_dim {end_dim} do not fit {} (the batch dimension stays)", shape_str(s)));
            }
            let (a, b) = (a as usize, b as usize);
            let mut o: Vec<usize> = full[1..a].to_vec();
            o.push(full[a..=b].iter().product());
            o.extend(&full[b + 1..]);
            o
        }
        LayerSpec::Softmax { dim } | LayerSpec::LogSoftmax { dim } => {
            let r = s.len() as i64 + 1;
            if *dim < -r || *dim >= r {
                return Err(format!(
                    "{at}: dim {dim} is out of range for {}",
                    shape_str(s)
                ));
            }
            s.to_vec()
        }
        LayerSpec::Residual {
            features,
            hidden,
            activation,
        } => {
            let Some(&last) = s.last() else {
                return Err(format!("{at}: cannot follow a scalar output"));
            };
            match features {
                Some(f) if *f != last => {
                    return Err(format!(
                        "{at}: features = {f} but the previous layer outputs {last} features (shape {})",
                        shape_str(s)
                    ))
                }
                _ => *features = Some(last),
            }
            if *hidden.get_or_insert(last) == 0 {
                return Err(format!("{at}: hidden must be at least 1"));
            }
            if LayerSpec::activation(activation).is_none() {
                return Err(format!(
                    "{at}: unknown activation \"{activation}\" (expected one of: relu, leaky_relu, sigmoid, tanh, gelu, silu, elu, softplus, identity)"
                ));
            }
            s.to_vec()
        }
        LayerSpec::Gelu { approximate } => {
            if !matches!(approximate.as_str(), "none" | "tanh") {
                return Err(format!(
                    "{at}: approximate must be \"none\" or \"tanh\", got \"{approximate}\""
                ));
            }
            s.to_vec()
        }
        _ => s.to_vec(),
    })
}

/// The checked layer list of an experiment: expanded, sizes filled in, per-sample output
/// shapes, and the loss checked against the output. All problems in one error.
pub fn plan(exp: &Experiment, spec: &DataSpec) -> Result<Vec<(LayerSpec, Vec<usize>)>> {
    let mut model = exp.model.clone();
    if model.arch.is_some() && model.out.is_none() {
        model.out = Some(default_out(&exp.loss, spec));
    }
    let layers = expand(&model, Some(&exp.loss))?;
    let mut problems = Vec::new();
    let mut shape = spec.input_shape.clone();
    let mut out = Vec::new();
    for (i, mut l) in layers.into_iter().enumerate() {
        match infer(i, &mut l, &shape) {
            Ok(s) => {
                shape = s.clone();
                out.push((l, s));
            }
            Err(e) => {
                problems.push(e);
                break;
            }
        }
    }
    if problems.is_empty() {
        if let Some(p) = check_loss(&exp.loss, &out, spec) {
            problems.push(p);
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(Error::InvalidArgument {
            op: "config",
            msg: problems.join("\n  - "),
        })
    }
}

/// Outputs a model needs for this loss and data: 1 for bce, the class count for
/// cross_entropy/nll, the target width for regression.
pub fn default_out(loss: &LossConfig, spec: &DataSpec) -> usize {
    match loss {
        LossConfig::Bce {} | LossConfig::BceWithLogits {} => 1,
        LossConfig::CrossEntropy { .. } | LossConfig::Nll {} => spec.num_classes.max(2),
        _ => spec.target_width.max(1),
    }
}

fn check_loss(
    loss: &LossConfig,
    layers: &[(LayerSpec, Vec<usize>)],
    spec: &DataSpec,
) -> Option<String> {
    let (last, shape) = layers.last()?;
    let feats = if shape.len() == 1 {
        shape[0]
    } else {
        return Some(format!("loss: the model outputs {} per sample; a loss needs (N, features): add a flatten layer", shape_str(shape)));
    };
    let name = |l: &LossConfig| {
        serde_json::to_value(l)
            .ok()
            .and_then(|v| v.as_object().and_then(|o| o.keys().next().cloned()))
            .unwrap_or_default()
    };
    let ty = name(loss);
    let sig = matches!(last, LayerSpec::Sigmoid {});
    let soft = matches!(last, LayerSpec::Softmax { .. });
    let logsoft = matches!(last, LayerSpec::LogSoftmax { .. });
    match loss {
        LossConfig::Bce {} | LossConfig::BceWithLogits {} => {
            if spec.num_classes > 2 {
                return Some(format!("loss.type = \"{ty}\" is for two classes but the data has {}; use cross_entropy", spec.num_classes));
            }
            if feats != 1 {
                return Some(format!("loss.type = \"{ty}\" needs 1 output feature (the score of class 1) but the model outputs {feats}; end with {{ type = \"linear\", out = 1 }} or use cross_entropy"));
            }
            if matches!(loss, LossConfig::Bce {}) && !sig {
                return Some("loss.type = \"bce\" expects probabilities but the model does not end with a sigmoid: add { type = \"sigmoid\" } or use loss.type = \"bce_with_logits\" (more stable)".into());
            }
            if matches!(loss, LossConfig::BceWithLogits {}) && sig {
                return Some("loss.type = \"bce_with_logits\" applies the sigmoid itself but the model ends with a sigmoid: remove it or use loss.type = \"bce\"".into());
            }
        }
        LossConfig::CrossEntropy { label_smoothing } => {
            if !(0.0..=1.0).contains(label_smoothing) {
                return Some(format!(
                    "loss.label_smoothing: expected a value in [0, 1], got {label_smoothing}"
                ));
            }
            if feats < 2 {
                return Some(format!("loss.type = \"cross_entropy\" needs one output per class but the model outputs {feats}; for one output use bce_with_logits"));
            }
            if spec.num_classes > 0 && feats != spec.num_classes {
                return Some(format!("loss.type = \"cross_entropy\": the model outputs {feats} scores but the data has {} classes", spec.num_classes));
            }
            if soft || logsoft || sig {
                return Some(format!("loss.type = \"cross_entropy\" expects raw logits but the model ends with {}: remove it (or use nll after log_softmax)", last.type_name()));
            }
        }
        LossConfig::Nll {} => {
            if feats < 2 || (spec.num_classes > 0 && feats != spec.num_classes) {
                return Some(format!("loss.type = \"nll\": the model outputs {feats} scores but the data has {} classes", spec.num_classes));
            }
            if !logsoft {
                return Some("loss.type = \"nll\" expects log-probabilities: end the model with { type = \"log_softmax\" } or use cross_entropy".into());
            }
        }
        _ => {
            if spec.num_classes > 0 {
                return Some(format!("loss.type = \"{ty}\" is a regression loss but the data is a classification task; use bce or cross_entropy"));
            }
            if feats != spec.target_width {
                return Some(format!("loss.type = \"{ty}\": the model outputs {feats} values but the data has {} targets", spec.target_width));
            }
        }
    }
    None
}

fn init_weight(w: &Tensor, scheme: &str, init: &InitConfig) -> Result<()> {
    let nl = init.nonlinearity.as_str();
    match scheme {
        "default" => Ok(()),
        "kaiming_uniform" => kaiming_uniform_(w, 0.0, FanMode::FanIn, nl),
        "kaiming_normal" => kaiming_normal_(w, 0.0, FanMode::FanIn, nl),
        "xavier_uniform" => xavier_uniform_(w, 1.0),
        "xavier_normal" => xavier_normal_(w, 1.0),
        "orthogonal" => orthogonal_(w, 1.0),
        "normal" => normal_(w, 0.0, init.std),
        "zeros" => zeros_(w),
        other => Err(bad(format!("init.scheme: unknown scheme \"{other}\""))),
    }
}

/// One layer as a module, its weights initialised by `scheme` (a residual block's inner
/// linear layers too).
fn make_layer(spec: &LayerSpec, scheme: &str, init: &InitConfig) -> Result<Arc<dyn Module>> {
    let weights = |w: &Tensor, b: Option<&Tensor>| -> Result<()> {
        init_weight(w, scheme, init)?;
        if let (Some(b), "zeros") = (b, init.bias.as_str()) {
            zeros_(b)?;
        }
        Ok(())
    };
    Ok(match spec {
        LayerSpec::Linear {
            in_features,
            out_features,
            bias,
        } => {
            let l = Linear::with_options(
                in_features.unwrap_or(0),
                *out_features,
                *bias,
                sinapsis::DType::F32,
            )?;
            weights(&l.weight, l.bias.as_ref())?;
            Arc::new(l)
        }
        LayerSpec::Conv2d {
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
        } => {
            let opts = Conv2dOptions {
                stride: stride.hw(),
                padding: padding.hw(),
                dilation: dilation.hw(),
                groups: *groups,
            };
            let c = Conv2d::with_bias(
                in_channels.unwrap_or(0),
                *out_channels,
                kernel_size.hw(),
                opts,
                *bias,
            )?;
            weights(&c.weight, c.bias.as_ref())?;
            Arc::new(c)
        }
        LayerSpec::Maxpool2d {
            kernel_size,
            stride,
            padding,
        } => Arc::new(
            MaxPool2d::new(kernel_size.hw())
                .stride(stride.unwrap_or(*kernel_size).hw())
                .padding(padding.hw()),
        ),
        LayerSpec::Avgpool2d {
            kernel_size,
            stride,
            padding,
        } => Arc::new(
            AvgPool2d::new(kernel_size.hw())
                .stride(stride.unwrap_or(*kernel_size).hw())
                .padding(padding.hw()),
        ),
        LayerSpec::AdaptiveAvgpool2d { output_size } => {
            Arc::new(AdaptiveAvgPool2d::new(output_size.hw()))
        }
        LayerSpec::Batchnorm1d {
            num_features,
            eps,
            momentum,
        } => Arc::new(
            BatchNorm1d::new(num_features.unwrap_or(0))?
                .eps(*eps)
                .momentum(*momentum),
        ),
        LayerSpec::Batchnorm2d {
            num_features,
            eps,
            momentum,
        } => Arc::new(
            BatchNorm2d::new(num_features.unwrap_or(0))?
                .eps(*eps)
                .momentum(*momentum),
        ),
        LayerSpec::Layernorm { normalized_shape } => {
            Arc::new(LayerNorm::new(normalized_shape.as_deref().unwrap_or(&[]))?)
        }
        LayerSpec::Dropout { p } => Arc::new(Dropout::new(*p)?),
        LayerSpec::Dropout2d { p } => Arc::new(Dropout2d::new(*p)?),
        LayerSpec::Flatten { start_dim, end_dim } => Arc::new(Flatten {
            start_dim: *start_dim,
            end_dim: *end_dim,
        }),
        LayerSpec::Identity {} => Arc::new(Identity),
        LayerSpec::Relu {} => Arc::new(ReLU),
        LayerSpec::LeakyRelu { negative_slope } => Arc::new(LeakyReLU {
            negative_slope: *negative_slope,
        }),
        LayerSpec::Sigmoid {} => Arc::new(Sigmoid),
        LayerSpec::Tanh {} => Arc::new(Tanh),
        LayerSpec::Gelu { approximate } => Arc::new(GELU {
            tanh_approximation: approximate == "tanh",
        }),
        LayerSpec::Silu {} => Arc::new(SiLU),
        LayerSpec::Elu { alpha } => Arc::new(ELU { alpha: *alpha }),
        LayerSpec::Softplus { beta, threshold } => Arc::new(Softplus {
            beta: *beta,
            threshold: *threshold,
        }),
        LayerSpec::Softmax { dim } => Arc::new(Softmax { dim: *dim }),
        LayerSpec::LogSoftmax { dim } => Arc::new(LogSoftmax { dim: *dim }),
        LayerSpec::Residual {
            features,
            hidden,
            activation,
        } => {
            let f = features.unwrap_or(0);
            let h = hidden.unwrap_or(f);
            let act = LayerSpec::activation(activation).unwrap_or(LayerSpec::Relu {});
            let linear = |i: usize, o: usize| LayerSpec::Linear {
                in_features: Some(i),
                out_features: o,
                bias: true,
            };
            let mut block = Sequential::new();
            for inner in [linear(f, h), act, linear(h, f)] {
                block.push_shared(make_layer(&inner, scheme, init)?);
            }
            Arc::new(Residual::new(block))
        }
    })
}

/// Builds a checked layer list (from [`plan`]) into a `Sequential`, seeding the default
/// generator with `seed` first so the weights are reproducible, then applying `init`.
pub fn build_layers(
    layers: &[(LayerSpec, Vec<usize>)],
    init: &InitConfig,
    seed: u64,
) -> Result<(Sequential, Vec<LayerInfo>)> {
    sinapsis::manual_seed(seed);
    let mut seq = Sequential::new();
    let mut infos = Vec::new();
    for (i, (spec, shape)) in layers.iter().enumerate() {
        let scheme = init
            .layers
            .get(&i.to_string())
            .unwrap_or(&init.scheme)
            .as_str();
        let layer = make_layer(spec, scheme, init)?;
        let params = layer.parameters().iter().map(|p| p.numel()).sum::<usize>();
        infos.push(LayerInfo {
            name: i.to_string(),
            type_name: layer.type_name(),
            output_shape: shape.clone(),
            params,
        });
        seq.push_shared(layer);
    }
    Ok((seq, infos))
}

/// Builds `model` for inputs of per-sample shape `input_shape` (the brief's entry point
/// for a model whose output size is known: explicit layers, or `arch` with `out` set).
pub fn build_model(
    model: &ModelConfig,
    input_shape: &[usize],
    init: &InitConfig,
    seed: u64,
) -> Result<(Sequential, Vec<LayerInfo>)> {
    let layers = expand(model, None)?;
    let mut shape = input_shape.to_vec();
    let mut planned = Vec::new();
    for (i, mut l) in layers.into_iter().enumerate() {
        shape = infer(i, &mut l, &shape).map_err(bad)?;
        planned.push((l, shape.clone()));
    }
    build_layers(&planned, init, seed)
}

/// Plans and builds the model of an experiment (checks included).
pub fn build_for(exp: &Experiment, spec: &DataSpec) -> Result<(Sequential, Vec<LayerInfo>)> {
    build_layers(&plan(exp, spec)?, &exp.init, exp.seed)
}
