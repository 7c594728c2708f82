//! Tabular CSV loading (`pandas.read_csv` + scikit-learn's `OneHotEncoder`/`SimpleImputer`
//! in one step): a named target column, chosen feature columns, one-hot categorical columns,
//! missing-value handling, and `.csv.gz` support.
//!
//! Every problem in the file is an [`Error::Data`] that names the file, the line, the
//! column and the offending text; no row is ever skipped silently. The fitted encoding
//! (feature columns, categories, fill values, label vocabulary) is kept in a serialisable
//! [`TabularEncoder`] so prediction data is encoded exactly like the training data.
//!
//! ```
//! use sinapsis::data::tabular::{TabularCsv, Task};
//! # fn main() -> sinapsis::Result<()> {
//! let dir = std::env::temp_dir().join(format!("sinapsis_tab_doc_{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("pets.csv");
//! std::fs::write(&path, "weight,kind,label\n4.0,cat,a\n30,dog,b\n5,cat,a\n").unwrap();
//! let data = TabularCsv::new("label").categorical(["kind"]).load(&path)?;
//! assert_eq!(data.features.dims(), &[3, 3]); // weight, kind=cat, kind=dog
//! assert_eq!(data.target.to_vec::<i64>()?, vec![0, 1, 0]);
//! assert_eq!(data.encoder.feature_names(), vec!["weight", "kind=cat", "kind=dog"]);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result, Tensor};

/// What the target column holds.
///
/// ```
/// use sinapsis::data::tabular::Task;
/// assert_eq!(Task::default(), Task::Classification);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// Class labels (strings or numbers), mapped to `i64` indices `0..k` through a sorted
    /// label vocabulary (numeric labels sort numerically, others lexicographically).
    #[default]
    Classification,
    /// A real-valued target, read as `f32`.
    Regression,
}

/// What to do with a missing value (an empty field, `NA`, `NaN` or `?`) in a feature column.
///
/// Fill values are computed on the data being loaded (the training file) and stored in the
/// [`TabularEncoder`], so prediction files are filled with the same values. For categorical
/// columns every strategy but [`Missing::Error`] fills with the most frequent category
/// (`Constant` too). A missing target is always an error.
///
/// ```
/// use sinapsis::data::tabular::Missing;
/// assert_eq!(Missing::default(), Missing::Error);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Missing {
    /// Fail with an error naming the file, line and column.
    #[default]
    Error,
    /// Fill with the column mean.
    Mean,
    /// Fill with the column median (mean of the two middle values for an even count).
    Median,
    /// Fill with the most frequent value (the smallest one on ties).
    MostFrequent,
    /// Fill with a constant.
    Constant(f64),
}

/// How the first line of the file is read.
///
/// ```
/// use sinapsis::data::tabular::Header;
/// assert_eq!(Header::default(), Header::Named);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Header {
    /// The first line holds the column names (an ordinary CSV export).
    #[default]
    Named,
    /// No header: the columns are named `"0"`, `"1"`, ... (e.g. `digits.csv.gz`).
    None,
    /// scikit-learn's bundled format: the first line is `n_samples,n_features,class names...`,
    /// the label (an index into those names) is last. Columns are named `"0"`..`"n_features-1"`
    /// and `"target"`; the class names become the label vocabulary, in the header's order.
    Sklearn,
}

/// Which column is the target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum TargetSpec {
    Name(String),
    Last,
}

/// Builder for loading a tabular CSV (`.csv` or `.csv.gz`) into feature and target tensors.
///
/// ```
/// use sinapsis::data::tabular::{TabularCsv, Missing, Task};
/// let opts = TabularCsv::new("price").task(Task::Regression).missing(Missing::Median);
/// # let _ = opts;
/// ```
#[derive(Clone, Debug)]
pub struct TabularCsv {
    target: TargetSpec,
    task: Task,
    features: Option<Vec<String>>,
    categorical: Vec<String>,
    missing: Missing,
    header: Header,
    delimiter: u8,
    classes: Option<Vec<String>>,
}

