//! Index splits: [`train_test_split`] (scikit-learn's, with stratification), [`random_split`]
//! (PyTorch's) and k-fold indices ([`kfold`], [`stratified_kfold`]).
//!
//! All functions work on indices `0..n`, so they apply to any data set (wrap the result in
//! [`Subset`](super::dataset::Subset) or gather with `index_select`). Randomness comes from
//! `Generator::new(seed)` only.

use std::collections::BTreeMap;

use crate::{Error, Generator, Result};

fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        msg: msg.into(),
    }
}

fn perm(g: &mut Generator, n: usize) -> Result<Vec<usize>> {
    Ok(g.randperm(n)?
        .to_vec::<i64>()?
        .into_iter()
        .map(|i| i as usize)
        .collect())
}

/// The size of a test set: a fraction of the samples (rounded up, as scikit-learn) or a
/// count.
///
/// ```
/// use sinapsis::data::split::TestSize;
/// assert_eq!(TestSize::Fraction(0.25).resolve(10)?, 3);
/// assert_eq!(TestSize::Count(4).resolve(10)?, 4);
/// assert!(TestSize::Fraction(1.5).resolve(10).is_err());
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TestSize {
    /// `ceil(fraction * n)` test samples; the fraction must lie in (0, 1).
    Fraction(f64),
    /// Exactly this many test samples.
    Count(usize),
}

impl TestSize {
    /// The number of test samples out of `n`.
    ///
    /// # Errors
    /// If the fraction is outside (0, 1), or the train or test set would be empty.
    ///
    /// ```
    /// use sinapsis::data::split::TestSize;
    /// assert!(TestSize::Count(10).resolve(10).is_err());
    /// ```
    pub fn resolve(self, n: usize) -> Result<usize> {
        let op = "train_test_split";
        let n_test = match self {
            TestSize::Fraction(f) => {
                if !(f > 0.0 && f < 1.0) {
                    return Err(invalid(
                        op,
                        format!("test fraction must be in (0, 1), got {f}"),
                    ));
                }
                (f * n as f64).ceil() as usize
            }
            TestSize::Count(c) => c,
        };
        if n_test == 0 || n_test >= n {
            return Err(invalid(
                op,
                format!(
                    "with n_samples={n} and test size {self:?} the {} set would be empty",
                    if n_test == 0 { "test" } else { "train" }
                ),
            ));
        }
        Ok(n_test)
    }
}

/// Splits `0..n` into `(train, test)` index lists (scikit-learn's `train_test_split`).
///
/// Without `shuffle` the test set is the last `n_test` indices. With `stratify` (one class
/// label per sample; requires `shuffle`) each class keeps its share in both sets, allocated
/// as scikit-learn's `StratifiedShuffleSplit` does (largest remainders, ties broken at
/// random).
///
/// # Errors
/// If the test size is invalid, `stratify` has the wrong length, is used without shuffle,
/// or some class has fewer than 2 members.
///
/// ```
/// use sinapsis::data::split::{train_test_split, TestSize};
/// let labels = [0i64, 0, 0, 0, 0, 0, 1, 1, 1, 1];
/// let (train, test) = train_test_split(10, TestSize::Fraction(0.5), true, 0, Some(&labels))?;
/// assert_eq!((train.len(), test.len()), (5, 5));
/// assert_eq!(test.iter().filter(|&&i| labels[i] == 1).count(), 2);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn train_test_split(
    n: usize,
    test_size: TestSize,
    shuffle: bool,
    seed: u64,
    stratify: Option<&[i64]>,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let op = "train_test_split";
    let n_test = test_size.resolve(n)?;
    let n_train = n - n_test;
    let mut g = Generator::new(seed);
    let Some(labels) = stratify else {
        if !shuffle {
            return Ok(((0..n_train).collect(), (n_train..n).collect()));
        }
        let p = perm(&mut g, n)?;
        return Ok((p[n_test..].to_vec(), p[..n_test].to_vec()));
    };
    if !shuffle {
        return Err(invalid(op, "stratified splits require shuffle = true"));
    }
    if labels.len() != n {
        return Err(invalid(
            op,
            format!("stratify has {} labels for {n} samples", labels.len()),
        ));
    }
    let classes = group_by_class(labels);
    if let Some((c, idx)) = classes.iter().find(|(_, idx)| idx.len() < 2) {
        return Err(invalid(
            op,
            format!(
                "class {c} has {} member(s); stratified splits need at least 2 per class",
                idx.len()
            ),
        ));
    }
    let n_classes = classes.len();
    if n_train < n_classes || n_test < n_classes {
        return Err(invalid(
            op,
            format!(
                "train size {n_train} and test size {n_test} must each be at least the number of classes ({n_classes})"
            ),
        ));
    }
    let counts: Vec<usize> = classes.values().map(Vec::len).collect();
    let n_i = approximate_mode(&counts, n_train, &mut g)?;
    let rest: Vec<usize> = counts.iter().zip(&n_i).map(|(c, a)| c - a).collect();
    let t_i = approximate_mode(&rest, n_test, &mut g)?;
    let mut train = Vec::with_capacity(n_train);
    let mut test = Vec::with_capacity(n_test);
    for (k, idx) in classes.values().enumerate() {
        let p = perm(&mut g, idx.len())?;
        let shuffled: Vec<usize> = p.iter().map(|&j| idx[j]).collect();
        train.extend_from_slice(&shuffled[..n_i[k]]);
        test.extend_from_slice(&shuffled[n_i[k]..n_i[k] + t_i[k]]);
    }
    let pt = perm(&mut g, train.len())?;
    let ps = perm(&mut g, test.len())?;
    Ok((
        pt.iter().map(|&j| train[j]).collect(),
        ps.iter().map(|&j| test[j]).collect(),
    ))
}

