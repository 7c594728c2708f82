//! `[model]`: a built-in architecture or an explicit list of layers (`nn.Sequential`).

use serde::{Deserialize, Serialize};

/// A kernel size, stride or padding: one number for both sides or `[h, w]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Pair {
    /// The same value for height and width.
    One(usize),
    /// `[h, w]`.
    Two([usize; 2]),
}

impl Pair {
    /// `(h, w)`.
    pub fn hw(self) -> (usize, usize) {
        match self {
            Pair::One(v) => (v, v),
            Pair::Two([h, w]) => (h, w),
        }
    }
}

fn one() -> Pair {
    Pair::One(1)
}
fn zero() -> Pair {
    Pair::One(0)
}
fn yes() -> bool {
    true
}
fn half() -> f64 {
    0.5
}
fn groups() -> usize {
    1
}
fn dim1() -> i64 {
    1
}
fn last() -> i64 {
    -1
}
fn eps() -> f64 {
    1e-5
}
fn bn_momentum() -> f64 {
    0.1
}
fn slope() -> f64 {
    0.01
}
fn alpha() -> f64 {
    1.0
}
fn beta() -> f64 {
    1.0
}
fn threshold() -> f64 {
    20.0
}
fn approx() -> String {
    "none".into()
}
fn relu() -> String {
    "relu".into()
}

/// One layer of `model.layers`, written `{ type = "linear", out = 10 }`. Sizes marked
/// optional are inferred from the previous layer's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    /// `nn.Linear(in, out, bias)`.
    Linear {
        /// Input features (inferred when left out).
        #[serde(rename = "in", alias = "in_features", default)]
        in_features: Option<usize>,
        /// Output features.
        #[serde(rename = "out", alias = "out_features")]
        out_features: usize,
        /// Whether the layer has a bias.
        #[serde(default = "yes")]
        bias: bool,
    },
    /// `nn.Conv2d`.
    Conv2d {
        /// Input channels (inferred when left out).
        #[serde(default)]
        in_channels: Option<usize>,
        /// Output channels.
        out_channels: usize,
        /// Kernel size.
        kernel_size: Pair,
        /// Stride (1).
        #[serde(default = "one")]
        stride: Pair,
        /// Zero padding (0).
        #[serde(default = "zero")]
        padding: Pair,
        /// Dilation (1).
        #[serde(default = "one")]
        dilation: Pair,
        /// Groups (1).
        #[serde(default = "groups")]
        groups: usize,
        /// Whether the layer has a bias.
        #[serde(default = "yes")]
        bias: bool,
    },
    /// `nn.MaxPool2d` (stride defaults to the kernel size).
    Maxpool2d {
        /// Window size.
        kernel_size: Pair,
        /// Stride (the kernel size).
        #[serde(default)]
        stride: Option<Pair>,
        /// Padding (0).
        #[serde(default = "zero")]
        padding: Pair,
    },
    /// `nn.AvgPool2d` (stride defaults to the kernel size).
    Avgpool2d {
        /// Window size.
        kernel_size: Pair,
        /// Stride (the kernel size).
        #[serde(default)]
        stride: Option<Pair>,
        /// Padding (0).
        #[serde(default = "zero")]
        padding: Pair,
    },
    /// `nn.AdaptiveAvgPool2d(output_size)`.
    AdaptiveAvgpool2d {
        /// Output size.
        output_size: Pair,
    },
    /// `nn.BatchNorm1d` over `(N, C)` or `(N, C, L)`.
    Batchnorm1d {
        /// Channels (inferred).
        #[serde(default)]
        num_features: Option<usize>,
        /// Added to the variance (1e-5).
        #[serde(default = "eps")]
        eps: f64,
        /// Running-statistics momentum (0.1).
        #[serde(default = "bn_momentum")]
        momentum: f64,
    },
    /// `nn.BatchNorm2d` over `(N, C, H, W)`.
    Batchnorm2d {
        /// Channels (inferred).
        #[serde(default)]
        num_features: Option<usize>,
        /// Added to the variance (1e-5).
        #[serde(default = "eps")]
        eps: f64,
        /// Running-statistics momentum (0.1).
        #[serde(default = "bn_momentum")]
        momentum: f64,
    },
    /// `nn.LayerNorm(normalized_shape)` (default: the last dimension).
    Layernorm {
        /// Trailing shape normalised over (inferred: the last dimension).
        #[serde(default)]
        normalized_shape: Option<Vec<usize>>,
    },
    /// `nn.Dropout(p)`.
    Dropout {
        /// Probability of zeroing an element (0.5).
        #[serde(default = "half")]
        p: f64,
    },
    /// `nn.Dropout2d(p)`.
    Dropout2d {
        /// Probability of zeroing a channel (0.5).
        #[serde(default = "half")]
        p: f64,
    },
    /// `nn.Flatten(start_dim, end_dim)`.
    Flatten {
        /// First dimension merged (1).
        #[serde(default = "dim1")]
        start_dim: i64,
        /// Last dimension merged (-1).
        #[serde(default = "last")]
        end_dim: i64,
    },
    /// `nn.Identity()`.
    Identity {},
    /// `nn.ReLU()`.
    Relu {},
    /// `nn.LeakyReLU(negative_slope)`.
    LeakyRelu {
        /// Slope for negative inputs (0.01).
        #[serde(default = "slope")]
        negative_slope: f64,
    },
    /// `nn.Sigmoid()`.
    Sigmoid {},
    /// `nn.Tanh()`.
    Tanh {},
    /// `nn.GELU(approximate)`.
    Gelu {
        /// `"none"` (exact) or `"tanh"`.
        #[serde(default = "approx")]
        approximate: String,
    },
    /// `nn.SiLU()`.
    Silu {},
    /// `nn.ELU(alpha)`.
    Elu {
        /// Scale of the negative part (1).
        #[serde(default = "alpha")]
        alpha: f64,
    },
    /// `nn.Softplus(beta, threshold)`.
    Softplus {
        /// Sharpness (1).
        #[serde(default = "beta")]
        beta: f64,
        /// Linear above this (20).
        #[serde(default = "threshold")]
        threshold: f64,
    },
    /// `nn.Softmax(dim)`.
    Softmax {
        /// Dimension (1).
        #[serde(default = "dim1")]
        dim: i64,
    },
    /// `nn.LogSoftmax(dim)`.
    LogSoftmax {
        /// Dimension (1).
        #[serde(default = "dim1")]
        dim: i64,
    },
    /// A residual block `y = x + Linear(hidden, features)(act(Linear(features, hidden)(x)))`
    /// (`Residual(Sequential(Linear, act, Linear))`): the output has the input's shape.
    Residual {
        /// Input (and output) features (inferred when left out).
        #[serde(default)]
        features: Option<usize>,
        /// Width inside the block (default: `features`).
        #[serde(default)]
        hidden: Option<usize>,
        /// Activation between the two linear layers (`"relu"`).
        #[serde(default = "relu")]
        activation: String,
    },
}