/// The tensors read from a file plus the fitted encoding.
///
/// ```
/// use sinapsis::data::tabular::TabularCsv;
/// # fn main() -> sinapsis::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("sinapsis_tab_doc2_{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("t.csv");
/// std::fs::write(&path, "x,y\n1,yes\n2,no\n").unwrap();
/// let d = TabularCsv::new("y").load(&path)?;
/// assert_eq!((d.len(), d.num_features()), (2, 1));
/// assert_eq!(d.encoder.classes().unwrap(), &["no".to_string(), "yes".to_string()][..]);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TabularData {
    /// `(N, F)` f32 features (categorical columns expanded to one-hot blocks).
    pub features: Tensor,
    /// `(N,)` targets: i64 class indices (classification) or f32 values (regression).
    pub target: Tensor,
    /// The fitted encoding, to encode prediction files the same way.
    pub encoder: TabularEncoder,
}

impl TabularData {
    /// Number of rows.
    ///
    /// ```
    /// # use sinapsis::data::tabular::TabularCsv;
    /// # let _ = |d: sinapsis::data::tabular::TabularData| d.len();
    /// ```
    pub fn len(&self) -> usize {
        self.features.dims()[0]
    }

    /// Whether the file had no data rows.
    ///
    /// ```
    /// # let _ = |d: sinapsis::data::tabular::TabularData| d.is_empty();
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of feature columns after one-hot expansion.
    ///
    /// ```
    /// # let _ = |d: sinapsis::data::tabular::TabularData| d.num_features();
    /// ```
    pub fn num_features(&self) -> usize {
        self.features.dims()[1]
    }

    /// Number of rows per class index (classification), e.g. `[212, 357]`.
    ///
    /// # Errors
    /// If the target is not i64 (regression).
    ///
    /// ```
    /// # let _ = |d: sinapsis::data::tabular::TabularData| d.class_counts();
    /// ```
    pub fn class_counts(&self) -> Result<Vec<usize>> {
        let k = self.encoder.classes().map(|c| c.len()).unwrap_or(0);
        let mut counts = vec![0usize; k];
        for c in self.target.to_vec::<i64>()? {
            counts[c as usize] += 1;
        }
        Ok(counts)
    }
}

/// How one input column becomes feature columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ColumnEncoding {
    /// A numeric column; missing values become `fill` (`None`: missing is an error).
    Numeric {
        /// The column name.
        name: String,
        /// The learned fill value.
        fill: Option<f64>,
    },
    /// A categorical column, one-hot over `categories` (sorted); `fill` is the category
    /// used for missing values (`None`: missing is an error).
    Categorical {
        /// The column name.
        name: String,
        /// The sorted categories learned from the data.
        categories: Vec<String>,
        /// The learned fill category.
        fill: Option<String>,
    },
}

impl ColumnEncoding {
    fn name(&self) -> &str {
        match self {
            ColumnEncoding::Numeric { name, .. } | ColumnEncoding::Categorical { name, .. } => name,
        }
    }

    fn width(&self) -> usize {
        match self {
            ColumnEncoding::Numeric { .. } => 1,
            ColumnEncoding::Categorical { categories, .. } => categories.len(),
        }
    }
}

/// The fitted encoding of a tabular file: serialise it with the model and call
/// [`TabularEncoder::load`] on prediction files.
///
/// ```
/// use sinapsis::data::tabular::TabularCsv;
/// # fn main() -> sinapsis::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("sinapsis_tab_doc3_{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let (train, test) = (dir.join("train.csv"), dir.join("test.csv"));
/// std::fs::write(&train, "c,x,y\nb,1,p\na,,q\nb,3,p\n").unwrap();
/// std::fs::write(&test, "x,c\n,a\n").unwrap(); // no target, other column order
/// let opts = TabularCsv::new("y").categorical(["c"]).missing(sinapsis::data::tabular::Missing::Mean);
/// let fitted = opts.load(&train)?;
/// let json = serde_json::to_string(&fitted.encoder).unwrap();
/// let enc: sinapsis::data::tabular::TabularEncoder = serde_json::from_str(&json).unwrap();
/// let x = enc.load_features(&test)?;
/// assert_eq!(x.to_vec::<f32>()?, vec![1.0, 0.0, 2.0]); // c=a, c=b, x filled with mean 2
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TabularEncoder {
    /// The target column name.
    pub target: String,
    /// Classification or regression.
    pub task: Task,
    /// The feature columns, in output order.
    pub columns: Vec<ColumnEncoding>,
    /// The label vocabulary: `labels[i]` is the label of class index `i` (classification).
    pub labels: Option<Vec<String>>,
    /// How the header is read.
    pub header: Header,
    /// The field delimiter.
    pub delimiter: u8,
}

