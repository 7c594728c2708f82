//! [`DataLoader`]: batches from a [`Dataset`] in [`Sampler`] order, optionally built on
//! worker threads with bounded prefetch (`torch.utils.data.DataLoader`).
//!
//! # Reproducible order
//! A shuffled epoch's permutation is `Generator::new(epoch_seed(seed, epoch)).randperm(n)`,
//! where [`epoch_seed`] mixes the two with SplitMix64. It depends on `(seed, epoch)` only —
//! not on how many epochs ran before, on the worker count or on timing — so
//! `loader.iter_epoch(k)` replays epoch `k` exactly when a run resumes.
//!
//! # Workers
//! With `num_workers = w > 0`, batch `b` of the epoch is built by worker `b % w` (as in
//! PyTorch), each worker sending into its own bounded channel of `prefetch` batches; the
//! iterator receives from the workers in turn, so batches arrive in sampler order and at
//! most `w * prefetch` finished batches wait in memory. Dropping the iterator mid-epoch
//! closes the channels and joins the workers. A failing (or panicking) worker surfaces as
//! an `Err` item, after which the iterator ends.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::dataset::{Batch, CollateFn, Dataset};
use crate::{Error, Generator, Result};

fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        msg: msg.into(),
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator seed of epoch `epoch` for a loader seeded with `seed`:
/// `splitmix64(seed ^ splitmix64(epoch))`, a function of `(seed, epoch)` only.
///
/// ```
/// use sinapsis::data::loader::epoch_seed;
/// assert_eq!(epoch_seed(7, 3), epoch_seed(7, 3));
/// assert_ne!(epoch_seed(7, 3), epoch_seed(7, 4));
/// ```
pub fn epoch_seed(seed: u64, epoch: u64) -> u64 {
    splitmix64(seed ^ splitmix64(epoch))
}

/// An order over data set indices, one per epoch (`torch.utils.data.Sampler`).
///
/// ```
/// use sinapsis::data::loader::{Sampler, SequentialSampler};
/// assert_eq!(SequentialSampler::new(3).indices(0)?, vec![0, 1, 2]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub trait Sampler: Send + Sync {
    /// Number of indices per epoch.
    fn len(&self) -> usize;

    /// Whether the sampler yields no indices.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The indices of epoch `epoch`; must depend on `epoch` (and the sampler's own
    /// settings) only, so that an epoch can be replayed.
    ///
    /// # Errors
    /// If the order cannot be produced.
    fn indices(&self, epoch: u64) -> Result<Vec<usize>>;
}

/// `0, 1, ..., n-1` every epoch.
///
/// ```
/// use sinapsis::data::loader::{Sampler, SequentialSampler};
/// assert_eq!(SequentialSampler::new(2).indices(5)?, vec![0, 1]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SequentialSampler {
    n: usize,
}

impl SequentialSampler {
    /// A sampler over `0..n`.
    ///
    /// ```
    /// use sinapsis::data::loader::{Sampler, SequentialSampler};
    /// assert_eq!(SequentialSampler::new(4).len(), 4);
    /// ```
    pub fn new(n: usize) -> SequentialSampler {
        SequentialSampler { n }
    }
}

impl Sampler for SequentialSampler {
    fn len(&self) -> usize {
        self.n
    }
    fn indices(&self, _epoch: u64) -> Result<Vec<usize>> {
        Ok((0..self.n).collect())
    }
}

/// A fresh permutation of `0..n` each epoch, drawn from
/// `Generator::new(epoch_seed(seed, epoch))`.
///
/// ```
/// use sinapsis::data::loader::{RandomSampler, Sampler};
/// let s = RandomSampler::new(10, 42);
/// let mut e0 = s.indices(0)?;
/// assert_eq!(e0, s.indices(0)?);
/// assert_ne!(e0, s.indices(1)?);
/// e0.sort();
/// assert_eq!(e0, (0..10).collect::<Vec<_>>());
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RandomSampler {
    n: usize,
    seed: u64,
}

