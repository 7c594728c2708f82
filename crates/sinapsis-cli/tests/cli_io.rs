//! The command line's inputs and outputs through the functions `main.rs` calls: `predict` on
//! IDX files (raw and gzip), PNG images and CSV rows; `eval --data` on an IDX pair and a CSV
//! file, agreeing with `predict`; the misclassified-images grid of an MNIST run; `plot
//! activations`; and clear errors, naming the file, for inputs that do not fit.
//!
//! The MNIST tests share one 1-epoch run and skip (with a note) when MNIST is absent
//! (`$SINAPSIS_DATA_DIR/mnist`, else `../shared/data/mnist` beside the repository).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sinapsis::data::mnist::idx::encode_idx;
use sinapsis::data::mnist::{Mnist, Split};
use sinapsis_cli::run::{eval, plots, predict, train};

/// Test images taken from MNIST's test split.
const N_IMAGES: usize = 20;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sinapsis-cli-io-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The MNIST folder, absolute: `$SINAPSIS_DATA_DIR/mnist` (a relative value is tried from
/// the crate and from the repository root), else `../shared/data/mnist` beside the repository.
fn mnist_dir() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("SINAPSIS_DATA_DIR") {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d).join("mnist");
            vec![d.clone(), repo().join(&d)]
        }
        _ => vec![repo().join("../shared/data/mnist")],
    };
    let found = candidates.into_iter().find(|dir| {
        dir.join("train-images-idx3-ubyte.gz").is_file()
            || dir.join("train-images-idx3-ubyte").is_file()
    });
    if found.is_none() {
        eprintln!("MNIST not found: skipping (set SINAPSIS_DATA_DIR)");
    }
    found.map(|d| d.canonicalize().unwrap())
}

/// A run folder with its parent (for files the tests write).
struct Run {
    dir: PathBuf,
    scratch: PathBuf,
}

/// One 1-epoch MNIST MLP run shared by the MNIST tests (`None` without MNIST).
fn mnist_run() -> Option<&'static Run> {
    static RUN: OnceLock<Option<Run>> = OnceLock::new();
    RUN.get_or_init(|| {
        let data = mnist_dir()?;
        let out = temp_dir("mnist");
        let set = [
            "training.epochs=1".to_string(),
            format!("data.path={:?}", data.display().to_string()),
        ];
        let outcome = train::train(&repo().join("configs/mnist_mlp.toml"), Some(&out), &set)
            .expect("1-epoch MNIST run");
        Some(Run {
            dir: outcome.run_dir,
            scratch: out,
        })
    })
    .as_ref()
}

/// One short circles run (2 features, bce with a sigmoid output) shared by the tabular tests.
fn circles_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let out = temp_dir("circles");
        let set = ["training.epochs=20".to_string()];
        let outcome = train::train(&repo().join("configs/circles.toml"), Some(&out), &set)
            .expect("circles run");
        Run {
            dir: outcome.run_dir,
            scratch: out,
        }
    })
}

/// The first `N_IMAGES` test images (raw bytes) and labels.
fn first_test_images() -> (Vec<u8>, Vec<u8>) {
    let test = Mnist::load(mnist_dir().unwrap(), Split::Test).unwrap();
    (
        test.raw_images()[..N_IMAGES * 784].to_vec(),
        test.raw_labels()[..N_IMAGES].to_vec(),
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A predictions row: index, class, class name, probabilities.
struct Prediction {
    index: usize,
    class: usize,
    name: String,
    probs: Vec<f64>,
}

/// Parses `predict`'s CSV, checking the header and that each row's class is the argmax of
/// probabilities that sum to 1.
fn parse_predictions(csv: &str, classes: usize) -> Vec<Prediction> {
    let mut lines = csv.lines();
    let header: Vec<String> = (0..classes).map(|c| format!("p_{c}")).collect();
    assert_eq!(
        lines.next(),
        Some(format!("index,class,name,{}", header.join(",")).as_str())
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 3 + classes, "{line}");
            let probs: Vec<f64> = f[3..].iter().map(|p| p.parse().unwrap()).collect();
            let sum: f64 = probs.iter().sum();
            assert!(
                (sum - 1.0).abs() < 1e-4,
                "probabilities sum to {sum}: {line}"
            );
            let class: usize = f[1].parse().unwrap();
            let best = probs
                .iter()
                .enumerate()
                .fold(0, |b, (j, p)| if *p > probs[b] { j } else { b });
            assert_eq!(class, best, "class is not the most probable: {line}");
            Prediction {
                index: f[0].parse().unwrap(),
                class,
                name: f[2].to_string(),
                probs,
            }
        })
        .collect()
}

