//! The data: generated, MNIST or CSV samples, split into train/val/test, scaled with
//! statistics fitted on the training part, targets shaped for the loss.

use crate::config::{DataConfig, DataSource, Experiment, LossConfig, Normalization};
use sinapsis::data::dataset::{Dataset, Subset, TensorDataset};
use sinapsis::data::mnist::{DatasetKind, Mnist, Split};
use sinapsis::data::split::{random_split_fractions, train_test_split, TestSize};
use sinapsis::data::synthetic::*;
use sinapsis::data::tabular::{Header, Missing, TabularCsv, Task};
use sinapsis::data::transforms::*;
use sinapsis::{DType, Error, Generator, Result, Tensor};
use std::path::PathBuf;
use std::sync::Arc;

/// What the model needs to know about the data before any sample is loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSpec {
    /// Per-sample input shape (`[2]`, `[784]`, `[1, 28, 28]`).
    pub input_shape: Vec<usize>,
    /// Number of classes (0 for regression).
    pub num_classes: usize,
    /// Class names (`["0", "1"]`, MNIST's digits, the CSV's labels); empty for regression.
    pub class_names: Vec<String>,
    /// Classification or regression.
    pub task: Task,
    /// Width of a regression target (1 for classification).
    pub target_width: usize,
}

/// Ready-to-use data sets.
pub struct Data {
    /// Training samples (augmented if configured).
    pub train: Arc<dyn Dataset>,
    /// Validation samples (when `data.val_split > 0`).
    pub val: Option<Arc<dyn Dataset>>,
    /// Test samples.
    pub test: Arc<dyn Dataset>,
    /// Shapes, classes and task.
    pub spec: DataSpec,
    /// The fitted preprocessing (a serialised [`Compose`]) to save in checkpoints and
    /// apply to new inputs at prediction time.
    pub transforms: serde_json::Value,
}

fn numbered(k: usize) -> Vec<String> {
    (0..k).map(|i| i.to_string()).collect()
}

/// The MNIST folder: `data.path`, else `$SINAPSIS_DATA_DIR/<name>`, else
/// `../shared/data/<name>`.
pub fn mnist_dir(cfg: &DataConfig) -> PathBuf {
    let name = if cfg.source == DataSource::FashionMnist {
        "fashion_mnist"
    } else {
        "mnist"
    };
    if let Some(p) = &cfg.path {
        return PathBuf::from(p);
    }
    match std::env::var("SINAPSIS_DATA_DIR") {
        Ok(d) if !d.is_empty() => PathBuf::from(d).join(name),
        _ => PathBuf::from("../shared/data").join(name),
    }
}

fn csv_options(cfg: &DataConfig) -> TabularCsv {
    let header = match cfg.header.as_deref() {
        Some("none") => Header::None,
        Some("sklearn") => Header::Sklearn,
        _ => Header::Named,
    };
    let mut o = match &cfg.target {
        Some(t) => TabularCsv::new(t.clone()),
        None => TabularCsv::target_last(),
    }
    .header(header)
    .task(if cfg.task.as_deref() == Some("regression") {
        Task::Regression
    } else {
        Task::Classification
    })
    .missing(match cfg.missing.as_deref() {
        Some("mean") => Missing::Mean,
        Some("median") => Missing::Median,
        Some("most_frequent") => Missing::MostFrequent,
        _ => Missing::Error,
    })
    .categorical(cfg.categorical.clone())
    .delimiter(
        cfg.delimiter
            .as_deref()
            .and_then(|d| d.bytes().next())
            .unwrap_or(b','),
    );
    if let Some(f) = &cfg.features {
        o = o.features(f.clone());
    }
    o
}