impl LayerSpec {
    /// The `type` name as written in the config (`"linear"`).
    pub fn type_name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_object().and_then(|o| o.keys().next().cloned()))
            .unwrap_or_default()
    }

    /// An activation layer from its config name (`"relu"`), for `model.activation`.
    pub fn activation(name: &str) -> Option<LayerSpec> {
        Some(match name {
            "relu" => LayerSpec::Relu {},
            "leaky_relu" => LayerSpec::LeakyRelu {
                negative_slope: 0.01,
            },
            "sigmoid" => LayerSpec::Sigmoid {},
            "tanh" => LayerSpec::Tanh {},
            "gelu" => LayerSpec::Gelu {
                approximate: "none".into(),
            },
            "silu" => LayerSpec::Silu {},
            "elu" => LayerSpec::Elu { alpha: 1.0 },
            "softplus" => LayerSpec::Softplus {
                beta: 1.0,
                threshold: 20.0,
            },
            "identity" => LayerSpec::Identity {},
            _ => return None,
        })
    }
}

/// A built-in architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// Linear layers of `hidden` sizes with `activation` (and `dropout`) between them.
    Mlp,
    /// Residual MLP (tutorial 4): a linear layer to the width `hidden` (64) and the
    /// activation, then `blocks` (2) residual blocks `x + Linear(act(Linear(x)))`, each
    /// followed by the activation (and dropout), then the output layer.
    ResidualMlp,
    /// The reference MNIST CNN: conv(1→32, 3, pad 1), ReLU, maxpool 2, conv(32→64, 3,
    /// pad 1), ReLU, maxpool 2, flatten, linear(3136→128), ReLU, (dropout), linear(128→10).
    Cnn,
}

/// The `[model]` table: either `arch` (+ `hidden`, `activation`, `dropout`, `out`) or
/// `layers`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// A built-in architecture (exclusive with `layers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// Hidden layer sizes (mlp: `[100, 50]`; cnn: the width of its dense layer, `[128]`;
    /// residual_mlp: the width, `64`). One number is read as a list of one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "sizes::deserialize"
    )]
    pub hidden: Option<Vec<usize>>,
    /// residual_mlp: the number of residual blocks (2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<usize>,
    /// Activation between layers (`"relu"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<String>,
    /// Dropout after each hidden activation (0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropout: Option<f64>,
    /// Output features (default: 1 for bce/regression with one target, the number of
    /// classes for cross_entropy/nll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<usize>,
    /// An explicit layer list (exclusive with `arch`); parsed separately, entry by entry.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<LayerSpec>>,
}

/// `hidden = 64` or `hidden = [100, 50]`, both read as a list.
mod sizes {
    use std::fmt;

    use serde::de::{Error, SeqAccess, Visitor};
    use serde::Deserializer;

    struct Sizes;

    impl<'de> Visitor<'de> for Sizes {
        type Value = Vec<usize>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a size (64) or a list of sizes ([100, 50])")
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(vec![v as usize])
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
            usize::try_from(v)
                .map(|v| vec![v])
                .map_err(|_| E::custom(format!("expected a positive size, got {v}")))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element::<usize>()? {
                out.push(v);
            }
            Ok(out)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<usize>>, D::Error> {
        d.deserialize_any(Sizes).map(Some)
    }
}
