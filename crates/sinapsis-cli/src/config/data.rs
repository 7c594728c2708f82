//! `[data]`: where the samples come from and how they are split and preprocessed.

use serde::{Deserialize, Serialize};

/// Which data set to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// `sklearn.datasets.make_circles`.
    Circles,
    /// `sklearn.datasets.make_moons`.
    Moons,
    /// `sklearn.datasets.make_blobs`.
    Blobs,
    /// `sklearn.datasets.make_classification`.
    Classification,
    /// `sklearn.datasets.make_regression`.
    Regression,
    /// Gaussian points labelled by whether they lie outside the unit circle.
    ToyCircle,
    /// MNIST digits (IDX files).
    Mnist,
    /// Fashion-MNIST (IDX files).
    FashionMnist,
    /// A CSV file.
    Csv,
}

impl DataSource {
    /// Whether the source is one of the generated (scikit-learn style) data sets.
    pub fn is_synthetic(self) -> bool {
        !matches!(
            self,
            DataSource::Mnist | DataSource::FashionMnist | DataSource::Csv
        )
    }

    /// Whether the samples are images.
    pub fn is_image(self) -> bool {
        matches!(self, DataSource::Mnist | DataSource::FashionMnist)
    }
}

/// Feature scaling, fitted on the training part only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Normalization {
    /// `"none"`, `"standard"` (StandardScaler) or `"minmax"` (MinMaxScaler to [0, 1]).
    Named(String),
    /// Fixed per-channel statistics for images (`transforms.Normalize(mean, std)`).
    Stats {
        /// Per-channel means.
        mean: Vec<f32>,
        /// Per-channel standard deviations.
        std: Vec<f32>,
    },
}

impl Default for Normalization {
    fn default() -> Self {
        Normalization::Named("none".into())
    }
}

/// Random training-time augmentation of images.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Augment {
    /// Maximum shift in pixels (RandomCrop with this padding); 0 = off.
    pub shift: usize,
    /// Maximum rotation in degrees (RandomRotation(-r, r)); 0 = off.
    pub rotate: f32,
    /// Random horizontal flips with probability 0.5.
    pub hflip: bool,
}

/// The `[data]` table. Generator parameters use scikit-learn's names; those left out get
/// scikit-learn's defaults when the config is resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The data set.
    pub source: DataSource,
    /// Number of generated samples (synthetic sources; default 100 as in scikit-learn,
    /// 1000 for toy_circle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_samples: Option<usize>,
    /// Standard deviation of the Gaussian noise (circles, moons, regression; default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
    /// Inner/outer circle radius ratio (circles; default 0.8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// Number of blobs (blobs; default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centers: Option<usize>,
    /// Blob standard deviation (blobs; default 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_std: Option<f64>,
    /// Number of features (blobs: 2, classification: 20, regression: 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_features: Option<usize>,
    /// Informative features (classification: 2, regression: 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_informative: Option<usize>,
    /// Redundant features (classification; default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_redundant: Option<usize>,
    /// Number of classes (classification; default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_classes: Option<usize>,
    /// Clusters per class (classification; default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_clusters_per_class: Option<usize>,
    /// Class separation (classification; default 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_sep: Option<f64>,
    /// Fraction of labels flipped at random (classification; default 0.01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flip_y: Option<f64>,
    /// Number of regression targets (regression; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_targets: Option<usize>,
    /// Bias added to the regression targets (regression; default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<f64>,
    /// Fraction of the samples held out for testing (synthetic, csv; default 0.25).
    #[serde(default = "default_test_size")]
    pub test_size: f64,
    /// Keep class proportions in the train/test split.
    #[serde(default)]
    pub stratify: bool,
    /// Fraction of the training part held out for validation (0 = none).
    #[serde(default)]
    pub val_split: f64,
    /// MNIST folder or CSV file. MNIST default: `$SINAPSIS_DATA_DIR/mnist`, else
    /// `../shared/data/mnist`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// CSV: the target column's name (leave out with `header = "sklearn"`: label last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// CSV: `"named"` (a header row, default), `"none"`, or `"sklearn"` (scikit-learn's
    /// bundled files: a count row, label last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// CSV: `"classification"` (default) or `"regression"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// CSV: the feature columns (default: every column but the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// CSV: columns one-hot encoded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categorical: Vec<String>,
    /// CSV: `"error"` (default), `"mean"`, `"median"`, `"most_frequent"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// CSV: the field separator (default `","`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// Feature scaling: `"none"` (default), `"standard"`, `"minmax"`, or for images
    /// `{ mean = [..], std = [..] }`.
    #[serde(default)]
    pub normalize: Normalization,
    /// Images: `(B, 784)` rows for MLPs (true, default) or `(B, 1, 28, 28)` (false).
    #[serde(default = "yes")]
    pub flatten: bool,
    /// Images: random augmentation of training batches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<Augment>,
}