impl RandomSampler {
    /// A shuffling sampler over `0..n` seeded with `seed`.
    ///
    /// ```
    /// use sinapsis::data::loader::{RandomSampler, Sampler};
    /// assert_eq!(RandomSampler::new(3, 0).len(), 3);
    /// ```
    pub fn new(n: usize, seed: u64) -> RandomSampler {
        RandomSampler { n, seed }
    }
}

impl Sampler for RandomSampler {
    fn len(&self) -> usize {
        self.n
    }
    fn indices(&self, epoch: u64) -> Result<Vec<usize>> {
        let perm = Generator::new(epoch_seed(self.seed, epoch)).randperm(self.n)?;
        Ok(perm
            .to_vec::<i64>()?
            .into_iter()
            .map(|i| i as usize)
            .collect())
    }
}

/// Batches of a [`Dataset`] in [`Sampler`] order (`torch.utils.data.DataLoader`).
///
/// Without a custom collate function batches come from [`Dataset::get_batch`] (one gather
/// for tensor-backed data sets); with one, items are read with [`Dataset::get`] and passed
/// to it.
///
/// ```
/// use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
/// use sinapsis::Tensor;
/// let x = Tensor::arange(0.0, 10.0, 1.0, sinapsis::DType::F32)?;
/// let loader = DataLoader::new(TensorDataset::new(vec![x])?, 4)?
///     .shuffle(true)
///     .seed(1)
///     .num_workers(2);
/// assert_eq!(loader.len(), 3);
/// let mut seen = 0;
/// for batch in loader.iter_epoch(0) {
///     seen += batch?[0].dims()[0];
/// }
/// assert_eq!(seen, 10);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub struct DataLoader {
    dataset: Arc<dyn Dataset>,
    sampler: Option<Arc<dyn Sampler>>,
    collate: Option<Arc<CollateFn>>,
    batch_size: usize,
    shuffle: bool,
    drop_last: bool,
    seed: u64,
    num_workers: usize,
    prefetch: usize,
    next_epoch: AtomicU64,
}

impl std::fmt::Debug for DataLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataLoader")
            .field("len", &self.dataset.len())
            .field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field("drop_last", &self.drop_last)
            .field("seed", &self.seed)
            .field("num_workers", &self.num_workers)
            .field("prefetch", &self.prefetch)
            .finish()
    }
}

impl DataLoader {
    /// A loader over `dataset` with `batch_size`; defaults: no shuffle, keep the last
    /// partial batch, seed 0, no workers, prefetch 2 batches per worker.
    ///
    /// # Errors
    /// If `batch_size` is 0.
    ///
    /// ```
    /// use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2, 3])?])?;
    /// assert!(DataLoader::new(ds, 0).is_err());
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn new(dataset: impl Dataset + 'static, batch_size: usize) -> Result<DataLoader> {
        Self::from_arc(Arc::new(dataset), batch_size)
    }