/// Input shape, classes and task of the experiment's data, without generating samples
/// (a CSV file is read; MNIST is not).
pub fn describe(exp: &Experiment) -> Result<DataSpec> {
    let d = &exp.data;
    let class = |input: usize, k: usize| DataSpec {
        input_shape: vec![input],
        num_classes: k,
        class_names: numbered(k),
        task: Task::Classification,
        target_width: 1,
    };
    Ok(match d.source {
        DataSource::Circles | DataSource::Moons | DataSource::ToyCircle => class(2, 2),
        DataSource::Blobs => class(d.n_features.unwrap_or(2), d.centers.unwrap_or(3)),
        DataSource::Classification => class(d.n_features.unwrap_or(20), d.n_classes.unwrap_or(2)),
        DataSource::Regression => DataSpec {
            input_shape: vec![d.n_features.unwrap_or(100)],
            num_classes: 0,
            class_names: Vec::new(),
            task: Task::Regression,
            target_width: d.n_targets.unwrap_or(1),
        },
        DataSource::Mnist | DataSource::FashionMnist => {
            let kind = if d.source == DataSource::Mnist {
                DatasetKind::Mnist
            } else {
                DatasetKind::FashionMnist
            };
            DataSpec {
                input_shape: if d.flatten {
                    vec![784]
                } else {
                    vec![1, 28, 28]
                },
                num_classes: 10,
                class_names: kind.classes().iter().map(|s| s.to_string()).collect(),
                task: Task::Classification,
                target_width: 1,
            }
        }
        DataSource::Csv => {
            let t = csv_options(d).load(d.path.as_deref().unwrap_or(""))?;
            spec_of_table(&t)
        }
    })
}

fn spec_of_table(t: &sinapsis::data::tabular::TabularData) -> DataSpec {
    let classes: Vec<String> = t.encoder.classes().map(|c| c.to_vec()).unwrap_or_default();
    let regression = classes.is_empty();
    DataSpec {
        input_shape: vec![t.num_features()],
        num_classes: classes.len(),
        class_names: classes,
        task: if regression {
            Task::Regression
        } else {
            Task::Classification
        },
        target_width: if regression && t.target.rank() == 2 {
            t.target.dims()[1]
        } else {
            1
        },
    }
}

/// Targets in the form the loss takes: `(N, 1)` floats for bce, class indices (i64) for
/// cross_entropy/nll, `(N, W)` floats for regression.
fn shape_targets(y: &Tensor, loss: &LossConfig) -> Result<Tensor> {
    let n = y.dims()[0];
    if loss.is_binary() {
        y.to_dtype(DType::F32)?.reshape((n, 1))
    } else if loss.is_classification() {
        y.to_dtype(DType::I64)
    } else {
        let w = y.numel() / n.max(1);
        y.to_dtype(DType::F32)?.reshape((n, w))
    }
}

/// Loads, splits and scales the data of an experiment.
pub fn build_data(exp: &Experiment) -> Result<Data> {
    let d = &exp.data;
    if d.source.is_image() {
        return build_images(exp);
    }
    let (x, y, spec) = generate(exp)?;
    let n = x.dims()[0];
    let labels = if d.stratify && spec.task == Task::Classification {
        Some(y.to_dtype(DType::I64)?.to_vec::<i64>()?)
    } else {
        None
    };
    let (train_idx, test_idx) = train_test_split(
        n,
        TestSize::Fraction(d.test_size),
        true,
        exp.seed,
        labels.as_deref(),
    )?;
    let all = TensorDataset::new(vec![x, shape_targets(&y, &exp.loss)?])?;
    let mut train = all.get_batch(&train_idx)?;
    let mut test = all.get_batch(&test_idx)?;
    let mut steps = Compose::new();
    match &d.normalize {
        Normalization::Named(n) if n == "standard" => {
            let s = StandardScaler::fit(&train[0])?;
            train[0] = s.transform(&train[0])?;
            test[0] = s.transform(&test[0])?;
            steps = steps.then(s);
        }
        Normalization::Named(n) if n == "minmax" => {
            let s = MinMaxScaler::fit(&train[0], (0.0, 1.0))?;
            train[0] = s.transform(&train[0])?;
            test[0] = s.transform(&test[0])?;
            steps = steps.then(s);
        }
        Normalization::Stats { .. } => {
            return Err(Error::InvalidArgument {
                op: "config",
                msg: "data.normalize: { mean, std } is for images; use \"standard\" or \"minmax\""
                    .into(),
            })
        }
        _ => {}
    }
    let train = Arc::new(TensorDataset::new(train)?);
    let test: Arc<dyn Dataset> = Arc::new(TensorDataset::new(test)?);
    let (train, val) = hold_out(train, d.val_split, exp.seed)?;
    Ok(Data {
        train,
        val,
        test,
        spec,
        transforms: serde_json::to_value(&steps).unwrap_or_default(),
    })
}