fn group_by_class(labels: &[i64]) -> BTreeMap<i64, Vec<usize>> {
    let mut classes: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, &c) in labels.iter().enumerate() {
        classes.entry(c).or_default().push(i);
    }
    classes
}

/// scikit-learn's `_approximate_mode`: `draws` spread over classes in proportion to
/// `counts`, floors first, then one more to the largest remainders (ties at random).
fn approximate_mode(counts: &[usize], draws: usize, g: &mut Generator) -> Result<Vec<usize>> {
    let total: usize = counts.iter().sum();
    let cont: Vec<f64> = counts
        .iter()
        .map(|&c| c as f64 / total as f64 * draws as f64)
        .collect();
    let mut out: Vec<usize> = cont.iter().map(|c| c.floor() as usize).collect();
    let mut need = draws.saturating_sub(out.iter().sum());
    if need > 0 {
        // Classes by remainder, descending; equal remainders in random order.
        let order = perm(g, counts.len())?;
        let mut by_rem: Vec<usize> = order;
        by_rem.sort_by(|&a, &b| {
            let (ra, rb) = (cont[a] - cont[a].floor(), cont[b] - cont[b].floor());
            rb.partial_cmp(&ra).unwrap_or(std::cmp::Ordering::Equal)
        });
        for k in by_rem {
            if need == 0 {
                break;
            }
            if out[k] < counts[k] {
                out[k] += 1;
                need -= 1;
            }
        }
    }
    Ok(out)
}

/// Splits a random permutation of `0..n` into consecutive parts of the given `lengths`
/// (PyTorch's `random_split` with integer lengths).
///
/// # Errors
/// If the lengths do not sum to `n`.
///
/// ```
/// use sinapsis::data::split::random_split;
/// let parts = random_split(10, &[7, 3], 0)?;
/// assert_eq!((parts[0].len(), parts[1].len()), (7, 3));
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn random_split(n: usize, lengths: &[usize], seed: u64) -> Result<Vec<Vec<usize>>> {
    let sum: usize = lengths.iter().sum();
    if sum != n {
        return Err(invalid(
            "random_split",
            format!("sum of lengths {lengths:?} is {sum}, not the data set length {n}"),
        ));
    }
    let p = perm(&mut Generator::new(seed), n)?;
    let mut out = Vec::with_capacity(lengths.len());
    let mut start = 0;
    for &l in lengths {
        out.push(p[start..start + l].to_vec());
        start += l;
    }
    Ok(out)
}

/// [`random_split`] with fractions summing to 1: each part gets `floor(f * n)` and the
/// remainder is dealt one by one round-robin from the first part (as PyTorch).
///
/// # Errors
/// If a fraction is outside [0, 1] or they do not sum to 1 (within 1e-6).
///
/// ```
/// use sinapsis::data::split::random_split_fractions;
/// let parts = random_split_fractions(11, &[0.5, 0.5], 0)?;
/// assert_eq!((parts[0].len(), parts[1].len()), (6, 5));
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn random_split_fractions(n: usize, fractions: &[f64], seed: u64) -> Result<Vec<Vec<usize>>> {
    let op = "random_split";
    if let Some(f) = fractions.iter().find(|f| !(0.0..=1.0).contains(*f)) {
        return Err(invalid(op, format!("fraction {f} is outside [0, 1]")));
    }
    let sum: f64 = fractions.iter().sum();
    if (sum - 1.0).abs() > 1e-6 {
        return Err(invalid(op, format!("fractions sum to {sum}, not 1")));
    }
    let mut lengths: Vec<usize> = fractions
        .iter()
        .map(|f| (f * n as f64).floor() as usize)
        .collect();
    let rem = n - lengths.iter().sum::<usize>();
    for i in 0..rem {
        let k = i % lengths.len();
        lengths[k] += 1;
    }
    random_split(n, &lengths, seed)
}

