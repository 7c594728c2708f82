//! Dataset / DataLoader / split tests: coverage, reproducibility, worker parity, errors.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sinapsis::data::dataset::{default_collate, Batch, Dataset, Subset, TensorDataset};
use sinapsis::data::loader::{DataLoader, RandomSampler, Sampler, SequentialSampler};
use sinapsis::data::split::{
    kfold, random_split, random_split_fractions, stratified_kfold, train_test_split, TestSize,
};
use sinapsis::{DType, Result, Tensor};

/// x[i] = [i, i + 0.5] (f32), y[i] = i (i64): batches reveal the indices they hold.
fn ds(n: usize) -> TensorDataset {
    let x: Vec<f32> = (0..n).flat_map(|i| [i as f32, i as f32 + 0.5]).collect();
    let y: Vec<i64> = (0..n as i64).collect();
    TensorDataset::new(vec![
        Tensor::from_vec(x, [n, 2]).unwrap(),
        Tensor::from_vec(y, [n]).unwrap(),
    ])
    .unwrap()
}

fn epoch_order(loader: &DataLoader, epoch: u64) -> Vec<Vec<i64>> {
    loader
        .iter_epoch(epoch)
        .map(|b| {
            let b = b.unwrap();
            let x = b[0].to_vec::<f32>().unwrap();
            let y = b[1].to_vec::<i64>().unwrap();
            assert_eq!(b[0].dims(), &[y.len(), 2]);
            for (k, &i) in y.iter().enumerate() {
                assert_eq!(x[2 * k], i as f32, "inputs and targets stay paired");
            }
            y
        })
        .collect()
}

#[test]
fn every_index_once_per_epoch() {
    for &workers in &[0usize, 1, 3] {
        for &drop_last in &[false, true] {
            for &shuffle in &[false, true] {
                let n = 23;
                let loader = DataLoader::new(ds(n), 5)
                    .unwrap()
                    .shuffle(shuffle)
                    .drop_last(drop_last)
                    .seed(11)
                    .num_workers(workers);
                let batches = epoch_order(&loader, 2);
                assert_eq!(batches.len(), loader.len());
                let expected_batches = if drop_last { 4 } else { 5 };
                assert_eq!(batches.len(), expected_batches);
                assert!(batches
                    .iter()
                    .all(|b| b.len() == 5 || (!drop_last && b.len() == 3)));
                let mut all: Vec<i64> = batches.concat();
                let before = all.len();
                all.sort();
                all.dedup();
                assert_eq!(all.len(), before, "no index twice");
                if drop_last {
                    assert_eq!(all.len(), 20);
                } else {
                    assert_eq!(all, (0..n as i64).collect::<Vec<_>>());
                }
                if !shuffle {
                    assert_eq!(batches[0], vec![0, 1, 2, 3, 4]);
                }
            }
        }
    }
}

#[test]
fn same_seed_epoch_same_order_and_epochs_differ() {
    let a = DataLoader::new(ds(50), 8).unwrap().shuffle(true).seed(3);
    let b = DataLoader::new(ds(50), 8).unwrap().shuffle(true).seed(3);
    assert_eq!(epoch_order(&a, 0), epoch_order(&b, 0));
    assert_eq!(epoch_order(&a, 7), epoch_order(&b, 7));
    assert_ne!(epoch_order(&a, 0), epoch_order(&a, 1));
    let c = DataLoader::new(ds(50), 8).unwrap().shuffle(true).seed(4);
    assert_ne!(epoch_order(&a, 0), epoch_order(&c, 0));
}

