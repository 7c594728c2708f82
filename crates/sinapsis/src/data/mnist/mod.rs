//! MNIST and Fashion-MNIST (torchvision's `datasets.MNIST`/`FashionMNIST`): the IDX files
//! read from a folder (gzip or raw), as `f32` image tensors in `[0, 1]` and `i64` labels.
//!
//! A folder holds the four files of one data set, each with or without `.gz`:
//! `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
//! `t10k-labels-idx1-ubyte`. Fashion-MNIST uses the same names in its own folder.
//! [`download`] fetches them (http and `file://` mirrors; see its docs).
//!
//! ```no_run
//! use sinapsis::data::mnist::{Mnist, Split};
//! # fn main() -> sinapsis::Result<()> {
//! let train = Mnist::load("../shared/data/mnist", Split::Train)?;
//! assert_eq!(train.images().dims(), &[60000, 1, 28, 28]);
//! assert_eq!(train.labels().dims(), &[60000]);
//! # Ok(()) }
//! ```

pub mod download;
pub mod idx;

use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use download::{download, download_files, md5_hex, RemoteFile};
pub use idx::{parse_idx, read_idx, IdxArray};

use crate::data::dataset::{check_index, Batch, Dataset};
use crate::{Error, Result, Tensor};

/// MNIST's class names, index = label.
pub const MNIST_CLASSES: [&str; 10] = [
    "0 - zero",
    "1 - one",
    "2 - two",
    "3 - three",
    "4 - four",
    "5 - five",
    "6 - six",
    "7 - seven",
    "8 - eight",
    "9 - nine",
];

/// Fashion-MNIST's class names, index = label (as torchvision).
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Which half of the data set: 60000 training or 10000 test images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// `train-*` files.
    Train,
    /// `t10k-*` files.
    Test,
}

/// Which data set: same file format and names, different content, classes and mirrors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetKind {
    /// Handwritten digits.
    Mnist,
    /// Zalando's clothing images.
    FashionMnist,
}

impl DatasetKind {
    /// The data set's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "MNIST",
            DatasetKind::FashionMnist => "Fashion-MNIST",
        }
    }

    /// The ten class names, index = label.
    pub fn classes(self) -> &'static [&'static str; 10] {
        match self {
            DatasetKind::Mnist => &MNIST_CLASSES,
            DatasetKind::FashionMnist => &FASHION_MNIST_CLASSES,
        }
    }
}