    /// Like [`DataLoader::new`] for a data set already behind an `Arc`.
    ///
    /// # Errors
    /// If `batch_size` is 0.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sinapsis::data::{dataset::{Dataset, TensorDataset}, loader::DataLoader};
    /// let ds: Arc<dyn Dataset> = Arc::new(TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64])?])?);
    /// assert_eq!(DataLoader::from_arc(ds, 8)?.len(), 1);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn from_arc(dataset: Arc<dyn Dataset>, batch_size: usize) -> Result<DataLoader> {
        if batch_size == 0 {
            return Err(invalid(
                "DataLoader",
                "batch_size must be at least 1, got 0",
            ));
        }
        Ok(DataLoader {
            dataset,
            sampler: None,
            collate: None,
            batch_size,
            shuffle: false,
            drop_last: false,
            seed: 0,
            num_workers: 0,
            prefetch: 2,
            next_epoch: AtomicU64::new(0),
        })
    }

    /// Shuffle each epoch with a [`RandomSampler`] (ignored when a custom sampler is set).
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2])?])?;
    /// let loader = DataLoader::new(ds, 1)?.shuffle(true);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn shuffle(mut self, shuffle: bool) -> DataLoader {
        self.shuffle = shuffle;
        self
    }

    /// Drop the last batch when it is smaller than `batch_size`.
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2, 3])?])?;
    /// assert_eq!(DataLoader::new(ds, 2)?.drop_last(true).len(), 1);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn drop_last(mut self, drop_last: bool) -> DataLoader {
        self.drop_last = drop_last;
        self
    }

    /// The seed of the shuffling order (see [`epoch_seed`]).
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2])?])?;
    /// let loader = DataLoader::new(ds, 1)?.shuffle(true).seed(1234);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> DataLoader {
        self.seed = seed;
        self
    }

    /// Build batches on `n` worker threads (0: in the iterating thread).
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2])?])?;
    /// let loader = DataLoader::new(ds, 1)?.num_workers(3);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn num_workers(mut self, n: usize) -> DataLoader {
        self.num_workers = n;
        self
    }

    /// Finished batches each worker may hold ahead of the consumer (PyTorch's
    /// `prefetch_factor`); values below 1 are raised to 1.
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2])?])?;
    /// let loader = DataLoader::new(ds, 1)?.num_workers(2).prefetch(4);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn prefetch(mut self, batches_per_worker: usize) -> DataLoader {
        self.prefetch = batches_per_worker.max(1);
        self
    }

    /// Use a custom sampler instead of the sequential/random one.
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::{DataLoader, SequentialSampler}};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2])?])?;
    /// let loader = DataLoader::new(ds, 1)?.sampler(SequentialSampler::new(2));
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn sampler(mut self, sampler: impl Sampler + 'static) -> DataLoader {
        self.sampler = Some(Arc::new(sampler));
        self
    }

    /// Read items one by one with [`Dataset::get`] and batch them with `f`.
    ///
    /// ```
    /// use sinapsis::data::{dataset::{default_collate, TensorDataset}, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2])?])?;
    /// let loader = DataLoader::new(ds, 2)?.collate(|items| default_collate(items));
    /// let b = loader.iter_epoch(0).next().unwrap()?;
    /// assert_eq!(b[0].to_vec::<i64>()?, vec![1, 2]);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn collate(
        mut self,
        f: impl Fn(Vec<Batch>) -> Result<Batch> + Send + Sync + 'static,
    ) -> DataLoader {
        self.collate = Some(Arc::new(f));
        self
    }

    /// Number of batches per epoch.
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2, 3])?])?;
    /// assert_eq!(DataLoader::new(ds, 2)?.len(), 2);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        let n = self.sampler_len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// Whether an epoch yields no batches.
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2, 3])?])?;
    /// assert!(DataLoader::new(ds, 4)?.drop_last(true).is_empty());
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The seed that, with the epoch, fixes the batch order.
    ///
    /// ```
    /// use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// use sinapsis::Tensor;
    /// let ds = TensorDataset::new(vec![Tensor::new(&[1i64, 2, 3])?])?;
    /// assert_eq!(DataLoader::new(ds, 2)?.seed(9).seed_value(), 9);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn seed_value(&self) -> u64 {
        self.seed
    }

    /// The batch size.
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64])?])?;
    /// assert_eq!(DataLoader::new(ds, 7)?.batch_size(), 7);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The data set.
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64])?])?;
    /// assert_eq!(DataLoader::new(ds, 7)?.dataset().len(), 1);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn dataset(&self) -> &Arc<dyn Dataset> {
        &self.dataset
    }

    /// Sets the epoch the next [`DataLoader::iter`] call iterates (for resuming).
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64])?])?;
    /// let loader = DataLoader::new(ds, 1)?;
    /// loader.set_epoch(5);
    /// assert_eq!(loader.epoch(), 5);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn set_epoch(&self, epoch: u64) {
        self.next_epoch.store(epoch, Ordering::Relaxed);
    }

    /// The epoch the next [`DataLoader::iter`] call iterates.
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64])?])?;
    /// let loader = DataLoader::new(ds, 1)?;
    /// let _ = loader.iter();
    /// assert_eq!(loader.epoch(), 1);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn epoch(&self) -> u64 {
        self.next_epoch.load(Ordering::Relaxed)
    }

    /// Iterates the next epoch (0, 1, 2, ... on successive calls; see
    /// [`DataLoader::set_epoch`]).
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2, 3])?])?;
    /// let loader = DataLoader::new(ds, 2)?;
    /// assert_eq!(loader.iter().count(), 2);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn iter(&self) -> DataLoaderIter {
        let epoch = self.next_epoch.fetch_add(1, Ordering::Relaxed);
        self.iter_epoch(epoch)
    }

    /// Iterates epoch `epoch`, whose order depends on `(seed, epoch)` only.
    ///
    /// ```
    /// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
    /// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[0i64, 1, 2, 3, 4, 5, 6, 7])?])?;
    /// let loader = DataLoader::new(ds, 3)?.shuffle(true).seed(9);
    /// let a: Vec<Vec<i64>> = loader.iter_epoch(4).map(|b| b?[0].to_vec::<i64>()).collect::<sinapsis::Result<_>>()?;
    /// let b: Vec<Vec<i64>> = loader.iter_epoch(4).map(|b| b?[0].to_vec::<i64>()).collect::<sinapsis::Result<_>>()?;
    /// assert_eq!(a, b);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn iter_epoch(&self, epoch: u64) -> DataLoaderIter {
        let indices = match self.epoch_indices(epoch) {
            Ok(v) => v,
            Err(e) => return DataLoaderIter::failed(e),
        };
        let mut batches: Vec<Vec<usize>> = indices
            .chunks(self.batch_size)
            .map(<[usize]>::to_vec)
            .collect();
        if self.drop_last && batches.last().is_some_and(|b| b.len() < self.batch_size) {
            batches.pop();
        }
        let job = Arc::new(Job {
            dataset: Arc::clone(&self.dataset),
            collate: self.collate.clone(),
            batches,
        });
        let total = job.batches.len();
        if self.num_workers == 0 || total == 0 {
            return DataLoaderIter {
                job,
                next: 0,
                total,
                workers: Vec::new(),
                stop: Arc::new(AtomicBool::new(false)),
                pending_error: None,
                done: false,
            };
        }
        let n_workers = self.num_workers.min(total);
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::with_capacity(n_workers);
        for w in 0..n_workers {
            let (tx, rx) = sync_channel::<Result<Batch>>(self.prefetch);
            let job_w = Arc::clone(&job);
            let stop_w = Arc::clone(&stop);
            let spawned = std::thread::Builder::new()
                .name(format!("sinapsis-data-{w}"))
                .spawn(move || {
                    let mut b = w;
                    while b < job_w.batches.len() && !stop_w.load(Ordering::Relaxed) {
                        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            job_w.build(b)
                        }))
                        .unwrap_or_else(|p| Err(panic_error(w, b, p.as_ref())));
                        let failed = out.is_err();
                        if tx.send(out).is_err() || failed {
                            return;
                        }
                        b += n_workers;
                    }
                });
            match spawned {
                Ok(handle) => workers.push((rx, Some(handle))),
                Err(e) => {
                    // Stop what was started; report the failure as the first item.
                    let it = DataLoaderIter {
                        job,
                        next: 0,
                        total,
                        workers,
                        stop,
                        pending_error: None,
                        done: false,
                    };
                    drop(it);
                    return DataLoaderIter::failed(Error::InvalidArgument {
                        op: "DataLoader",
                        msg: format!("could not start worker thread {w}: {e}"),
                    });
                }
            }
        }
        DataLoaderIter {
            job,
            next: 0,
            total,
            workers,
            stop,
            pending_error: None,
            done: false,
        }
    }

    fn sampler_len(&self) -> usize {
        match &self.sampler {
            Some(s) => s.len(),
            None => self.dataset.len(),
        }
    }

    fn epoch_indices(&self, epoch: u64) -> Result<Vec<usize>> {
        match &self.sampler {
            Some(s) => s.indices(epoch),
            None if self.shuffle => {
                RandomSampler::new(self.dataset.len(), self.seed).indices(epoch)
            }
            None => SequentialSampler::new(self.dataset.len()).indices(epoch),
        }
    }
}

