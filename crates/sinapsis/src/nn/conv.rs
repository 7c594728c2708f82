//! Convolution and pooling layers.

use super::init::{kaiming_uniform_, uniform_, FanMode};
use super::linear::py_bool;
use super::Module;
use crate::{Conv2dOptions, DType, Error, IntoPair, Result, Tensor};

/// 2-d convolution (`nn.Conv2d`), weight `(out, in / groups, kh, kw)`, PyTorch's default
/// initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in/groups * kh * kw.
///
/// # Shapes
/// `(N, C_in, H, W)` to `(N, C_out, H_out, W_out)`.
///
/// ```
/// use sinapsis::nn::{Conv2d, Module};
/// use sinapsis::{Conv2dOptions, Tensor, DType};
/// let conv = Conv2d::new(1, 32, 3, Conv2dOptions::default().padding(1))?;
/// let y = conv.forward(&Tensor::zeros((2, 1, 28, 28), DType::F32)?)?;
/// assert_eq!(y.dims(), &[2, 32, 28, 28]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub struct Conv2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub options: Conv2dOptions,
}

impl Conv2d {
    /// A float32 convolution with a bias.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: impl IntoPair,
        options: Conv2dOptions,
    ) -> Result<Conv2d> {
        Conv2d::with_bias(in_channels, out_channels, kernel, options, true)
    }

    /// A float32 convolution, with or without a bias.
    pub fn with_bias(
        in_channels: usize,
        out_channels: usize,
        kernel: impl IntoPair,
        options: Conv2dOptions,
        bias: bool,
    ) -> Result<Conv2d> {
        let (kh, kw) = kernel.into_pair();
        let g = options.groups;
        if g == 0 || in_channels % g != 0 || out_channels % g != 0 {
            return Err(Error::InvalidArgument {
                op: "Conv2d",
                msg: format!("in_channels {in_channels} and out_channels {out_channels} must be divisible by groups {g}"),
            });
        }
        let weight = Tensor::zeros((out_channels, in_channels / g, kh, kw), DType::F32)?;
        kaiming_uniform_(&weight, 5f64.sqrt(), FanMode::FanIn, "leaky_relu")?;
        let bias = if bias {
            let fan_in = (in_channels / g) * kh * kw;
            let bound = if fan_in > 0 {
                1.0 / (fan_in as f64).sqrt()
            } else {
                0.0
            };
            let b = Tensor::zeros(out_channels, DType::F32)?;
            uniform_(&b, -bound, bound)?;
            Some(b.requires_grad_(true)?)
        } else {
            None
        };
        Ok(Conv2d {
            weight: weight.requires_grad_(true)?,
            bias,
            options,
        })
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.conv2d(&self.weight, self.bias.as_ref(), self.options)
    }
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }
    fn type_name(&self) -> String {
        "Conv2d".into()
    }
    fn extra_repr(&self) -> String {
        let d = self.weight.dims();
        let o = &self.options;
        let mut s = format!(
            "{}, {}, kernel_size=({}, {}), stride=({}, {})",
            d[1] * o.groups,
            d[0],
            d[2],
            d[3],
            o.stride.0,
            o.stride.1
        );
        if o.padding != (0, 0) {
            s.push_str(&format!(", padding=({}, {})", o.padding.0, o.padding.1));
        }
        if o.dilation != (1, 1) {
            s.push_str(&format!(", dilation=({}, {})", o.dilation.0, o.dilation.1));
        }
        if o.groups != 1 {
            s.push_str(&format!(", groups={}", o.groups));
        }
        if self.bias.is_none() {
            s.push_str(&format!(", bias={}", py_bool(false)));
        }
        s
    }
}

fn pair_repr((a, b): (usize, usize)) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("({a}, {b})")
    }
}

/// A pooling layer's window: kernel, stride (PyTorch's default: the kernel size) and padding,
/// with the builders both pooling layers share.
macro_rules! pool_layer {
    ($(#[$doc:meta])* $name:ident, $pad:literal) => {
        $(#[$doc])*
        pub struct $name {
            pub kernel: (usize, usize),
            pub stride: (usize, usize),
            pub padding: (usize, usize),
        }

        impl $name {
            /// Windows of `kernel`, moved by `kernel` (no overlap), no padding.
            pub fn new(kernel: impl IntoPair) -> $name {
                let k = kernel.into_pair();
                $name {
                    kernel: k,
                    stride: k,
                    padding: (0, 0),
                }
            }
            /// Sets the stride.
            pub fn stride(mut self, s: impl IntoPair) -> Self {
                self.stride = s.into_pair();
                self
            }
            #[doc = concat!("Sets the padding (", $pad, ").")]
            pub fn padding(mut self, p: impl IntoPair) -> Self {
                self.padding = p.into_pair();
                self
            }
            /// `kernel_size=.., stride=.., padding=..` as PyTorch prints it.
            fn window_repr(&self) -> String {
                format!(
                    "kernel_size={}, stride={}, padding={}",
                    pair_repr(self.kernel),
                    pair_repr(self.stride),
                    pair_repr(self.padding)
                )
            }
        }
    };
}

pool_layer!(
    /// Max pooling (`nn.MaxPool2d`); PyTorch's default stride is the kernel size.
    MaxPool2d,
    "-inf"
);
pool_layer!(
    /// Average pooling (`nn.AvgPool2d`, `count_include_pad=True`); default stride = kernel.
    AvgPool2d,
    "zeros"
);

impl Module for MaxPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.max_pool2d(self.kernel, self.stride, self.padding)
    }
    fn type_name(&self) -> String {
        "MaxPool2d".into()
    }
    fn extra_repr(&self) -> String {
        format!("{}, dilation=1, ceil_mode=False", self.window_repr())
    }
}

impl Module for AvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.avg_pool2d(self.kernel, self.stride, self.padding)
    }
    fn type_name(&self) -> String {
        "AvgPool2d".into()
    }
    fn extra_repr(&self) -> String {
        self.window_repr()
    }
}

/// Average pooling to a fixed output size (`nn.AdaptiveAvgPool2d`).
pub struct AdaptiveAvgPool2d {
    pub output_size: (usize, usize),
}

impl AdaptiveAvgPool2d {
    pub fn new(output_size: impl IntoPair) -> AdaptiveAvgPool2d {
        AdaptiveAvgPool2d {
            output_size: output_size.into_pair(),
        }
    }
}

impl Module for AdaptiveAvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.adaptive_avg_pool2d(self.output_size)
    }
    fn type_name(&self) -> String {
        "AdaptiveAvgPool2d".into()
    }
    fn extra_repr(&self) -> String {
        format!("output_size={}", pair_repr(self.output_size))
    }
}