/// The base file names (without `.gz`) of a split's images and labels.
pub fn file_names(split: Split) -> (&'static str, &'static str) {
    match split {
        Split::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        Split::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
}

/// All four base file names (without `.gz`).
pub const FILE_NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Finds `dir/base.gz` or `dir/base`, or says where it was expected and how to get it.
fn find_file(dir: &Path, base: &str, kind: DatasetKind) -> Result<PathBuf> {
    let gz = dir.join(format!("{base}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    let raw = dir.join(base);
    if raw.is_file() {
        return Ok(raw);
    }
    let ctor = match kind {
        DatasetKind::Mnist => "Mnist",
        DatasetKind::FashionMnist => "FashionMnist",
    };
    Err(Error::Data {
        path: gz.display().to_string(),
        msg: format!(
            "{} file not found: expected {} or {} in folder {}{}. Get the data with \
             `sinapsis::data::mnist::download({:?}, DatasetKind::{ctor})` (http mirrors), or put \
             the four files {} (each with or without .gz) in that folder",
            kind.name(),
            gz.display(),
            raw.display(),
            dir.display(),
            if dir.is_dir() {
                ""
            } else {
                " (the folder does not exist)"
            },
            dir.display(),
            FILE_NAMES.join(", ")
        ),
    })
}

/// One split of MNIST or Fashion-MNIST, in memory: the raw `u8` pixels and labels, and the
/// same as tensors (images `(N, 1, 28, 28)` `f32` in `[0, 1]`, labels `(N,)` `i64`).
///
/// It is a [`Dataset`] too: samples are `[image (1, 28, 28) f32 / 255, label i64]` (or
/// `(784,)` images after [`Mnist::flat`]), and a batch is gathered straight from the `u8`
/// pixels, scaled to `f32` in the same pass (torchvision's `ToTensor`). Reading a quarter
/// of the bytes is what keeps a shuffled pass over the data cheap next to a training epoch.
#[derive(Debug, Clone)]
pub struct Mnist {
    kind: DatasetKind,
    split: Split,
    raw_images: Arc<Vec<u8>>,
    raw_labels: Vec<u8>,
    rows: usize,
    cols: usize,
    flat: bool,
    /// The `f32` image tensor, built on first use of [`Mnist::images`] (188 MB for the
    /// training split, which batch gathering never needs).
    images: OnceLock<Tensor>,
    labels: Tensor,
}

impl Mnist {
    /// Loads a split of MNIST from `dir` (the folder holding the four IDX files).
    ///
    /// # Errors
    /// [`Error::Data`] naming the file if one is missing (with where to put it and how to
    /// get it), unreadable, a corrupt/truncated gzip, a bad IDX header, a header that
    /// disagrees with the size, image and label counts that differ, or a label above 9.
    pub fn load(dir: impl AsRef<Path>, split: Split) -> Result<Mnist> {
        Mnist::load_kind(dir, split, DatasetKind::Mnist)
    }

    /// Loads a split of either data set from `dir`. See [`Mnist::load`].
    ///
    /// # Errors
    /// As [`Mnist::load`].
    pub fn load_kind(dir: impl AsRef<Path>, split: Split, kind: DatasetKind) -> Result<Mnist> {
        let dir = dir.as_ref();
        let (img_base, lbl_base) = file_names(split);
        let img_path = find_file(dir, img_base, kind)?;
        let lbl_path = find_file(dir, lbl_base, kind)?;
        let img_name = img_path.display().to_string();
        let lbl_name = lbl_path.display().to_string();
        let images = read_idx(&img_path)?;
        let labels = read_idx(&lbl_path)?;
        let bad = |path: &str, msg: String| Error::Data {
            path: path.to_string(),
            msg,
        };
        if images.dims.len() != 3 {
            return Err(bad(
                &img_name,
                format!(
                    "offset 3: expected an images file (magic 00 00 08 03, dims N x rows x cols), got rank {} with dims {:?}",
                    images.dims.len(),
                    images.dims
                ),
            ));
        }
        if labels.dims.len() != 1 {
            return Err(bad(
                &lbl_name,
                format!(
                    "offset 3: expected a labels file (magic 00 00 08 01, dims N), got rank {} with dims {:?}",
                    labels.dims.len(),
                    labels.dims
                ),
            ));
        }
        let (n, rows, cols) = (images.dims[0], images.dims[1], images.dims[2]);
        if labels.dims[0] != n {
            return Err(bad(
                &lbl_name,
                format!(
                    "offset 4: {} labels but {img_name} holds {n} images",
                    labels.dims[0]
                ),
            ));
        }
        if let Some(i) = labels.data.iter().position(|&l| l > 9) {
            return Err(bad(
                &lbl_name,
                format!(
                    "offset {}: label {} (item {i}) is out of range: expected 0..=9",
                    8 + i,
                    labels.data[i]
                ),
            ));
        }
        let label_vec: Vec<i64> = labels.data.iter().map(|&l| i64::from(l)).collect();
        let label_tensor = Tensor::from_vec(label_vec, n)?;
        Ok(Mnist {
            kind,
            split,
            raw_images: Arc::new(images.data),
            raw_labels: labels.data,
            rows,
            cols,
            flat: false,
            images: OnceLock::new(),
            labels: label_tensor,
        })
    }

    /// The same data set yielding flattened images, `(rows * cols,)` per sample and
    /// `(B, rows * cols)` per batch, as an MLP takes them.
    ///
    /// ```no_run
    /// use sinapsis::data::{dataset::Dataset, mnist::{Mnist, Split}};
    /// # fn main() -> sinapsis::Result<()> {
    /// let test = Mnist::load("../shared/data/mnist", Split::Test)?.flat(true);
    /// assert_eq!(test.get_batch(&[0, 1])?[0].dims(), &[2, 784]);
    /// # Ok(()) }
    /// ```
    pub fn flat(mut self, flat: bool) -> Mnist {
        self.flat = flat;
        self
    }

    /// The images, `(N, 1, rows, cols)` (`(N, 1, 28, 28)`) `f32`, pixel / 255. Built on
    /// first call.
    pub fn images(&self) -> &Tensor {
        self.images.get_or_init(|| {
            let all: Vec<usize> = (0..self.len()).collect();
            let pixels = self.gather_pixels(&all);
            Tensor::from_vec(pixels, (self.len(), 1, self.rows, self.cols))
                .expect("pixel count matches the IDX header checked at load")
        })
    }

    /// The images flattened for an MLP, `(N, rows * cols)` (`(N, 784)`) `f32`, pixel / 255.
    ///
    /// # Errors
    /// Only if the reshape fails (it cannot for a loaded data set).
    pub fn images_flat(&self) -> Result<Tensor> {
        self.images().reshape((self.len(), self.rows * self.cols))
    }

    /// The images at `indices`, scaled to `f32` in one pass over their bytes.
    fn gather_pixels(&self, indices: &[usize]) -> Vec<f32> {
        let size = self.rows * self.cols;
        // From the tensor buffer cache: the batch tensor goes back there when dropped, so a
        // steady training loop gathers every batch into recycled memory.
        let mut out = crate::memory::empty_vec::<f32>(indices.len() * size);
        for (dst, &i) in out.spare_capacity_mut().chunks_exact_mut(size).zip(indices) {
            scale_pixels(&self.raw_images[i * size..(i + 1) * size], dst);
        }
        // SAFETY: the loop above wrote all `indices.len() * size` elements.
        unsafe { out.set_len(indices.len() * size) };
        out
    }

    fn image_shape(&self, batch: Option<usize>) -> Vec<usize> {
        let mut dims: Vec<usize> = batch.into_iter().collect();
        if self.flat {
            dims.push(self.rows * self.cols);
        } else {
            dims.extend([1, self.rows, self.cols]);
        }
        dims
    }

    /// The labels, `(N,)` `i64` in `0..10`.
    pub fn labels(&self) -> &Tensor {
        &self.labels
    }

    /// The raw pixels, `N * rows * cols` bytes, row-major (for fast custom batching).
    pub fn raw_images(&self) -> &[u8] {
        &self.raw_images
    }

    /// The raw labels, `N` bytes in `0..10`.
    pub fn raw_labels(&self) -> &[u8] {
        &self.raw_labels
    }

    /// Image height and width (28, 28).
    pub fn image_size(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.raw_labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.raw_labels.is_empty()
    }

    /// Which split this is.
    pub fn split(&self) -> Split {
        self.split
    }

    /// Which data set this is.
    pub fn kind(&self) -> DatasetKind {
        self.kind
    }

    /// The ten class names, index = label.
    pub fn classes(&self) -> &'static [&'static str; 10] {
        self.kind.classes()
    }
}

/// `dst[i] = src[i] / 255` as `f32` (bit-identical to dividing), with the widest vector
/// unit the CPU has: this loop is the whole cost of a pass over the data.
fn scale_pixels(src: &[u8], dst: &mut [MaybeUninit<f32>]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        return unsafe { scale_pixels_avx512(src, dst) };
    }
    scale_pixels_plain(src, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn scale_pixels_avx512(src: &[u8], dst: &mut [MaybeUninit<f32>]) {
    scale_pixels_plain(src, dst);
}

#[inline(always)]
fn scale_pixels_plain(src: &[u8], dst: &mut [MaybeUninit<f32>]) {
    for (d, &p) in dst.iter_mut().zip(src) {
        d.write(f32::from(p) / 255.0);
    }
}

impl Dataset for Mnist {
    fn len(&self) -> usize {
        self.raw_labels.len()
    }

    fn get(&self, index: usize) -> Result<Batch> {
        self.get_batch(&[index])?
            .into_iter()
            .map(|t| t.squeeze(0))
            .collect()
    }

    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            check_index("Mnist::get_batch", bad, self.len())?;
        }
        let images = Tensor::from_vec(
            self.gather_pixels(indices),
            self.image_shape(Some(indices.len())),
        )?;
        let labels: Vec<i64> = indices
            .iter()
            .map(|&i| i64::from(self.raw_labels[i]))
            .collect();
        Ok(vec![images, Tensor::from_vec(labels, [indices.len()])?])
    }
}

/// Fashion-MNIST: same format and file names as MNIST in its own folder. Derefs to
/// [`Mnist`] for `images()`, `labels()`, `len()`...
///
/// ```no_run
/// use sinapsis::data::mnist::{FashionMnist, Split};
/// # fn main() -> sinapsis::Result<()> {
/// let test = FashionMnist::load("../shared/data/fashion-mnist", Split::Test)?;
/// assert_eq!(test.len(), 10000);
/// assert_eq!(test.classes()[9], "Ankle boot");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FashionMnist(Mnist);

impl FashionMnist {
    /// Loads a split of Fashion-MNIST from `dir`.
    ///
    /// # Errors
    /// As [`Mnist::load`].
    pub fn load(dir: impl AsRef<Path>, split: Split) -> Result<FashionMnist> {
        Mnist::load_kind(dir, split, DatasetKind::FashionMnist).map(FashionMnist)
    }

    /// The loaded data as a plain [`Mnist`].
    pub fn into_inner(self) -> Mnist {
        self.0
    }
}

impl std::ops::Deref for FashionMnist {
    type Target = Mnist;
    fn deref(&self) -> &Mnist {
        &self.0
    }
}
