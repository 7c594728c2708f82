//! Activation modules: stateless wrappers over the tensor functions of the same name.

use super::Module;
use crate::{Result, Tensor};

macro_rules! activation {
    ($(#[$doc:meta])* $name:ident, |$x:ident| $body:expr) => {
        activation!($(#[$doc])* $name, |$x| $body, is_relu = false);
    };
    ($(#[$doc:meta])* $name:ident, |$x:ident| $body:expr, is_relu = $relu:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Module for $name {
            fn forward(&self, $x: &Tensor) -> Result<Tensor> {
                $body
            }
            fn is_relu(&self) -> bool {
                $relu
            }
            fn type_name(&self) -> String {
                stringify!($name).into()
            }
        }
    };
}

activation!(
    /// `max(x, 0)` (`nn.ReLU`).
    ///
    /// ```
    /// use sinapsis::nn::{Module, ReLU};
    /// let y = ReLU.forward(&sinapsis::Tensor::new(&[-1.0f32, 2.0])?)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![0.0, 2.0]);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    ReLU,
    |x| x.relu(),
    is_relu = true
);
activation!(
    /// `1 / (1 + e^-x)` (`nn.Sigmoid`).
    Sigmoid,
    |x| x.sigmoid()
);
activation!(
    /// `tanh(x)` (`nn.Tanh`).
    Tanh,
    |x| x.tanh()
);
activation!(
    /// `x * sigmoid(x)` (`nn.SiLU`).
    SiLU,
    |x| x.silu()
);

/// `x` for `x > 0`, `negative_slope * x` otherwise (`nn.LeakyReLU`, default slope 0.01).
#[derive(Clone, Copy, Debug)]
pub struct LeakyReLU {
    pub negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU {
            negative_slope: 0.01,
        }
    }
}

impl Module for LeakyReLU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.leaky_relu(self.negative_slope)
    }
    fn type_name(&self) -> String {
        "LeakyReLU".into()
    }
    fn extra_repr(&self) -> String {
        format!("negative_slope={}", py_float(self.negative_slope))
    }
}

/// GELU (`nn.GELU`): the exact erf form by default, or the tanh approximation.
#[derive(Clone, Copy, Debug, Default)]
pub struct GELU {
    pub tanh_approximation: bool,
}

impl Module for GELU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if self.tanh_approximation {
            x.gelu_tanh()
        } else {
            x.gelu()
        }
    }
    fn type_name(&self) -> String {
        "GELU".into()
    }
    fn extra_repr(&self) -> String {
        let a = if self.tanh_approximation {
            "tanh"
        } else {
            "none"
        };
        format!("approximate='{a}'")
    }
}

/// `x` for `x > 0`, `alpha (e^x - 1)` otherwise (`nn.ELU`, default alpha 1).
#[derive(Clone, Copy, Debug)]
pub struct ELU {
    pub alpha: f64,
}

impl Default for ELU {
    fn default() -> Self {
        ELU { alpha: 1.0 }
    }
}

impl Module for ELU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.elu(self.alpha)
    }
    fn type_name(&self) -> String {
        "ELU".into()
    }
    fn extra_repr(&self) -> String {
        format!("alpha={}", py_float(self.alpha))
    }
}

/// `log(1 + e^(beta x)) / beta`, linear above `threshold` (`nn.Softplus`, defaults 1, 20).
#[derive(Clone, Copy, Debug)]
pub struct Softplus {
    pub beta: f64,
    pub threshold: f64,
}

impl Default for Softplus {
    fn default() -> Self {
        Softplus {
            beta: 1.0,
            threshold: 20.0,
        }
    }
}

impl Module for Softplus {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.softplus_with(self.beta, self.threshold)
    }
    fn type_name(&self) -> String {
        "Softplus".into()
    }
    fn extra_repr(&self) -> String {
        format!(
            "beta={}, threshold={}",
            py_float(self.beta),
            py_float(self.threshold)
        )
    }
}

/// Softmax along `dim` (`nn.Softmax(dim)`).
#[derive(Clone, Copy, Debug)]
pub struct Softmax {
    pub dim: i64,
}

impl Module for Softmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.softmax(self.dim)
    }
    fn type_name(&self) -> String {
        "Softmax".into()
    }
    fn extra_repr(&self) -> String {
        format!("dim={}", self.dim)
    }
}

/// Log-softmax along `dim` (`nn.LogSoftmax(dim)`).
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmax {
    pub dim: i64,
}

impl Module for LogSoftmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.log_softmax(self.dim)
    }
    fn type_name(&self) -> String {
        "LogSoftmax".into()
    }
    fn extra_repr(&self) -> String {
        format!("dim={}", self.dim)
    }
}

/// A float as Python prints it (`1.0`, `0.01`, `1e-05`).
pub(crate) fn py_float(v: f64) -> String {
    if v != 0.0 && v.abs() < 1e-4 {
        let s = format!("{v:e}");
        // Rust gives `1e-5`; Python gives `1e-05`.
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                let sign = if sign == "+" { "" } else { "-" };
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else if v == v.trunc() && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}