fn hold_out<D: Dataset + ?Sized + 'static>(
    train: Arc<D>,
    val_split: f64,
    seed: u64,
) -> Result<(Arc<dyn Dataset>, Option<Arc<dyn Dataset>>)> {
    if val_split <= 0.0 {
        let t: Arc<dyn Dataset> = Arc::new(train);
        return Ok((t, None));
    }
    let parts = random_split_fractions(
        train.len(),
        &[1.0 - val_split, val_split],
        seed.wrapping_add(1),
    )?;
    let t: Arc<dyn Dataset> = Arc::new(Subset::new(train.clone(), parts[0].clone())?);
    let v: Arc<dyn Dataset> = Arc::new(Subset::new(train, parts[1].clone())?);
    Ok((t, Some(v)))
}

fn generate(exp: &Experiment) -> Result<(Tensor, Tensor, DataSpec)> {
    let d = &exp.data;
    let seed = exp.seed;
    let n = d.n_samples.unwrap_or(100);
    let spec = describe(exp)?;
    let (x, y) = match d.source {
        DataSource::Circles => make_circles(
            n,
            true,
            d.noise.unwrap_or(0.0),
            d.factor.unwrap_or(0.8),
            seed,
        )?,
        DataSource::Moons => make_moons(n, true, d.noise.unwrap_or(0.0), seed)?,
        DataSource::ToyCircle => toy_circle(n, seed)?,
        DataSource::Blobs => make_blobs(&BlobsConfig {
            n_samples: n,
            n_features: d.n_features.unwrap_or(2),
            centers: Centers::Count(d.centers.unwrap_or(3)),
            cluster_std: vec![d.cluster_std.unwrap_or(1.0)],
            seed,
            ..Default::default()
        })?,
        DataSource::Classification => make_classification(&ClassificationConfig {
            n_samples: n,
            n_features: d.n_features.unwrap_or(20),
            n_informative: d.n_informative.unwrap_or(2),
            n_redundant: d.n_redundant.unwrap_or(2),
            n_classes: d.n_classes.unwrap_or(2),
            n_clusters_per_class: d.n_clusters_per_class.unwrap_or(2),
            class_sep: d.class_sep.unwrap_or(1.0),
            flip_y: d.flip_y.unwrap_or(0.01),
            seed,
            ..Default::default()
        })?,
        DataSource::Regression => {
            let (x, y, _) = make_regression(&RegressionConfig {
                n_samples: n,
                n_features: d.n_features.unwrap_or(100),
                n_informative: d.n_informative.unwrap_or(10),
                n_targets: d.n_targets.unwrap_or(1),
                bias: d.bias.unwrap_or(0.0),
                noise: d.noise.unwrap_or(0.0),
                seed,
                ..Default::default()
            })?;
            (x, y)
        }
        DataSource::Csv => {
            let t = csv_options(d).load(d.path.as_deref().unwrap_or(""))?;
            let spec = spec_of_table(&t);
            return Ok((t.features.to_dtype(DType::F32)?, t.target, spec));
        }
        DataSource::Mnist | DataSource::FashionMnist => {
            unreachable!("images are built by build_images")
        }
    };
    Ok((x.to_dtype(DType::F32)?, y, spec))
}

