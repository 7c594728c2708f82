//! Synthetic data sets: definitions, statistics, determinism and validation.

use sinapsis::data::synthetic::{
    make_blobs, make_blobs_with_centers, make_circles, make_classification, make_moons,
    make_regression, toy_circle, BlobsConfig, Centers, ClassificationConfig, RegressionConfig,
};
use sinapsis::{DType, Tensor};

fn rows(x: &Tensor) -> Vec<Vec<f64>> {
    let d = x.dims()[1];
    x.to_dtype(DType::F64)
        .unwrap()
        .to_vec::<f64>()
        .unwrap()
        .chunks(d)
        .map(|r| r.to_vec())
        .collect()
}

fn labels(y: &Tensor) -> Vec<i64> {
    y.to_vec::<i64>().unwrap()
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    (m, var.sqrt())
}

fn count(y: &[i64], class: i64) -> usize {
    y.iter().filter(|&&c| c == class).count()
}

fn err_msg<T>(r: sinapsis::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn circles_noiseless_radii_and_counts() {
    for n in [1usize, 2, 7, 100, 101] {
        let (x, y) = make_circles(n, true, 0.0, 0.3, 1).unwrap();
        assert_eq!(x.dims(), &[n, 2]);
        assert_eq!((x.dtype(), y.dtype()), (DType::F32, DType::I64));
        let y = labels(&y);
        assert_eq!(count(&y, 0), n / 2);
        assert_eq!(count(&y, 1), n - n / 2);
        for (p, c) in rows(&x).iter().zip(&y) {
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            let want = if *c == 0 { 1.0 } else { 0.3 };
            assert!((r - want).abs() < 1e-6, "radius {r} for label {c}");
        }
    }
    // Unshuffled: outer circle first, at angles 0, 2π/n_out, ...
    let (x, y) = make_circles(8, false, 0.0, 0.5, 0).unwrap();
    assert_eq!(labels(&y), vec![0, 0, 0, 0, 1, 1, 1, 1]);
    let r = rows(&x);
    assert!((r[0][0] - 1.0).abs() < 1e-7 && r[0][1].abs() < 1e-7);
    assert!(r[1][0].abs() < 1e-7 && (r[1][1] - 1.0).abs() < 1e-7);
    assert!((r[4][0] - 0.5).abs() < 1e-7);
}

#[test]
fn circles_noise_statistics() {
    let noise = 0.05;
    let (x, y) = make_circles(20_000, true, noise, 0.5, 3).unwrap();
    let y = labels(&y);
    for (class, radius) in [(0, 1.0), (1, 0.5)] {
        let radii: Vec<f64> = rows(&x)
            .iter()
            .zip(&y)
            .filter(|(_, c)| **c == class)
            .map(|(p, _)| (p[0] * p[0] + p[1] * p[1]).sqrt())
            .collect();
        let (m, s) = mean_std(&radii);
        assert!((m - radius).abs() < 0.01, "mean radius {m} vs {radius}");
        assert!((s - noise).abs() < 0.1 * noise, "radius std {s} vs {noise}");
    }
}

#[test]
fn moons_noiseless_on_half_circles() {
    for n in [1usize, 2, 3, 50, 51] {
        let (x, y) = make_moons(n, true, 0.0, 5).unwrap();
        assert_eq!(x.dims(), &[n, 2]);
        let y = labels(&y);
        assert_eq!(count(&y, 0), n / 2);
        assert_eq!(count(&y, 1), n - n / 2);
        for (p, c) in rows(&x).iter().zip(&y) {
            let (cx, cy, upper) = if *c == 0 {
                (0.0, 0.0, true)
            } else {
                (1.0, 0.5, false)
            };
            let r = ((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt();
            assert!((r - 1.0).abs() < 1e-6, "label {c}: radius {r}");
            if upper {
                assert!(p[1] >= -1e-6);
            } else {
                assert!(p[1] <= 0.5 + 1e-6);
            }
        }
    }
    // Unshuffled endpoints: t = 0 and t = π included.
    let (x, _) = make_moons(6, false, 0.0, 0).unwrap();
    let r = rows(&x);
    assert!((r[0][0] - 1.0).abs() < 1e-6 && (r[2][0] + 1.0).abs() < 1e-6);
    assert!(r[3][0].abs() < 1e-6 && (r[3][1] - 0.5).abs() < 1e-6);
    assert!((r[5][0] - 2.0).abs() < 1e-6 && (r[5][1] - 0.5).abs() < 1e-6);
}

#[test]
fn moons_noise_std() {
    let (a, _) = make_moons(10_000, false, 0.0, 0).unwrap();
    let (b, _) = make_moons(10_000, false, 0.2, 0).unwrap();
    let diff: Vec<f64> = rows(&a)
        .iter()
        .zip(rows(&b))
        .flat_map(|(p, q)| [q[0] - p[0], q[1] - p[1]])
        .collect();
    let (m, s) = mean_std(&diff);
    assert!(m.abs() < 0.01 && (s - 0.2).abs() < 0.01, "{m} {s}");
}

#[test]
fn toy_circle_rule_and_fraction() {
    let (x, y) = toy_circle(50_000, 7).unwrap();
    assert_eq!((x.dims(), y.dims()), (&[50_000, 2][..], &[50_000][..]));
    let xs = x.to_vec::<f32>().unwrap();
    let y = labels(&y);
    for (p, c) in xs.chunks(2).zip(&y) {
        assert_eq!(*c, i64::from(p[0] * p[0] + p[1] * p[1] > 1.0));
    }
    let frac = count(&y, 1) as f64 / y.len() as f64;
    assert!((frac - (-0.5f64).exp()).abs() < 0.01, "fraction {frac}");
    let (m, s) = mean_std(&xs.iter().map(|&v| v as f64).collect::<Vec<_>>());
    assert!(m.abs() < 0.02 && (s - 1.0).abs() < 0.02);
}

#[test]
fn blobs_means_stds_and_counts() {
    let centers = vec![
        vec![0.0, 0.0, 0.0],
        vec![10.0, -5.0, 3.0],
        vec![-7.0, 4.0, 1.0],
    ];
    let stds = [0.5, 2.0, 1.0];
    let cfg = BlobsConfig {
        n_samples: 30_001,
        centers: Centers::Points(centers.clone()),
        cluster_std: stds.to_vec(),
        dtype: DType::F64,
        ..Default::default()
    };
    let (x, y, c) = make_blobs_with_centers(&cfg).unwrap();
    assert_eq!(
        (x.dims(), c.dims(), x.dtype()),
        (&[30_001, 3][..], &[3, 3][..], DType::F64)
    );
    assert_eq!(rows(&c), centers);
    let y = labels(&y);
    assert_eq!(
        [count(&y, 0), count(&y, 1), count(&y, 2)],
        [10_001, 10_000, 10_000]
    );
    let xr = rows(&x);
    for k in 0..3 {
        for j in 0..3 {
            let col: Vec<f64> = xr
                .iter()
                .zip(&y)
                .filter(|(_, c)| **c == k as i64)
                .map(|(r, _)| r[j])
                .collect();
            let (m, s) = mean_std(&col);
            assert!(
                (m - centers[k][j]).abs() < 0.1,
                "cluster {k} feature {j}: mean {m}"
            );
            assert!((s - stds[k]).abs() < 0.05 * stds[k], "cluster {k}: std {s}");
        }
    }
}

#[test]
fn blobs_random_centers_in_box() {
    let cfg = BlobsConfig {
        n_samples: 10,
        n_features: 4,
        centers: Centers::Count(5),
        center_box: (-2.0, 3.0),
        ..Default::default()
    };
    let (x, y, c) = make_blobs_with_centers(&cfg).unwrap();
    assert_eq!((x.dims(), c.dims()), (&[10, 4][..], &[5, 4][..]));
    assert!(rows(&c).iter().flatten().all(|&v| (-2.0..3.0).contains(&v)));
    let y = labels(&y);
    assert!((0..5).all(|k| count(&y, k) == 2));
    let (x2, _) = make_blobs(&BlobsConfig::default()).unwrap();
    assert_eq!(x2.dims(), &[100, 2]);
}

/// Solves the least-squares problem `a @ w ≈ b` (a: n x p, b: n) by normal equations.
fn lstsq(a: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let p = a[0].len();
    let mut m = vec![vec![0.0; p + 1]; p];
    for (row, &t) in a.iter().zip(b) {
        for i in 0..p {
            for j in 0..p {
                m[i][j] += row[i] * row[j];
            }
            m[i][p] += row[i] * t;
        }
    }
    for i in 0..p {
        let piv = (i..p)
            .max_by(|&r, &s| m[r][i].abs().total_cmp(&m[s][i].abs()))
            .unwrap();
        m.swap(i, piv);
        let pivot = m[i].clone();
        for (r, row) in m.iter_mut().enumerate() {
            if r != i {
                let f = row[i] / pivot[i];
                for (v, pv) in row.iter_mut().zip(&pivot).skip(i) {
                    *v -= f * pv;
                }
            }
        }
    }
    (0..p).map(|i| m[i][p] / m[i][i]).collect()
}

#[test]
fn classification_structure() {
    let cfg = ClassificationConfig {
        n_samples: 2000,
        n_features: 12,
        n_informative: 3,
        n_redundant: 4,
        n_repeated: 2,
        n_classes: 3,
        n_clusters_per_class: 2,
        flip_y: 0.0,
        shuffle: false,
        dtype: DType::F64,
        seed: 11,
        ..Default::default()
    };
    let (x, y) = make_classification(&cfg).unwrap();
    assert_eq!((x.dims(), y.dims()), (&[2000, 12][..], &[2000][..]));
    let y = labels(&y);
    let counts: Vec<usize> = (0..3).map(|k| count(&y, k)).collect();
    assert!(
        counts.iter().all(|&c| (666..=667).contains(&c)),
        "{counts:?}"
    );
    let xr = rows(&x);
    let inf: Vec<Vec<f64>> = xr.iter().map(|r| r[..3].to_vec()).collect();
    // Redundant and repeated columns are exact linear combinations of the informative ones.
    for j in 3..9 {
        let col: Vec<f64> = xr.iter().map(|r| r[j]).collect();
        let w = lstsq(&inf, &col);
        let max_res = inf
            .iter()
            .zip(&col)
            .map(|(r, t)| (r.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() - t).abs())
            .fold(0.0, f64::max);
        assert!(max_res < 1e-8, "column {j}: residual {max_res}");
    }
    // Repeated columns copy an informative or redundant column.
    for j in 7..9 {
        assert!(
            (0..7).any(|s| xr.iter().all(|r| r[j] == r[s])),
            "column {j}"
        );
    }
    // Useless columns are standard normal noise, not linear in the informative ones.
    for j in 9..12 {
        let col: Vec<f64> = xr.iter().map(|r| r[j]).collect();
        let (m, s) = mean_std(&col);
        assert!(
            m.abs() < 0.1 && (s - 1.0).abs() < 0.1,
            "column {j}: {m} {s}"
        );
        let w = lstsq(&inf, &col);
        let res: Vec<f64> = inf
            .iter()
            .zip(&col)
            .map(|(r, t)| t - r.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>())
            .collect();
        assert!(mean_std(&res).1 > 0.9);
    }
}

#[test]
fn classification_clusters_on_hypercube() {
    let cfg = ClassificationConfig {
        n_samples: 4000,
        n_features: 2,
        n_informative: 2,
        n_redundant: 0,
        n_clusters_per_class: 1,
        class_sep: 2.0,
        flip_y: 0.0,
        shuffle: false,
        ..Default::default()
    };
    let (x, y) = make_classification(&cfg).unwrap();
    let y = labels(&y);
    assert_eq!([count(&y, 0), count(&y, 1)], [2000, 2000]);
    let xr = rows(&x);
    let mut means = vec![];
    for k in 0..2 {
        let m: Vec<f64> = (0..2)
            .map(|j| {
                let col: Vec<f64> = xr
                    .iter()
                    .zip(&y)
                    .filter(|(_, c)| **c == k)
                    .map(|(r, _)| r[j])
                    .collect();
                mean_std(&col).0
            })
            .collect();
        for v in &m {
            assert!((v.abs() - 2.0).abs() < 0.15, "class {k} mean {v}");
        }
        means.push(m);
    }
    assert_ne!(
        means[0].iter().map(|v| v.signum()).collect::<Vec<_>>(),
        means[1].iter().map(|v| v.signum()).collect::<Vec<_>>(),
        "distinct vertices"
    );
}

#[test]
fn classification_flip_y_and_weights() {
    let base = ClassificationConfig {
        n_samples: 20_000,
        flip_y: 0.0,
        shuffle: false,
        seed: 4,
        ..Default::default()
    };
    let (x0, y0) = make_classification(&base).unwrap();
    let (x1, y1) = make_classification(&ClassificationConfig {
        flip_y: 0.2,
        ..base.clone()
    })
    .unwrap();
    assert_eq!(x0.to_vec::<f32>().unwrap(), x1.to_vec::<f32>().unwrap());
    let changed = labels(&y0)
        .iter()
        .zip(labels(&y1))
        .filter(|(a, b)| **a != *b)
        .count() as f64
        / 20_000.0;
    // A flipped label becomes a uniformly random class: it changes with probability 1/2.
    assert!((changed - 0.1).abs() < 0.01, "changed {changed}");

    let (_, y) = make_classification(&ClassificationConfig {
        n_samples: 1000,
        weights: Some(vec![0.75]),
        flip_y: 0.0,
        ..Default::default()
    })
    .unwrap();
    let y = labels(&y);
    assert_eq!([count(&y, 0), count(&y, 1)], [750, 250]);
}

#[test]
fn classification_shuffled_defaults() {
    let (x, y) = make_classification(&ClassificationConfig::default()).unwrap();
    assert_eq!((x.dims(), y.dims()), (&[100, 20][..], &[100][..]));
    assert!(labels(&y).iter().all(|&c| c == 0 || c == 1));
    // Many informative dimensions use the wide-vertex path.
    let (x, _) = make_classification(&ClassificationConfig {
        n_samples: 50,
        n_features: 70,
        n_informative: 66,
        n_redundant: 0,
        n_classes: 4,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(x.dims(), &[50, 70]);
}

#[test]
fn regression_exact_without_noise() {
    for (dtype, tol) in [(DType::F64, 1e-9), (DType::F32, 1e-3)] {
        let cfg = RegressionConfig {
            n_samples: 200,
            n_features: 8,
            n_informative: 3,
            bias: 2.5,
            dtype,
            seed: 9,
            ..Default::default()
        };
        let (x, y, coef) = make_regression(&cfg).unwrap();
        assert_eq!(
            (x.dims(), y.dims(), coef.dims()),
            (&[200, 8][..], &[200][..], &[8][..])
        );
        let coef = coef.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap();
        assert_eq!(coef.iter().filter(|&&c| c != 0.0).count(), 3);
        assert!(coef.iter().all(|&c| (0.0..100.0).contains(&c)));
        let y = y.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap();
        for (r, t) in rows(&x).iter().zip(&y) {
            let pred: f64 = r.iter().zip(&coef).map(|(a, b)| a * b).sum::<f64>() + 2.5;
            assert!((pred - t).abs() <= tol * t.abs().max(1.0), "{pred} vs {t}");
        }
    }
}

#[test]
fn regression_noise_and_targets() {
    let cfg = RegressionConfig {
        n_samples: 20_000,
        n_features: 4,
        n_informative: 4,
        n_targets: 2,
        noise: 3.0,
        dtype: DType::F64,
        ..Default::default()
    };
    let (x, y, coef) = make_regression(&cfg).unwrap();
    assert_eq!((y.dims(), coef.dims()), (&[20_000, 2][..], &[4, 2][..]));
    let c = rows(&coef);
    let yr = rows(&y);
    for k in 0..2 {
        let res: Vec<f64> = rows(&x)
            .iter()
            .zip(&yr)
            .map(|(r, t)| t[k] - (0..4).map(|j| r[j] * c[j][k]).sum::<f64>())
            .collect();
        let (m, s) = mean_std(&res);
        assert!(m.abs() < 0.1 && (s - 3.0).abs() < 0.1, "{m} {s}");
    }
}

#[test]
fn same_seed_same_data_different_seed_different() {
    fn all(seed: u64) -> Vec<Vec<f32>> {
        let f = |t: Tensor| t.to_dtype(DType::F32).unwrap().to_vec::<f32>().unwrap();
        let (a, b) = make_circles(50, true, 0.1, 0.5, seed).unwrap();
        let (c, d) = make_moons(50, true, 0.1, seed).unwrap();
        let (e, h) = toy_circle(50, seed).unwrap();
        let (i, j) = make_blobs(&BlobsConfig {
            seed,
            ..Default::default()
        })
        .unwrap();
        let (k, l) = make_classification(&ClassificationConfig {
            seed,
            ..Default::default()
        })
        .unwrap();
        let (m, n, o) = make_regression(&RegressionConfig {
            seed,
            noise: 1.0,
            ..Default::default()
        })
        .unwrap();
        [a, b, c, d, e, h, i, j, k, l, m, n, o]
            .into_iter()
            .map(f)
            .collect()
    }
    let (a, b, c) = (all(1), all(1), all(2));
    assert_eq!(a, b);
    for (i, (p, q)) in a.iter().zip(&c).enumerate() {
        assert_ne!(p, q, "output {i} did not change with the seed");
    }
}

#[test]
fn errors_name_the_bad_value() {
    assert!(err_msg(make_circles(0, true, 0.0, 0.5, 0)).contains("n_samples"));
    assert!(
        err_msg(make_circles(10, true, 0.0, 1.0, 0)).contains("factor must be in [0, 1), got 1")
    );
    assert!(err_msg(make_circles(10, true, 0.0, -0.1, 0)).contains("-0.1"));
    assert!(err_msg(make_circles(10, true, -1.0, 0.5, 0)).contains("got -1"));
    assert!(err_msg(make_moons(0, true, 0.0, 0)).contains("n_samples"));
    assert!(err_msg(make_moons(10, true, f64::NAN, 0)).contains("noise"));
    assert!(err_msg(toy_circle(0, 0)).contains("n_samples"));

    let blobs = |cfg: BlobsConfig| err_msg(make_blobs(&cfg));
    assert!(blobs(BlobsConfig {
        centers: Centers::Count(0),
        ..Default::default()
    })
    .contains("centers"));
    assert!(blobs(BlobsConfig {
        cluster_std: vec![1.0, 2.0],
        ..Default::default()
    })
    .contains("got 2"));
    assert!(blobs(BlobsConfig {
        cluster_std: vec![-1.0],
        ..Default::default()
    })
    .contains("-1"));
    assert!(blobs(BlobsConfig {
        centers: Centers::Points(vec![vec![0.0, 1.0], vec![1.0]]),
        ..Default::default()
    })
    .contains("center 1 has 1"));
    assert!(blobs(BlobsConfig {
        dtype: DType::I64,
        ..Default::default()
    })
    .contains("F32 or F64"));

    let cls = |cfg: ClassificationConfig| err_msg(make_classification(&cfg));
    let msg = cls(ClassificationConfig {
        n_features: 4,
        n_informative: 2,
        n_redundant: 2,
        n_repeated: 1,
        ..Default::default()
    });
    assert!(msg.contains("= 5 must be <= n_features (4)"), "{msg}");
    let msg = cls(ClassificationConfig {
        n_informative: 2,
        n_classes: 3,
        n_clusters_per_class: 2,
        ..Default::default()
    });
    assert!(
        msg.contains("n_classes (3) * n_clusters_per_class (2)"),
        "{msg}"
    );
    assert!(cls(ClassificationConfig {
        flip_y: 1.5,
        ..Default::default()
    })
    .contains("1.5"));
    assert!(cls(ClassificationConfig {
        n_informative: 0,
        ..Default::default()
    })
    .contains("n_informative"));
    assert!(cls(ClassificationConfig {
        weights: Some(vec![0.2, 0.3, 0.5]),
        ..Default::default()
    })
    .contains("got 3"));

    let reg = |cfg: RegressionConfig| err_msg(make_regression(&cfg));
    assert!(reg(RegressionConfig {
        n_features: 0,
        ..Default::default()
    })
    .contains("n_features"));
    assert!(reg(RegressionConfig {
        noise: -2.0,
        ..Default::default()
    })
    .contains("-2"));
    assert!(reg(RegressionConfig {
        n_samples: 0,
        ..Default::default()
    })
    .contains("n_samples"));
}