#[test]
fn resume_at_epoch_k_reproduces_it() {
    let loader = DataLoader::new(ds(30), 4).unwrap().shuffle(true).seed(5);
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(
            loader
                .iter()
                .map(|b| b.unwrap()[1].to_vec::<i64>().unwrap())
                .collect::<Vec<_>>(),
        );
    }
    let resumed = DataLoader::new(ds(30), 4).unwrap().shuffle(true).seed(5);
    resumed.set_epoch(2);
    let again: Vec<Vec<i64>> = (&resumed)
        .into_iter()
        .map(|b| b.unwrap()[1].to_vec::<i64>().unwrap())
        .collect();
    assert_eq!(again, seen[2]);
    assert_eq!(epoch_order(&resumed, 1), seen[1]);
}

#[test]
fn workers_match_single_thread() {
    let base = epoch_order(
        &DataLoader::new(ds(101), 7).unwrap().shuffle(true).seed(9),
        4,
    );
    for w in [1, 2, 3, 8] {
        let l = DataLoader::new(ds(101), 7)
            .unwrap()
            .shuffle(true)
            .seed(9)
            .num_workers(w)
            .prefetch(1);
        assert_eq!(epoch_order(&l, 4), base, "{w} workers");
    }
}

/// A per-item data set that counts calls, fails on one index, or panics on another.
struct Items {
    n: usize,
    fail_at: Option<usize>,
    panic_at: Option<usize>,
    gets: Arc<AtomicUsize>,
}

impl Dataset for Items {
    fn len(&self) -> usize {
        self.n
    }
    fn get(&self, i: usize) -> Result<Batch> {
        self.gets.fetch_add(1, Ordering::Relaxed);
        if Some(i) == self.fail_at {
            return Err(sinapsis::Error::Data {
                path: "items".into(),
                msg: format!("item {i} is broken"),
            });
        }
        if Some(i) == self.panic_at {
            panic!("item {i} panicked");
        }
        Ok(vec![
            Tensor::new(&[i as f32, 1.0])?,
            Tensor::new(&(i as i64))?,
        ])
    }
}

fn items(n: usize) -> Items {
    Items {
        n,
        fail_at: None,
        panic_at: None,
        gets: Arc::new(AtomicUsize::new(0)),
    }
}

#[test]
fn per_item_dataset_and_custom_collate() {
    let plain = DataLoader::new(items(10), 4).unwrap().num_workers(2);
    let b: Vec<Batch> = plain.iter_epoch(0).collect::<Result<_>>().unwrap();
    assert_eq!(b.len(), 3);
    assert_eq!(b[0][0].dims(), &[4, 2]);
    assert_eq!(b[2][1].to_vec::<i64>().unwrap(), vec![8, 9]);

    // A collate that keeps only the targets, summed.
    let custom = DataLoader::new(items(10), 5)
        .unwrap()
        .collate(|s: Vec<Batch>| {
            let mut b = default_collate(s)?;
            Ok(vec![b.remove(1).to_dtype(DType::F32)?.sum_all()?])
        });
    let sums: Vec<f32> = custom
        .iter_epoch(0)
        .map(|b| b.unwrap()[0].to_vec::<f32>().unwrap()[0])
        .collect();
    assert_eq!(sums, vec![10.0, 35.0]);
}

#[test]
fn worker_errors_and_panics_propagate() {
    for workers in [0, 1, 3] {
        let mut d = items(20);
        d.fail_at = Some(13);
        let l = DataLoader::new(d, 4).unwrap().num_workers(workers);
        let out: Vec<Result<Batch>> = l.iter_epoch(0).collect();
        assert_eq!(out.len(), 4, "3 good batches, then the error, then the end");
        assert!(out[..3].iter().all(|b| b.is_ok()));
        let msg = out[3].as_ref().unwrap_err().to_string();
        assert!(msg.contains("item 13 is broken"), "{msg}");
    }
    for workers in [1, 2] {
        let mut d = items(20);
        d.panic_at = Some(6);
        let l = DataLoader::new(d, 4).unwrap().num_workers(workers);
        let out: Vec<Result<Batch>> = l.iter_epoch(0).collect();
        let err = out.iter().find_map(|b| b.as_ref().err()).expect("an error");
        assert!(err.to_string().contains("panicked"), "{err}");
    }
}