/// K-fold `(train, test)` index pairs (scikit-learn's `KFold`): fold `i` tests on a
/// contiguous block of (optionally shuffled) indices; the first `n % k` folds get one
/// extra sample.
///
/// # Errors
/// If `k < 2` or `k > n`.
///
/// ```
/// use sinapsis::data::split::kfold;
/// let folds = kfold(10, 3, false, 0)?;
/// assert_eq!(folds[0].1, vec![0, 1, 2, 3]);
/// assert_eq!(folds[2].0.len(), 7);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[allow(clippy::type_complexity)]
pub fn kfold(
    n: usize,
    k: usize,
    shuffle: bool,
    seed: u64,
) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    check_k("kfold", n, k)?;
    let order: Vec<usize> = if shuffle {
        perm(&mut Generator::new(seed), n)?
    } else {
        (0..n).collect()
    };
    let mut fold_of = vec![0usize; n];
    let mut start = 0;
    for f in 0..k {
        let size = n / k + usize::from(f < n % k);
        for &i in &order[start..start + size] {
            fold_of[i] = f;
        }
        start += size;
    }
    Ok(folds_from_assignment(&fold_of, k))
}

fn check_k(op: &'static str, n: usize, k: usize) -> Result<()> {
    if k < 2 || k > n {
        return Err(invalid(
            op,
            format!("k must be in 2..={n} (the number of samples), got {k}"),
        ));
    }
    Ok(())
}

fn folds_from_assignment(fold_of: &[usize], k: usize) -> Vec<(Vec<usize>, Vec<usize>)> {
    (0..k)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..fold_of.len()).partition(|&i| fold_of[i] == f);
            (train, test)
        })
        .collect()
}

/// Stratified k-fold `(train, test)` index pairs (scikit-learn's `StratifiedKFold`): each
/// class is dealt over the folds as evenly as possible, so every test fold keeps the class
/// ratios. With `shuffle` the fold of each sample within its class is random.
///
/// # Errors
/// If `k < 2`, `k > n`, or every class has fewer than `k` members.
///
/// ```
/// use sinapsis::data::split::stratified_kfold;
/// let labels = [0i64, 0, 0, 0, 1, 1, 1, 1];
/// for (train, test) in stratified_kfold(&labels, 2, true, 3)? {
///     assert_eq!(test.iter().filter(|&&i| labels[i] == 1).count(), 2);
///     assert_eq!(train.len(), 4);
/// }
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[allow(clippy::type_complexity)]
pub fn stratified_kfold(
    labels: &[i64],
    k: usize,
    shuffle: bool,
    seed: u64,
) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    let op = "stratified_kfold";
    let n = labels.len();
    check_k(op, n, k)?;
    let classes = group_by_class(labels);
    if classes.values().all(|idx| idx.len() < k) {
        return Err(invalid(
            op,
            format!("k={k} is greater than the number of members in every class"),
        ));
    }
    // Samples sorted by class, dealt round-robin: allocation[f][c] = members of class c in
    // fold f (scikit-learn's allocation).
    let sorted: Vec<usize> = classes
        .values()
        .enumerate()
        .flat_map(|(c, idx)| std::iter::repeat_n(c, idx.len()))
        .collect();
    let mut alloc = vec![vec![0usize; classes.len()]; k];
    for (pos, &c) in sorted.iter().enumerate() {
        alloc[pos % k][c] += 1;
    }
    let mut g = Generator::new(seed);
    let mut fold_of = vec![0usize; n];
    for (c, idx) in classes.values().enumerate() {
        let mut folds: Vec<usize> = (0..k)
            .flat_map(|f| std::iter::repeat_n(f, alloc[f][c]))
            .collect();
        if shuffle {
            let p = perm(&mut g, folds.len())?;
            folds = p.iter().map(|&j| folds[j]).collect();
        }
        for (&i, &f) in idx.iter().zip(&folds) {
            fold_of[i] = f;
        }
    }
    Ok(folds_from_assignment(&fold_of, k))
}