/// Writes 8-bit PNG `pixels` (`channels` per pixel: 1 gray, 3 RGB) of `w x h`.
fn write_png(path: &Path, w: u32, h: u32, channels: usize, pixels: &[u8]) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(match channels {
        1 => png::ColorType::Grayscale,
        3 => png::ColorType::Rgb,
        _ => unreachable!(),
    });
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().unwrap();
    writer.write_image_data(pixels).unwrap();
}

/// Width and height of a PNG file (and that it decodes).
fn png_size(path: &Path) -> (u32, u32) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap_or_else(|e| panic!("{}: not a PNG: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    (info.width, info.height)
}

fn error_of<T>(r: sinapsis::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn predict_on_idx_images_matches_eval_on_the_same_images() {
    let Some(run) = mnist_run() else { return };
    let (pixels, labels) = first_test_images();
    let dir = run.scratch.join("idx");
    std::fs::create_dir_all(&dir).unwrap();
    let images = encode_idx(&[N_IMAGES, 28, 28], &pixels).unwrap();
    let raw = dir.join("t10k-images-idx3-ubyte");
    std::fs::write(&raw, &images).unwrap();
    std::fs::write(
        dir.join("t10k-labels-idx1-ubyte"),
        encode_idx(&[N_IMAGES], &labels).unwrap(),
    )
    .unwrap();
    let gz = run.scratch.join("first20-images-idx3-ubyte.gz");
    std::fs::write(&gz, gzip(&images)).unwrap();
    std::fs::write(
        run.scratch.join("first20-labels-idx1-ubyte.gz"),
        gzip(&encode_idx(&[N_IMAGES], &labels).unwrap()),
    )
    .unwrap();

    // Raw and gzip IDX give the same predictions; --out writes what is printed.
    let out = run.scratch.join("pred.csv");
    predict::predict(&run.dir, &raw, Some(&out)).unwrap();
    let text = read(&out);
    assert_eq!(text, predict::predict_csv(&run.dir, &gz).unwrap());
    let preds = parse_predictions(&text, 10);
    assert_eq!(preds.len(), N_IMAGES);
    for (i, p) in preds.iter().enumerate() {
        assert_eq!(p.index, i);
        // torchvision's class names: "7 - seven".
        assert!(p.name.starts_with(&format!("{} - ", p.class)), "{}", p.name);
    }
    let correct = preds
        .iter()
        .zip(&labels)
        .filter(|(p, &l)| p.class == usize::from(l))
        .count();

    // eval on the same images, as a folder (t10k pair) and as an images file with its labels
    // beside it, agrees with predict exactly; one epoch gets most of 20 digits right.
    let metrics: serde_json::Value =
        serde_json::from_str(&read(&run.dir.join("metrics.json"))).unwrap();
    let run_acc = metrics["accuracy"].as_f64().unwrap();
    assert!(run_acc > 0.9, "1-epoch MNIST test accuracy {run_acc}");
    for data in [&dir, &gz] {
        let e = eval::evaluate_run(&run.dir, Some(data), true).unwrap();
        assert_eq!(e.samples, N_IMAGES);
        let acc = e.accuracy.unwrap();
        assert_eq!(acc, correct as f64 / N_IMAGES as f64, "{}", data.display());
        assert!(
            acc >= run_acc - 0.2,
            "accuracy {acc} on 20 images, {run_acc} on all"
        );
        let classes: Vec<usize> = preds.iter().map(|p| p.class).collect();
        assert_eq!(e.predictions, classes);
    }
}

#[test]
fn predict_on_png_images_gray_and_rgb() {
    let Some(run) = mnist_run() else { return };
    let (pixels, _) = first_test_images();
    let dir = run.scratch.join("png");
    std::fs::create_dir_all(&dir).unwrap();
    let idx = dir.join("first3-images-idx3-ubyte");
    std::fs::write(&idx, encode_idx(&[3, 28, 28], &pixels[..3 * 784]).unwrap()).unwrap();
    let from_idx = parse_predictions(&predict::predict_csv(&run.dir, &idx).unwrap(), 10);
    for (i, expected) in from_idx.iter().enumerate() {
        let img = &pixels[i * 784..(i + 1) * 784];
        let gray = dir.join(format!("digit{i}.png"));
        write_png(&gray, 28, 28, 1, img);
        let p = parse_predictions(&predict::predict_csv(&run.dir, &gray).unwrap(), 10);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].class, expected.class);
        assert_eq!(
            p[0].probs, expected.probs,
            "a gray PNG reads as the IDX image"
        );
        // RGB (upper-case extension): converted to luminance, the same digit.
        let rgb: Vec<u8> = img.iter().flat_map(|&v| [v, v, v]).collect();
        let colour = dir.join(format!("digit{i}_rgb.PNG"));
        write_png(&colour, 28, 28, 3, &rgb);
        let p = parse_predictions(&predict::predict_csv(&run.dir, &colour).unwrap(), 10);
        assert_eq!(p[0].class, expected.class);
        for (a, b) in p[0].probs.iter().zip(&expected.probs) {
            assert!((a - b).abs() < 1e-3, "RGB {a} vs gray {b}");
        }
    }
    // A PNG of the wrong size is an error naming the file and both sizes.
    let big = dir.join("big.png");
    write_png(&big, 32, 32, 1, &[0; 32 * 32]);
    let err = error_of(predict::predict_csv(&run.dir, &big));
    assert!(
        err.contains("big.png") && err.contains("[32, 32]") && err.contains("28 x 28"),
        "{err}"
    );
    // A file named .png that is not one.
    let fake = dir.join("fake.png");
    std::fs::write(&fake, b"not a png").unwrap();
    let err = error_of(predict::predict_csv(&run.dir, &fake));
    assert!(err.contains("fake.png"), "{err}");
}