#[test]
fn dropping_iterator_mid_epoch_stops_workers() {
    let d = items(1000);
    let gets = Arc::clone(&d.gets);
    let l = DataLoader::new(d, 10).unwrap().num_workers(3).prefetch(2);
    let mut it = l.iter_epoch(0);
    assert_eq!(it.len(), 100);
    let first = it.next().unwrap().unwrap();
    assert_eq!(
        first[1].to_vec::<i64>().unwrap(),
        (0..10).collect::<Vec<_>>()
    );
    drop(it); // joins the workers
    let after_drop = gets.load(Ordering::Relaxed);
    // Bounded prefetch: at most (prefetch + 1 in flight) batches per worker past the first.
    assert!(after_drop <= 10 * (1 + 3 * 3), "read {after_drop} items");
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(gets.load(Ordering::Relaxed), after_drop, "workers stopped");
}

#[test]
fn bad_arguments_are_errors() {
    assert!(DataLoader::new(ds(5), 0).is_err());
    let mismatched = TensorDataset::new(vec![
        Tensor::zeros([5, 2], DType::F32).unwrap(),
        Tensor::zeros([4], DType::I64).unwrap(),
    ]);
    assert!(mismatched
        .unwrap_err()
        .to_string()
        .contains("size mismatch"));
    assert!(TensorDataset::new(vec![]).is_err());
    assert!(TensorDataset::new(vec![Tensor::new(&1.0f32).unwrap()]).is_err());
    assert!(ds(5).get(5).is_err());
    assert!(ds(5).get_batch(&[0, 7]).is_err());
    assert!(train_test_split(10, TestSize::Fraction(0.0), true, 0, None).is_err());
    assert!(train_test_split(10, TestSize::Fraction(1.0), true, 0, None).is_err());
    assert!(train_test_split(10, TestSize::Fraction(-0.2), true, 0, None).is_err());
    assert!(train_test_split(10, TestSize::Fraction(f64::NAN), true, 0, None).is_err());
    assert!(train_test_split(10, TestSize::Count(10), true, 0, None).is_err());
    assert!(train_test_split(10, TestSize::Count(0), true, 0, None).is_err());
    assert!(train_test_split(3, TestSize::Count(1), true, 0, Some(&[0, 1])).is_err());
    assert!(train_test_split(3, TestSize::Count(1), false, 0, Some(&[0, 0, 0])).is_err());
    assert!(random_split(10, &[3, 3], 0).is_err());
    assert!(random_split_fractions(10, &[0.5, 0.6], 0).is_err());
    assert!(random_split_fractions(10, &[1.5, -0.5], 0).is_err());
    assert!(kfold(5, 1, false, 0).is_err());
    assert!(kfold(5, 6, false, 0).is_err());
    assert!(Subset::new(Arc::new(ds(3)), vec![3]).is_err());
}

#[test]
fn tensor_dataset_get_and_subset() {
    let d = ds(6);
    let item = d.get(4).unwrap();
    assert_eq!(item[0].to_vec::<f32>().unwrap(), vec![4.0, 4.5]);
    assert_eq!(item[1].dims(), &[] as &[usize]);
    let sub = Subset::new(Arc::new(ds(6)), vec![5, 0, 2]).unwrap();
    let l = DataLoader::new(sub, 2).unwrap();
    assert_eq!(epoch_order(&l, 0), vec![vec![5, 0], vec![2]]);
}

#[test]
fn samplers() {
    assert_eq!(SequentialSampler::new(3).indices(9).unwrap(), vec![0, 1, 2]);
    let s = RandomSampler::new(100, 1);
    assert_eq!(s.indices(3).unwrap(), s.indices(3).unwrap());
    // A custom sampler: reversed order.
    struct Rev(usize);
    impl Sampler for Rev {
        fn len(&self) -> usize {
            self.0
        }
        fn indices(&self, _: u64) -> Result<Vec<usize>> {
            Ok((0..self.0).rev().collect())
        }
    }
    let l = DataLoader::new(ds(5), 2)
        .unwrap()
        .sampler(Rev(5))
        .num_workers(2);
    assert_eq!(epoch_order(&l, 0), vec![vec![4, 3], vec![2, 1], vec![0]]);
}