/// Whether a trimmed field counts as missing.
fn is_missing(s: &str) -> bool {
    matches!(s, "" | "?" | "NA" | "NaN" | "nan" | "N/A" | "na" | "NAN")
}

fn data_err(path: &str, msg: impl Into<String>) -> Error {
    Error::Data {
        path: path.to_string(),
        msg: msg.into(),
    }
}

/// The raw file: column names and the data rows with their 1-based line numbers.
struct RawTable {
    path: String,
    names: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
    sklearn_classes: Option<Vec<String>>,
}

/// The records of a delimited file with their 1-based line numbers.
fn csv_records(
    reader: Box<dyn Read>,
    pstr: &str,
    delimiter: u8,
) -> Result<Vec<(u64, Vec<String>)>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(reader);
    rdr.records()
        .map(|rec| {
            let rec = rec.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                data_err(pstr, format!("line {line}: {e}"))
            })?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            Ok((line, rec.iter().map(str::to_string).collect()))
        })
        .collect()
}

/// The records of a file whose fields are separated by runs of spaces or tabs (as
/// `numpy.loadtxt` reads them); blank lines are skipped.
fn whitespace_records(mut reader: Box<dyn Read>, pstr: &str) -> Result<Vec<(u64, Vec<String>)>> {
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .map_err(|e| data_err(pstr, format!("cannot read the file as UTF-8 text: {e}")))?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            (
                i as u64 + 1,
                l.split_whitespace().map(str::to_string).collect(),
            )
        })
        .collect())
}

impl RawTable {
    fn read(path: &Path, header: Header, delimiter: u8) -> Result<RawTable> {
        let pstr = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| data_err(&pstr, e.to_string()))?;
        let reader: Box<dyn Read> = if pstr.ends_with(".gz") {
            Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)))
        } else {
            Box::new(std::io::BufReader::new(file))
        };
        let records = if delimiter == b' ' {
            whitespace_records(reader, &pstr)?
        } else {
            csv_records(reader, &pstr, delimiter)?
        };
        let mut names: Option<Vec<String>> = None;
        let mut sklearn_classes = None;
        let mut sklearn_rows = None;
        let mut rows = Vec::new();
        let mut first = true;
        for (line, fields) in records {
            if first {
                first = false;
                match header {
                    Header::Named => {
                        names = Some(fields);
                        continue;
                    }
                    Header::Sklearn => {
                        let parse = |i: usize| -> Result<usize> {
                            let s = fields.get(i).map(String::as_str).unwrap_or("");
                            s.parse().map_err(|_| {
                                data_err(
                                    &pstr,
                                    format!(
                                        "line {line}, column {}: expected the scikit-learn header \
                                         `n_samples,n_features,class names...`, found '{s}'",
                                        i + 1
                                    ),
                                )
                            })
                        };
                        let (n, f) = (parse(0)?, parse(1)?);
                        let mut cols: Vec<String> = (0..f).map(|i| i.to_string()).collect();
                        cols.push("target".to_string());
                        names = Some(cols);
                        sklearn_classes = Some(fields[2..].to_vec());
                        sklearn_rows = Some(n);
                        continue;
                    }
                    Header::None => {
                        names = Some((0..fields.len()).map(|i| i.to_string()).collect());
                    }
                }
            }
            rows.push((line, fields));
        }
        let names = names.ok_or_else(|| data_err(&pstr, "the file is empty (no header line)"))?;
        if let Some(n) = sklearn_rows {
            if n != rows.len() {
                return Err(data_err(
                    &pstr,
                    format!(
                        "the header announces {n} rows but the file has {}",
                        rows.len()
                    ),
                ));
            }
        }
        // Field counts: checked up front, so no row is ever dropped.
        for (line, fields) in &rows {
            if fields.len() != names.len() {
                let col = fields.len().min(names.len()) + 1;
                return Err(data_err(
                    &pstr,
                    format!(
                        "line {line}, column {col}: expected {} fields (as in the header), found {}: '{}'",
                        names.len(),
                        fields.len(),
                        fields.join(",")
                    ),
                ));
            }
        }
        Ok(RawTable {
            path: pstr,
            names,
            rows,
            sklearn_classes,
        })
    }

    fn column(&self, name: &str, role: &str) -> Result<usize> {
        self.names.iter().position(|n| n == name).ok_or_else(|| {
            data_err(
                &self.path,
                format!(
                    "unknown {role} column '{name}'; available columns: {}",
                    self.names.join(", ")
                ),
            )
        })
    }

    /// Error for a bad field.
    fn bad(&self, line: u64, col: usize, what: &str, text: &str) -> Error {
        data_err(
            &self.path,
            format!(
                "line {line}, column {} ('{}'): {what}: '{text}'",
                col + 1,
                self.names[col]
            ),
        )
    }

    fn parse_num(&self, line: u64, col: usize, text: &str) -> Result<f64> {
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.bad(line, col, "expected a number, found", text))
    }
}