fn default_test_size() -> f64 {
    0.25
}

fn yes() -> bool {
    true
}

impl DataConfig {
    /// Fills the generator parameters the source uses with scikit-learn's defaults and
    /// reports parameters that the source does not use.
    pub fn resolve(&mut self, problems: &mut super::de::Problems) {
        use DataSource::*;
        let s = self.source;
        let uses = |key: &str| -> bool {
            match key {
                "n_samples" => s.is_synthetic(),
                "noise" => matches!(s, Circles | Moons | Regression),
                "factor" => s == Circles,
                "centers" | "cluster_std" => s == Blobs,
                "n_features" => matches!(s, Blobs | Classification | Regression),
                "n_informative" => matches!(s, Classification | Regression),
                "n_redundant" | "n_classes" | "n_clusters_per_class" | "class_sep" | "flip_y" => {
                    s == Classification
                }
                "n_targets" | "bias" => s == Regression,
                "path" => !s.is_synthetic(),
                "target" | "header" | "task" | "features" | "missing" | "delimiter"
                | "categorical" => s == Csv,
                "augment" => s.is_image(),
                _ => true,
            }
        };
        let set = [
            ("n_samples", self.n_samples.is_some()),
            ("noise", self.noise.is_some()),
            ("factor", self.factor.is_some()),
            ("centers", self.centers.is_some()),
            ("cluster_std", self.cluster_std.is_some()),
            ("n_features", self.n_features.is_some()),
            ("n_informative", self.n_informative.is_some()),
            ("n_redundant", self.n_redundant.is_some()),
            ("n_classes", self.n_classes.is_some()),
            ("n_clusters_per_class", self.n_clusters_per_class.is_some()),
            ("class_sep", self.class_sep.is_some()),
            ("flip_y", self.flip_y.is_some()),
            ("n_targets", self.n_targets.is_some()),
            ("bias", self.bias.is_some()),
            ("path", self.path.is_some()),
            ("target", self.target.is_some()),
            ("header", self.header.is_some()),
            ("task", self.task.is_some()),
            ("features", self.features.is_some()),
            ("missing", self.missing.is_some()),
            ("delimiter", self.delimiter.is_some()),
            ("categorical", !self.categorical.is_empty()),
            ("augment", self.augment.is_some()),
        ];
        let name = serde_json::to_value(s)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        for (key, present) in set {
            if present && !uses(key) {
                problems.push(format!("data.{key}: not used by source \"{name}\""));
            }
        }
        let fill = |o: &mut Option<usize>, key: &str, v: usize| {
            if uses(key) && o.is_none() {
                *o = Some(v);
            }
        };
        fill(
            &mut self.n_samples,
            "n_samples",
            if s == ToyCircle { 1000 } else { 100 },
        );
        fill(&mut self.centers, "centers", 3);
        let nf = match s {
            Blobs => 2,
            Classification => 20,
            _ => 100,
        };
        fill(&mut self.n_features, "n_features", nf);
        fill(
            &mut self.n_informative,
            "n_informative",
            if s == Regression { 10 } else { 2 },
        );
        fill(&mut self.n_redundant, "n_redundant", 2);
        fill(&mut self.n_classes, "n_classes", 2);
        fill(&mut self.n_clusters_per_class, "n_clusters_per_class", 2);
        fill(&mut self.n_targets, "n_targets", 1);
        let fillf = |o: &mut Option<f64>, key: &str, v: f64| {
            if uses(key) && o.is_none() {
                *o = Some(v);
            }
        };
        fillf(&mut self.noise, "noise", 0.0);
        fillf(&mut self.factor, "factor", 0.8);
        fillf(&mut self.cluster_std, "cluster_std", 1.0);
        fillf(&mut self.class_sep, "class_sep", 1.0);
        fillf(&mut self.flip_y, "flip_y", 0.01);
        fillf(&mut self.bias, "bias", 0.0);
        if s == Csv {
            self.header.get_or_insert_with(|| "named".into());
            self.task.get_or_insert_with(|| "classification".into());
            self.missing.get_or_insert_with(|| "error".into());
            self.delimiter.get_or_insert_with(|| ",".into());
            if self.path.is_none() {
                problems.push("data.path: missing: the CSV file to read");
            }
            if self.target.is_none() && self.header.as_deref() != Some("sklearn") {
                problems.push(
                    "data.target: missing: the target column's name (or header = \"sklearn\" for label-last files)",
                );
            }
        }
        self.check(problems);
    }