#[test]
fn bad_image_inputs_are_errors_naming_the_file() {
    let Some(run) = mnist_run() else { return };
    let dir = run.scratch.join("bad-images");
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("nothing-here.idx");
    let err = error_of(predict::predict_csv(&run.dir, &missing));
    assert!(
        err.contains("nothing-here.idx") && err.contains("no such file"),
        "{err}"
    );
    let corrupt = dir.join("corrupt-images-idx3-ubyte");
    std::fs::write(&corrupt, [0x12, 0x34, 0x08, 0x03, 0, 0, 0, 1]).unwrap();
    let err = error_of(predict::predict_csv(&run.dir, &corrupt));
    assert!(
        err.contains("corrupt-images-idx3-ubyte") && err.contains("magic"),
        "{err}"
    );
    let truncated = dir.join("short-images-idx3-ubyte");
    let mut bytes = encode_idx(&[2, 28, 28], &[0; 2 * 784]).unwrap();
    bytes.truncate(100);
    std::fs::write(&truncated, bytes).unwrap();
    let err = error_of(predict::predict_csv(&run.dir, &truncated));
    assert!(
        err.contains("short-images-idx3-ubyte") && err.contains("truncated"),
        "{err}"
    );
    // A labels file is not an images file.
    let labels = dir.join("labels-idx1-ubyte");
    std::fs::write(&labels, encode_idx(&[3], &[1, 2, 3]).unwrap()).unwrap();
    let err = error_of(predict::predict_csv(&run.dir, &labels));
    assert!(
        err.contains("labels-idx1-ubyte") && err.contains("N x H x W"),
        "{err}"
    );
    // Images of another size.
    let small = dir.join("small-images-idx3-ubyte");
    std::fs::write(&small, encode_idx(&[2, 14, 14], &[0; 2 * 196]).unwrap()).unwrap();
    let err = error_of(predict::predict_csv(&run.dir, &small));
    assert!(
        err.contains("small-images-idx3-ubyte") && err.contains("28 x 28"),
        "{err}"
    );

    // eval --data: a pair that disagrees, an images file without labels, an empty folder.
    let pair = dir.join("pair-images-idx3-ubyte");
    std::fs::write(&pair, encode_idx(&[2, 28, 28], &[0; 2 * 784]).unwrap()).unwrap();
    let err = error_of(eval::evaluate_run(&run.dir, Some(&pair), false));
    assert!(
        err.contains("pair-labels-idx1-ubyte") && err.contains("not found"),
        "{err}"
    );
    std::fs::write(
        dir.join("pair-labels-idx1-ubyte"),
        encode_idx(&[3], &[1, 2, 3]).unwrap(),
    )
    .unwrap();
    let err = error_of(eval::evaluate_run(&run.dir, Some(&pair), false));
    assert!(
        err.contains("pair-labels-idx1-ubyte") && err.contains("expected 2 labels"),
        "{err}"
    );
    let err = error_of(eval::evaluate_run(&run.dir, Some(&truncated), false));
    assert!(err.contains("short-images-idx3-ubyte"), "{err}");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = error_of(eval::evaluate_run(&run.dir, Some(&empty), false));
    assert!(err.contains("t10k-images-idx3-ubyte"), "{err}");
}