impl IntoIterator for &DataLoader {
    type Item = Result<Batch>;
    type IntoIter = DataLoaderIter;
    fn into_iter(self) -> DataLoaderIter {
        self.iter()
    }
}

fn panic_error(worker: usize, batch: usize, payload: &(dyn std::any::Any + Send)) -> Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Error::InvalidArgument {
        op: "DataLoader",
        msg: format!("worker {worker} panicked while building batch {batch}: {msg}"),
    }
}

/// A worker's channel and thread.
type Worker = (Receiver<Result<Batch>>, Option<JoinHandle<()>>);

struct Empty;

impl Dataset for Empty {
    fn len(&self) -> usize {
        0
    }
    fn get(&self, index: usize) -> Result<Batch> {
        super::dataset::check_index("DataLoader", index, 0)?;
        Ok(Vec::new())
    }
}

struct Job {
    dataset: Arc<dyn Dataset>,
    collate: Option<Arc<CollateFn>>,
    batches: Vec<Vec<usize>>,
}

impl Job {
    fn build(&self, b: usize) -> Result<Batch> {
        let idx = &self.batches[b];
        match &self.collate {
            None => self.dataset.get_batch(idx),
            Some(f) => {
                let items = idx
                    .iter()
                    .map(|&i| self.dataset.get(i))
                    .collect::<Result<Vec<_>>>()?;
                f(items)
            }
        }
    }
}