/// Sorts labels numerically when they all parse as numbers, else lexicographically.
fn sort_labels(labels: &mut [String]) {
    let nums: Option<Vec<f64>> = labels.iter().map(|l| l.parse::<f64>().ok()).collect();
    if nums.is_some() {
        labels.sort_by(|a, b| {
            let (x, y) = (a.parse::<f64>().unwrap(), b.parse::<f64>().unwrap());
            x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
        });
    } else {
        labels.sort();
    }
}

impl TabularCsv {
    /// Options for a file whose target is the column named `target` (classification, all
    /// other columns numeric features, missing values an error, comma-separated, a header).
    ///
    /// ```
    /// let opts = sinapsis::data::tabular::TabularCsv::new("species");
    /// # let _ = opts;
    /// ```
    pub fn new(target: impl Into<String>) -> TabularCsv {
        TabularCsv {
            target: TargetSpec::Name(target.into()),
            task: Task::Classification,
            features: None,
            categorical: Vec::new(),
            missing: Missing::Error,
            header: Header::Named,
            delimiter: b',',
            classes: None,
        }
    }

    /// Options whose target is the last column (scikit-learn's bundled files).
    ///
    /// ```
    /// use sinapsis::data::tabular::{Header, TabularCsv};
    /// let opts = TabularCsv::target_last().header(Header::None);
    /// # let _ = opts;
    /// ```
    pub fn target_last() -> TabularCsv {
        TabularCsv {
            target: TargetSpec::Last,
            ..TabularCsv::new("")
        }
    }

    /// Sets classification or regression.
    ///
    /// ```
    /// # use sinapsis::data::tabular::{TabularCsv, Task};
    /// let opts = TabularCsv::new("y").task(Task::Regression);
    /// # let _ = opts;
    /// ```
    pub fn task(mut self, task: Task) -> Self {
        self.task = task;
        self
    }

    /// Uses only these feature columns, in this order (default: all but the target).
    ///
    /// ```
    /// # use sinapsis::data::tabular::TabularCsv;
    /// let opts = TabularCsv::new("y").features(["a", "b"]);
    /// # let _ = opts;
    /// ```
    pub fn features<S: Into<String>>(mut self, cols: impl IntoIterator<Item = S>) -> Self {
        self.features = Some(cols.into_iter().map(Into::into).collect());
        self
    }