#[test]
fn train_test_split_plain() {
    let (tr, te) = train_test_split(10, TestSize::Fraction(0.25), false, 0, None).unwrap();
    assert_eq!(tr, (0..7).collect::<Vec<_>>());
    assert_eq!(te, vec![7, 8, 9]);
    let (tr, te) = train_test_split(100, TestSize::Count(20), true, 1, None).unwrap();
    assert_eq!((tr.len(), te.len()), (80, 20));
    let mut all = [tr.clone(), te.clone()].concat();
    all.sort();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    assert_eq!(
        (tr, te),
        train_test_split(100, TestSize::Count(20), true, 1, None).unwrap()
    );
}

#[test]
fn stratified_split_keeps_class_ratios() {
    // 60% class 0, 30% class 1, 10% class 2.
    let labels: Vec<i64> = (0..200)
        .map(|i| match i % 10 {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        })
        .collect();
    for seed in 0..5 {
        let (tr, te) =
            train_test_split(200, TestSize::Fraction(0.25), true, seed, Some(&labels)).unwrap();
        assert_eq!((tr.len(), te.len()), (150, 50));
        let count = |idx: &[usize], c: i64| idx.iter().filter(|&&i| labels[i] == c).count();
        assert_eq!([count(&te, 0), count(&te, 1), count(&te, 2)], [30, 15, 5]);
        assert_eq!([count(&tr, 0), count(&tr, 1), count(&tr, 2)], [90, 45, 15]);
        let mut all = [tr, te].concat();
        all.sort();
        assert_eq!(all, (0..200).collect::<Vec<_>>());
    }
    // Uneven: 7 of class 0, 3 of class 1, test 3 -> sklearn gives test [2, 1].
    let labels = [0i64, 0, 0, 0, 0, 0, 0, 1, 1, 1];
    let (_, te) = train_test_split(10, TestSize::Count(3), true, 2, Some(&labels)).unwrap();
    let ones = te.iter().filter(|&&i| labels[i] == 1).count();
    assert_eq!((te.len() - ones, ones), (2, 1));
}

#[test]
fn random_split_and_kfold() {
    let parts = random_split_fractions(10, &[0.3, 0.3, 0.4], 7).unwrap();
    assert_eq!(
        parts.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![3, 3, 4]
    );
    let mut all = parts.concat();
    all.sort();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
    assert_eq!(
        parts,
        random_split_fractions(10, &[0.3, 0.3, 0.4], 7).unwrap()
    );

    for shuffle in [false, true] {
        let folds = kfold(11, 3, shuffle, 4).unwrap();
        assert_eq!(
            folds.iter().map(|f| f.1.len()).collect::<Vec<_>>(),
            vec![4, 4, 3]
        );
        let mut tests: Vec<usize> = folds.iter().flat_map(|f| f.1.clone()).collect();
        tests.sort();
        assert_eq!(tests, (0..11).collect::<Vec<_>>());
        for (tr, te) in &folds {
            assert_eq!(tr.len() + te.len(), 11);
            assert!(tr.iter().all(|i| !te.contains(i)));
        }
    }
    let labels: Vec<i64> = (0..30).map(|i| i64::from(i % 3 == 0)).collect();
    for (tr, te) in stratified_kfold(&labels, 5, true, 1).unwrap() {
        assert_eq!(te.len(), 6);
        assert_eq!(te.iter().filter(|&&i| labels[i] == 1).count(), 2);
        assert_eq!(tr.len(), 24);
    }
}