    fn check(&self, problems: &mut super::de::Problems) {
        if !(self.test_size > 0.0 && self.test_size < 1.0) {
            problems.push(format!(
                "data.test_size: expected a fraction in (0, 1), got {}",
                self.test_size
            ));
        }
        if !(self.val_split >= 0.0 && self.val_split < 1.0) {
            problems.push(format!(
                "data.val_split: expected a fraction in [0, 1), got {}",
                self.val_split
            ));
        }
        if self.n_samples == Some(0) {
            problems.push("data.n_samples: expected at least 1, got 0");
        }
        if let Some(n) = self.noise {
            if !(n >= 0.0) {
                problems.push(format!("data.noise: expected >= 0, got {n}"));
            }
        }
        if let Some(f) = self.factor {
            if !(0.0..1.0).contains(&f) {
                problems.push(format!("data.factor: expected a value in [0, 1), got {f}"));
            }
        }
        match &self.normalize {
            Normalization::Named(n) if !matches!(n.as_str(), "none" | "standard" | "minmax") => {
                problems.push(format!(
                    "data.normalize: unknown value \"{n}\" (expected one of: none, standard, minmax, or {{ mean = [..], std = [..] }})"
                ))
            }
            Normalization::Stats { mean, std } => {
                if mean.is_empty() || mean.len() != std.len() {
                    problems.push(format!("data.normalize: mean ({}) and std ({}) need the same non-zero length", mean.len(), std.len()));
                }
                if std.iter().any(|s| !(*s > 0.0)) {
                    problems.push(format!("data.normalize.std: expected positive values, got {std:?}"));
                }
            }
            _ => {}
        }
        let check_choice = |key: &str,
                            v: &Option<String>,
                            options: &[&str],
                            problems: &mut super::de::Problems| {
            if let Some(v) = v {
                if !options.contains(&v.as_str()) {
                    problems.push(format!(
                        "data.{key}: unknown value \"{v}\" (expected one of: {})",
                        options.join(", ")
                    ));
                }
            }
        };
        check_choice(
            "header",
            &self.header,
            &["named", "none", "sklearn"],
            problems,
        );
        check_choice(
            "task",
            &self.task,
            &["classification", "regression"],
            problems,
        );
        check_choice(
            "missing",
            &self.missing,
            &["error", "mean", "median", "most_frequent"],
            problems,
        );
        if let Some(d) = &self.delimiter {
            if d.len() != 1 {
                problems.push(format!(
                    "data.delimiter: expected one ASCII character, got {d:?}"
                ));
            }
        }
    }
}
