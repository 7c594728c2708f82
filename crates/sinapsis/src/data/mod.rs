//! Data loading and preparation, as `torch.utils.data` plus the data sets and preprocessing
//! the tutorials use: [`Dataset`]/[`DataLoader`], splits, synthetic data sets
//! (scikit-learn's generators), MNIST/Fashion-MNIST, tabular CSV, and transforms.

pub mod dataset;
pub mod loader;
pub mod mnist;
pub mod split;
pub mod synthetic;
pub mod tabular;
pub mod transforms;