#[test]
fn mnist_run_writes_a_misclassified_grid() {
    let Some(run) = mnist_run() else { return };
    let grid = run.dir.join("plots/misclassified.png");
    assert!(grid.is_file(), "missing {}", grid.display());
    let (w, h) = png_size(&grid);
    assert!(
        (200..=4000).contains(&w) && (200..=4000).contains(&h),
        "{w} x {h}"
    );
    let report = read(&run.dir.join("report.md"));
    assert!(report.contains("](plots/misclassified.png)"), "{report}");
    assert!(
        run.dir.join("plots/confusion_matrix.png").is_file(),
        "confusion matrix plot"
    );
}

#[test]
fn predict_on_csv_rows_of_a_circles_run() {
    let run = circles_run();
    let rows = run.scratch.join("points.csv");
    // A header, blank lines and spaces are fine.
    std::fs::write(&rows, "x0, x1\n0.0, 0.0\n\n1.0,0.0\n0.0,-1.0\n").unwrap();
    let preds = parse_predictions(&predict::predict_csv(&run.dir, &rows).unwrap(), 2);
    let classes: Vec<usize> = preds.iter().map(|p| p.class).collect();
    // make_circles: label 1 is the inner circle (radius 0.8), label 0 the outer (radius 1);
    // the origin is well inside.
    assert_eq!(classes[0], 1);
    assert_eq!(preds.len(), 3);
    let out = run.scratch.join("points_pred.csv");
    predict::predict(&run.dir, &rows, Some(&out)).unwrap();
    assert_eq!(read(&out), predict::predict_csv(&run.dir, &rows).unwrap());

    let bad = run.scratch.join("three_columns.csv");
    std::fs::write(&bad, "1.0,2.0,3.0\n").unwrap();
    let err = error_of(predict::predict_csv(&run.dir, &bad));
    assert!(
        err.contains("three_columns.csv") && err.contains("takes 2 features"),
        "{err}"
    );
    let text = run.scratch.join("words.csv");
    std::fs::write(&text, "x0,x1\n1.0,2.0\n1.0,abc\n").unwrap();
    let err = error_of(predict::predict_csv(&run.dir, &text));
    assert!(err.contains("words.csv") && err.contains("line 3"), "{err}");
    let empty = run.scratch.join("header_only.csv");
    std::fs::write(&empty, "x0,x1\n").unwrap();
    let err = error_of(predict::predict_csv(&run.dir, &empty));
    assert!(
        err.contains("header_only.csv") && err.contains("no data rows"),
        "{err}"
    );
    let missing = run.scratch.join("absent.csv");
    let err = error_of(predict::predict_csv(&run.dir, &missing));
    assert!(err.contains("absent.csv"), "{err}");
}

