//! `[init]`: how parameters are initialised before training.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn default_scheme() -> String {
    "default".into()
}
fn std() -> f64 {
    0.01
}
fn relu() -> String {
    "relu".into()
}

/// The `[init]` table. Schemes: `"default"` (PyTorch's per-layer defaults),
/// `"kaiming_uniform"`, `"kaiming_normal"` (He, with `nonlinearity`, fan_in),
/// `"xavier_uniform"`, `"xavier_normal"` (Glorot, gain 1), `"orthogonal"`, `"normal"`
/// (N(0, std²)), `"zeros"`. They apply to the weights of linear and conv layers; biases
/// follow `bias`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitConfig {
    /// The scheme for every linear/conv weight ("default").
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// Per-layer overrides by index in the layer list: `layers = { "0" = "xavier_uniform" }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub layers: BTreeMap<String, String>,
    /// The nonlinearity whose gain the Kaiming schemes use ("relu").
    #[serde(default = "relu")]
    pub nonlinearity: String,
    /// Standard deviation of the "normal" scheme (0.01).
    #[serde(default = "std")]
    pub std: f64,
    /// Biases: `"default"` (PyTorch's uniform) or `"zeros"`.
    #[serde(default = "default_scheme")]
    pub bias: String,
    /// A safetensors file loaded (strictly, PyTorch names) after initialisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<String>,
}

impl Default for InitConfig {
    fn default() -> Self {
        InitConfig {
            scheme: default_scheme(),
            layers: BTreeMap::new(),
            nonlinearity: relu(),
            std: std(),
            bias: default_scheme(),
            init_from: None,
        }
    }
}

/// The schemes `[init]` accepts.
pub const SCHEMES: &[&str] = &[
    "default",
    "kaiming_uniform",
    "kaiming_normal",
    "xavier_uniform",
    "xavier_normal",
    "orthogonal",
    "normal",
    "zeros",
];

impl InitConfig {
    /// Checks scheme names.
    pub fn check(&self, p: &mut super::de::Problems) {
        let mut check = |key: String, s: &str| {
            if !SCHEMES.contains(&s) {
                p.push(format!(
                    "{key}: unknown scheme \"{s}\" (expected one of: {})",
                    SCHEMES.join(", ")
                ));
            }
        };
        check("init.scheme".into(), &self.scheme);
        for (k, v) in &self.layers {
            check(format!("init.layers.{k}"), v);
        }
        if !matches!(self.bias.as_str(), "default" | "zeros") {
            p.push(format!(
                "init.bias: unknown value \"{}\" (expected one of: default, zeros)",
                self.bias
            ));
        }
    }
}