    /// Declares categorical feature columns, one-hot encoded over their sorted categories.
    ///
    /// ```
    /// # use sinapsis::data::tabular::TabularCsv;
    /// let opts = TabularCsv::new("y").categorical(["colour"]);
    /// # let _ = opts;
    /// ```
    pub fn categorical<S: Into<String>>(mut self, cols: impl IntoIterator<Item = S>) -> Self {
        self.categorical = cols.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the missing-value strategy for feature columns.
    ///
    /// ```
    /// # use sinapsis::data::tabular::{Missing, TabularCsv};
    /// let opts = TabularCsv::new("y").missing(Missing::Constant(0.0));
    /// # let _ = opts;
    /// ```
    pub fn missing(mut self, missing: Missing) -> Self {
        self.missing = missing;
        self
    }

    /// Sets how the first line is read.
    ///
    /// ```
    /// # use sinapsis::data::tabular::{Header, TabularCsv};
    /// let opts = TabularCsv::target_last().header(Header::Sklearn);
    /// # let _ = opts;
    /// ```
    pub fn header(mut self, header: Header) -> Self {
        self.header = header;
        self
    }

    /// Sets the field delimiter (default `b','`). `b' '` means any run of spaces or tabs
    /// (as `numpy.loadtxt` reads scikit-learn's diabetes and linnerud files), without quoting.
    ///
    /// ```
    /// # use sinapsis::data::tabular::TabularCsv;
    /// let opts = TabularCsv::new("y").delimiter(b';');
    /// # let _ = opts;
    /// ```
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Fixes the label vocabulary (class `i` is `classes[i]`) instead of sorting the labels
    /// found; a label outside it is then an error.
    ///
    /// ```
    /// # use sinapsis::data::tabular::TabularCsv;
    /// let opts = TabularCsv::new("diagnosis").classes(["malignant", "benign"]);
    /// # let _ = opts;
    /// ```
    pub fn classes<S: Into<String>>(mut self, classes: impl IntoIterator<Item = S>) -> Self {
        self.classes = Some(classes.into_iter().map(Into::into).collect());
        self
    }

    /// Reads the file, fits the encoding on it and returns the tensors.
    ///
    /// # Errors
    /// [`Error::Data`] naming the file, line, column and text for: a row with the wrong
    /// number of fields, a non-numeric value in a numeric column, a missing value without a
    /// strategy (or in the target), an unknown label when `classes` is fixed; an unknown
    /// target/feature column lists the available columns.
    ///
    /// ```
    /// # use sinapsis::data::tabular::TabularCsv;
    /// assert!(TabularCsv::new("y").load("/no/such/file.csv").is_err());
    /// ```
    pub fn load(&self, path: impl AsRef<Path>) -> Result<TabularData> {
        let raw = RawTable::read(path.as_ref(), self.header, self.delimiter)?;
        let target_name = match &self.target {
            TargetSpec::Name(n) => n.clone(),
            TargetSpec::Last => raw
                .names
                .last()
                .cloned()
                .ok_or_else(|| data_err(&raw.path, "the file has no columns"))?,
        };
        let t_col = raw.column(&target_name, "target")?;
        let feat_names: Vec<String> = match &self.features {
            Some(f) => f.clone(),
            None => raw
                .names
                .iter()
                .filter(|n| **n != target_name)
                .cloned()
                .collect(),
        };
        for c in &self.categorical {
            if !feat_names.contains(c) {
                raw.column(c, "categorical")?;
                return Err(data_err(
                    &raw.path,
                    format!("categorical column '{c}' is not among the feature columns"),
                ));
            }
        }
        let mut columns = Vec::with_capacity(feat_names.len());
        for name in &feat_names {
            let col = raw.column(name, "feature")?;
            if col == t_col {
                return Err(data_err(
                    &raw.path,
                    format!("column '{name}' is both the target and a feature"),
                ));
            }
            columns.push(self.fit_column(&raw, col)?);
        }
        let labels = match self.task {
            Task::Regression => None,
            Task::Classification => Some(self.fit_labels(&raw, t_col)?),
        };
        let encoder = TabularEncoder {
            target: target_name,
            task: self.task,
            columns,
            labels,
            header: self.header,
            delimiter: self.delimiter,
        };
        let features = encoder.encode_features(&raw)?;
        let target = encoder.encode_target(&raw, t_col)?;
        Ok(TabularData {
            features,
            target,
            encoder,
        })
    }

    fn fit_column(&self, raw: &RawTable, col: usize) -> Result<ColumnEncoding> {
        let name = raw.names[col].clone();
        let missing_err = |line: u64, text: &str| {
            raw.bad(
                line,
                col,
                "missing value (set a strategy with TabularCsv::missing)",
                text,
            )
        };
        if self.categorical.contains(&name) {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for (line, f) in &raw.rows {
                let s = f[col].as_str();
                if is_missing(s) {
                    if self.missing == Missing::Error {
                        return Err(missing_err(*line, s));
                    }
                } else {
                    *counts.entry(s.to_string()).or_default() += 1;
                }
            }
            let fill =
                if self.missing == Missing::Error {
                    None
                } else {
                    // Most frequent; BTreeMap order makes the smallest win ties.
                    let mut best: Option<(&String, usize)> = None;
                    for (k, &c) in &counts {
                        if best.is_none_or(|(_, bc)| c > bc) {
                            best = Some((k, c));
                        }
                    }
                    Some(best.map(|(k, _)| k.clone()).ok_or_else(|| {
                        data_err(&raw.path, format!("column '{name}' has no values"))
                    })?)
                };
            let categories = counts.into_keys().collect();
            return Ok(ColumnEncoding::Categorical {
                name,
                categories,
                fill,
            });
        }
        let mut vals = Vec::with_capacity(raw.rows.len());
        for (line, f) in &raw.rows {
            let s = f[col].as_str();
            if is_missing(s) {
                if self.missing == Missing::Error {
                    return Err(missing_err(*line, s));
                }
            } else {
                vals.push(raw.parse_num(*line, col, s)?);
            }
        }
        let empty = || {
            data_err(
                &raw.path,
                format!("column '{name}' has no values to fill from"),
            )
        };
        let fill = match self.missing {
            Missing::Error => None,
            Missing::Constant(c) => Some(c),
            Missing::Mean => {
                if vals.is_empty() {
                    return Err(empty());
                }
                Some(vals.iter().sum::<f64>() / vals.len() as f64)
            }
            Missing::Median => {
                if vals.is_empty() {
                    return Err(empty());
                }
                vals.sort_by(|a, b| a.partial_cmp(b).unwrap());
                let n = vals.len();
                Some(if n % 2 == 1 {
                    vals[n / 2]
                } else {
                    (vals[n / 2 - 1] + vals[n / 2]) / 2.0
                })
            }
            Missing::MostFrequent => {
                if vals.is_empty() {
                    return Err(empty());
                }
                vals.sort_by(|a, b| a.partial_cmp(b).unwrap());
                let (mut best, mut best_n) = (vals[0], 0usize);
                let mut i = 0;
                while i < vals.len() {
                    let mut j = i;
                    while j < vals.len() && vals[j] == vals[i] {
                        j += 1;
                    }
                    if j - i > best_n {
                        best = vals[i];
                        best_n = j - i;
                    }
                    i = j;
                }
                Some(best)
            }
        };
        Ok(ColumnEncoding::Numeric { name, fill })
    }

    fn fit_labels(&self, raw: &RawTable, t_col: usize) -> Result<Vec<String>> {
        if let Some(c) = &self.classes {
            return Ok(c.clone());
        }
        if let Some(c) = &raw.sklearn_classes {
            return Ok(c.clone());
        }
        let mut set = BTreeSet::new();
        for (line, f) in &raw.rows {
            let s = f[t_col].as_str();
            if is_missing(s) {
                return Err(raw.bad(*line, t_col, "missing target value", s));
            }
            set.insert(s.to_string());
        }
        let mut labels: Vec<String> = set.into_iter().collect();
        sort_labels(&mut labels);
        Ok(labels)
    }
}

impl TabularEncoder {
    /// The output feature names: a numeric column keeps its name, a categorical column `c`
    /// becomes `c=category` for each category.
    ///
    /// ```
    /// # let _ = |e: sinapsis::data::tabular::TabularEncoder| e.feature_names();
    /// ```
    pub fn feature_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.columns {
            match c {
                ColumnEncoding::Numeric { name, .. } => out.push(name.clone()),
                ColumnEncoding::Categorical {
                    name, categories, ..
                } => out.extend(categories.iter().map(|k| format!("{name}={k}"))),
            }
        }
        out
    }