#[test]
fn eval_on_a_csv_file_of_a_circles_run() {
    let run = circles_run();
    // Points on the two circles, labelled as make_circles does, with a header.
    let mut csv = String::from("x0,x1,label\n");
    let mut rows = Vec::new();
    for i in 0..40 {
        let angle = i as f64 * std::f64::consts::TAU / 40.0;
        let (radius, label) = if i % 2 == 0 { (1.0, 0) } else { (0.8, 1) };
        let (x, y) = (radius * angle.cos(), radius * angle.sin());
        csv.push_str(&format!("{x},{y},{label}\n"));
        rows.push(format!("{x},{y}"));
    }
    let data = run.scratch.join("labelled.csv");
    std::fs::write(&data, &csv).unwrap();
    let e = eval::evaluate_run(&run.dir, Some(&data), true).unwrap();
    assert_eq!(e.samples, 40);
    let acc = e.accuracy.unwrap();
    let metrics: serde_json::Value =
        serde_json::from_str(&read(&run.dir.join("metrics.json"))).unwrap();
    let run_acc = metrics["accuracy"].as_f64().unwrap();
    assert!(
        acc >= run_acc - 0.1,
        "accuracy {acc} here, {run_acc} on the test split"
    );
    // The same points through predict give the same classes.
    let features = run.scratch.join("features.csv");
    std::fs::write(&features, rows.join("\n")).unwrap();
    let preds = parse_predictions(&predict::predict_csv(&run.dir, &features).unwrap(), 2);
    let classes: Vec<usize> = preds.iter().map(|p| p.class).collect();
    assert_eq!(e.predictions, classes);
    // The command prints and returns the same metrics.
    let printed = eval::eval(&run.dir, Some(&data)).unwrap();
    assert_eq!(printed.accuracy, Some(acc));

    // Mismatched files: features only, a label that is not a class, a missing file.
    let err = error_of(eval::evaluate_run(&run.dir, Some(&features), false));
    assert!(
        err.contains("features.csv") && err.contains("2 features then 1 target"),
        "{err}"
    );
    let odd = run.scratch.join("label7.csv");
    std::fs::write(&odd, "0.0,0.0,1\n1.0,0.0,7\n").unwrap();
    let err = error_of(eval::evaluate_run(&run.dir, Some(&odd), false));
    assert!(
        err.contains("label7.csv") && err.contains("sample 1: label 7"),
        "{err}"
    );
    let err = error_of(eval::evaluate_run(
        &run.dir,
        Some(&run.scratch.join("nope.csv")),
        false,
    ));
    assert!(err.contains("nope.csv"), "{err}");
}

#[test]
fn plot_activations_writes_png_and_svg_and_rejects_unknown_names() {
    let out = temp_dir("activations");
    let names = vec!["relu".to_string(), "gelu".to_string(), "tanh".to_string()];
    // A folder gets both formats.
    let files = plots::plot_activations(Some(&out.join("figs")), &names).unwrap();
    assert_eq!(
        files,
        vec![
            out.join("figs/activations.png"),
            out.join("figs/activations.svg")
        ]
    );
    let (w, h) = png_size(&files[0]);
    assert!(w >= 300 && h >= 200, "{w} x {h}");
    let svg = read(&files[1]);
    assert!(
        svg.starts_with("<svg") || svg.contains("<svg"),
        "not an SVG"
    );
    assert!(
        svg.contains("relu") || svg.contains("ReLU"),
        "no label in the SVG"
    );
    // A file name picks the format; no names plots all of them.
    let one = out.join("all.svg");
    assert_eq!(
        plots::plot_activations(Some(&one), &[]).unwrap(),
        vec![one.clone()]
    );
    assert!(read(&one).len() > read(&files[1]).len(), "all > three");
    // An unknown name is an error listing the known ones, and nothing is written.
    let err = error_of(plots::plot_activations(
        Some(&out.join("never")),
        &["relu".into(), "swishy".into()],
    ));
    assert!(err.contains("swishy"), "{err}");
    for known in sinapsis::plot::activation_names() {
        assert!(err.contains(known), "{known} not listed: {err}");
    }
    assert!(!out.join("never").exists());
    let err = error_of(plots::plot_activations(Some(&out.join("plot.jpg")), &names));
    assert!(err.contains("plot.jpg"), "{err}");
    let _ = std::fs::remove_dir_all(&out);
}

/// The binary itself: what it prints, and its exit codes (1 for errors, 2 for usage).
#[test]
fn binary_prints_predictions_and_exits_with_clear_codes() {
    let bin = env!("CARGO_BIN_EXE_sinapsis");
    let run = circles_run();
    let rows = run.scratch.join("binary_points.csv");
    std::fs::write(&rows, "0.0,0.0\n0.5,0.5\n").unwrap();
    let out = std::process::Command::new(bin)
        .arg("predict")
        .arg(&run.dir)
        .arg(&rows)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        predict::predict_csv(&run.dir, &rows).unwrap()
    );

    let out = std::process::Command::new(bin)
        .args(["plot", "activations", "swishy"])
        .current_dir(&run.scratch)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.contains("swishy") && err.contains("known: relu"),
        "{err}"
    );
    let missing = run.scratch.join("no-such-run");
    let out = std::process::Command::new(bin)
        .arg("eval")
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no-such-run") && err.contains("not a run folder"),
        "{err}"
    );
    let out = std::process::Command::new(bin)
        .arg("predict")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors exit with 2");
}