/// The batches of one epoch, in sampler order; see [`DataLoader::iter_epoch`].
///
/// ```
/// # use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
/// # let ds = TensorDataset::new(vec![sinapsis::Tensor::new(&[1i64, 2, 3])?])?;
/// let loader = DataLoader::new(ds, 2)?.num_workers(1);
/// let it = loader.iter_epoch(0);
/// assert_eq!(it.len(), 2);
/// drop(it); // stops and joins the worker
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub struct DataLoaderIter {
    job: Arc<Job>,
    next: usize,
    total: usize,
    workers: Vec<Worker>,
    stop: Arc<AtomicBool>,
    pending_error: Option<Error>,
    done: bool,
}

impl DataLoaderIter {
    fn failed(e: Error) -> DataLoaderIter {
        DataLoaderIter {
            job: Arc::new(Job {
                dataset: Arc::new(Empty),
                collate: None,
                batches: Vec::new(),
            }),
            next: 0,
            total: 0,
            workers: Vec::new(),
            stop: Arc::new(AtomicBool::new(true)),
            pending_error: Some(e),
            done: false,
        }
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let workers = std::mem::take(&mut self.workers);
        let mut handles = Vec::with_capacity(workers.len());
        for (rx, h) in workers {
            drop(rx); // a worker blocked in `send` wakes with an error and exits
            handles.push(h);
        }
        for h in handles.into_iter().flatten() {
            let _ = h.join();
        }
    }
}

impl Iterator for DataLoaderIter {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        if let Some(e) = self.pending_error.take() {
            self.done = true;
            return Some(Err(e));
        }
        if self.done || self.next >= self.total {
            return None;
        }
        let b = self.next;
        self.next += 1;
        let out = if self.workers.is_empty() {
            self.job.build(b)
        } else {
            let w = b % self.workers.len();
            self.workers[w].0.recv().unwrap_or_else(|_| {
                Err(Error::InvalidArgument {
                    op: "DataLoader",
                    msg: format!("worker {w} stopped before sending batch {b}"),
                })
            })
        };
        if out.is_err() {
            self.done = true;
            self.shutdown();
        }
        Some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = if self.done && self.pending_error.is_none() {
            0
        } else {
            self.total - self.next + usize::from(self.pending_error.is_some())
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for DataLoaderIter {}

impl Drop for DataLoaderIter {
    fn drop(&mut self) {
        self.shutdown();
    }
}