    /// Number of output feature columns.
    ///
    /// ```
    /// # let _ = |e: sinapsis::data::tabular::TabularEncoder| e.num_features();
    /// ```
    pub fn num_features(&self) -> usize {
        self.columns.iter().map(ColumnEncoding::width).sum()
    }

    /// The label vocabulary (`classes()[i]` is class `i`), `None` for regression.
    ///
    /// ```
    /// # let _ = |e: sinapsis::data::tabular::TabularEncoder| e.classes().map(|c| c.len());
    /// ```
    pub fn classes(&self) -> Option<&[String]> {
        self.labels.as_deref()
    }

    /// Encodes a file with this (already fitted) encoding; the target column must be present.
    ///
    /// # Errors
    /// As [`TabularCsv::load`], plus a category or label not seen when fitting.
    ///
    /// ```
    /// # let _ = |e: sinapsis::data::tabular::TabularEncoder| e.load("test.csv");
    /// ```
    pub fn load(&self, path: impl AsRef<Path>) -> Result<TabularData> {
        let raw = RawTable::read(path.as_ref(), self.header, self.delimiter)?;
        let t_col = if self.target.is_empty() {
            raw.names.len().saturating_sub(1)
        } else {
            raw.column(&self.target, "target")?
        };
        Ok(TabularData {
            features: self.encode_features(&raw)?,
            target: self.encode_target(&raw, t_col)?,
            encoder: self.clone(),
        })
    }

