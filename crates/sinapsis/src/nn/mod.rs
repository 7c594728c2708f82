//! Neural-network building blocks, as in `torch.nn`: the [`Module`] abstraction, layers,
//! containers, initialisers ([`init`]) and losses ([`loss`]).

mod activation;
mod basic;
mod container;
mod conv;
mod dropout;
pub mod init;
mod linear;
pub mod loss;
mod module;
mod norm;
mod residual;

pub use activation::{
    LeakyReLU, LogSoftmax, ReLU, SiLU, Sigmoid, Softmax, Softplus, Tanh, ELU, GELU,
};
pub use basic::{Embedding, Flatten, Identity};
pub use container::{ModuleList, Sequential};
pub use conv::{AdaptiveAvgPool2d, AvgPool2d, Conv2d, MaxPool2d};
pub use dropout::{Dropout, Dropout2d};
pub use linear::Linear;
pub use module::{Module, ModuleExt, StateDict};
pub use norm::{BatchNorm1d, BatchNorm2d, LayerNorm};
pub use residual::Residual;