/// A data set whose image batches go through transforms (then, optionally, flattened).
///
/// Random augmentations draw from a generator seeded by the run's seed and the batch's
/// indices: the same batch gets the same augmentation whatever the worker count, and a
/// resumed run sees exactly the batches the uninterrupted one would have (shuffled indices
/// differ from epoch to epoch, so augmentations do too).
struct Transformed {
    inner: Arc<dyn Dataset>,
    steps: Compose,
    flat: bool,
    seed: u64,
}

/// FNV-1a over the indices, mixed into the seed through the loader's epoch-seed mixer.
fn batch_seed(seed: u64, indices: &[usize]) -> u64 {
    let hash = indices.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &i| {
        (h ^ i as u64).wrapping_mul(0x0100_0000_01b3)
    });
    sinapsis::data::loader::epoch_seed(seed, hash)
}

impl Dataset for Transformed {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn get(&self, index: usize) -> Result<sinapsis::data::dataset::Batch> {
        self.get_batch(&[index])?
            .into_iter()
            .map(|t| t.squeeze(0))
            .collect()
    }
    fn get_batch(&self, indices: &[usize]) -> Result<sinapsis::data::dataset::Batch> {
        let mut b = self.inner.get_batch(indices)?;
        if !self.steps.steps.is_empty() {
            let mut g = Generator::new(batch_seed(self.seed, indices));
            b[0] = self.steps.apply(&b[0], &mut g)?;
        }
        if self.flat {
            b[0] = b[0].flatten(1, -1)?;
        }
        Ok(b)
    }
}

fn build_images(exp: &Experiment) -> Result<Data> {
    let d = &exp.data;
    let spec = describe(exp)?;
    let kind = if d.source == DataSource::Mnist {
        DatasetKind::Mnist
    } else {
        DatasetKind::FashionMnist
    };
    let dir = mnist_dir(d);
    let mut fixed = Compose::new();
    if let Normalization::Stats { mean, std } = &d.normalize {
        fixed = fixed.then(Normalize::new(mean.clone(), std.clone())?);
    } else if !matches!(&d.normalize, Normalization::Named(n) if n == "none") {
        return Err(Error::InvalidArgument {
            op: "config",
            msg: "data.normalize: images take { mean = [..], std = [..] } or \"none\"".into(),
        });
    }
    let mut train_steps = Compose::new();
    if let Some(a) = &d.augment {
        if a.shift > 0 {
            train_steps = train_steps.then(RandomCrop::new(a.shift));
        }
        if a.rotate > 0.0 {
            train_steps = train_steps.then(RandomRotation::new(-a.rotate, a.rotate));
        }
        if a.hflip {
            train_steps = train_steps.then(RandomHorizontalFlip::new(0.5));
        }
    }
    let train_steps = Compose {
        steps: train_steps
            .steps
            .into_iter()
            .chain(fixed.steps.clone())
            .collect(),
    };
    let wrap = |ds: Arc<dyn Dataset>, steps: Compose, salt: u64| -> Arc<dyn Dataset> {
        Arc::new(Transformed {
            inner: ds,
            steps,
            flat: d.flatten,
            seed: exp.seed.wrapping_add(salt),
        })
    };
    let train_raw: Arc<dyn Dataset> = Arc::new(Mnist::load_kind(&dir, Split::Train, kind)?);
    let test_raw: Arc<dyn Dataset> = Arc::new(Mnist::load_kind(&dir, Split::Test, kind)?);
    let (train_part, val_part) = hold_out(train_raw, d.val_split, exp.seed)?;
    Ok(Data {
        train: wrap(train_part, train_steps, 11),
        val: val_part.map(|v| wrap(v, fixed.clone(), 12)),
        test: wrap(test_raw, fixed.clone(), 13),
        spec,
        transforms: serde_json::to_value(&fixed).unwrap_or_default(),
    })
}