    /// Encodes only the features of a file (for prediction: the target may be absent).
    ///
    /// # Errors
    /// As [`TabularEncoder::load`].
    ///
    /// ```
    /// # let _ = |e: sinapsis::data::tabular::TabularEncoder| e.load_features("new.csv");
    /// ```
    pub fn load_features(&self, path: impl AsRef<Path>) -> Result<Tensor> {
        let raw = RawTable::read(path.as_ref(), self.header, self.delimiter)?;
        self.encode_features(&raw)
    }

    fn encode_features(&self, raw: &RawTable) -> Result<Tensor> {
        let width = self.num_features();
        let n = raw.rows.len();
        let mut out = vec![0f32; n * width];
        let mut offset = 0;
        for enc in &self.columns {
            let col = raw.column(enc.name(), "feature")?;
            for (r, (line, f)) in raw.rows.iter().enumerate() {
                let s = f[col].as_str();
                let row = &mut out[r * width + offset..r * width + offset + enc.width()];
                let missing = |text: &str| {
                    raw.bad(
                        *line,
                        col,
                        "missing value (set a strategy with TabularCsv::missing)",
                        text,
                    )
                };
                match enc {
                    ColumnEncoding::Numeric { fill, .. } => {
                        row[0] = if is_missing(s) {
                            fill.ok_or_else(|| missing(s))? as f32
                        } else {
                            raw.parse_num(*line, col, s)? as f32
                        };
                    }
                    ColumnEncoding::Categorical {
                        categories, fill, ..
                    } => {
                        let key = if is_missing(s) {
                            fill.as_deref().ok_or_else(|| missing(s))?
                        } else {
                            s
                        };
                        let i = categories.iter().position(|c| c == key).ok_or_else(|| {
                            raw.bad(
                                *line,
                                col,
                                &format!(
                                    "category not seen when fitting (known: {})",
                                    categories.join(", ")
                                ),
                                s,
                            )
                        })?;
                        row[i] = 1.0;
                    }
                }
            }
            offset += enc.width();
        }
        Tensor::from_vec(out, (n, width))
    }

    fn encode_target(&self, raw: &RawTable, t_col: usize) -> Result<Tensor> {
        let n = raw.rows.len();
        match &self.labels {
            None => {
                let mut v = Vec::with_capacity(n);
                for (line, f) in &raw.rows {
                    let s = f[t_col].as_str();
                    if is_missing(s) {
                        return Err(raw.bad(*line, t_col, "missing target value", s));
                    }
                    v.push(raw.parse_num(*line, t_col, s)? as f32);
                }
                Tensor::from_vec(v, n)
            }
            Some(labels) => {
                let index: BTreeMap<&str, i64> = labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.as_str(), i as i64))
                    .collect();
                let sklearn = self.header == Header::Sklearn;
                let mut v = Vec::with_capacity(n);
                for (line, f) in &raw.rows {
                    let s = f[t_col].as_str();
                    if is_missing(s) {
                        return Err(raw.bad(*line, t_col, "missing target value", s));
                    }
                    let idx = if sklearn {
                        // The label is already an index into the header's class names.
                        s.parse::<f64>()
                            .ok()
                            .filter(|v| {
                                v.fract() == 0.0 && *v >= 0.0 && (*v as usize) < labels.len()
                            })
                            .map(|v| v as i64)
                    } else {
                        index.get(s).copied()
                    };
                    let idx = idx.ok_or_else(|| {
                        raw.bad(
                            *line,
                            t_col,
                            &format!("unknown label (classes: {})", labels.join(", ")),
                            s,
                        )
                    })?;
                    v.push(idx);
                }
                Tensor::from_vec(v, n)
            }
        }
    }
}
