//! `sinapsis::plot`: every plot writes a decodable PNG (checked with a small hand-written
//! decoder: signature, IHDR, zlib via flate2, scanline filters) with visible title text, and
//! an SVG holding its title; bad input gives errors, odd data (NaN, empty) does not panic.

use std::cell::Cell;
use std::io::Read;
use std::path::{Path, PathBuf};

use sinapsis::plot::{
    activation_curves, activation_names, confusion_matrix, decision_boundary, image_grid,
    line_chart, scatter, ImageTile, Marker, ScatterGroup, Series,
};
use sinapsis::Error;

/// A scratch folder under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("sinapsis-plot-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Names in the folder: no temporary files may be left behind.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SINAPSIS_KEEP_PLOTS=1 keeps the files, to look at them.
        if std::env::var_os("SINAPSIS_KEEP_PLOTS").is_some() {
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A decoded 8-bit PNG: width, height, channels and row-major samples.
struct Png {
    width: usize,
    height: usize,
    channels: usize,
    samples: Vec<u8>,
}

impl Png {
    fn luminance(&self, x: usize, y: usize) -> u32 {
        let at = (y * self.width + x) * self.channels;
        let px = &self.samples[at..at + self.channels.min(3)];
        if px.len() < 3 {
            return px[0] as u32;
        }
        (px[0] as u32 * 299 + px[1] as u32 * 587 + px[2] as u32 * 114) / 1000
    }

    /// Pixels darker than mid-grey in rows `rows`.
    fn dark_pixels(&self, rows: std::ops::Range<usize>) -> usize {
        rows.flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .filter(|&(x, y)| self.luminance(x, y) < 100)
            .count()
    }
}

fn decode_png(path: &Path) -> Png {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{}: not a PNG",
        path.display()
    );
    let mut at = 8;
    let (mut width, mut height, mut channels) = (0, 0, 0);
    let mut compressed = vec![];
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "bit depth");
                channels = match data[9] {
                    0 => 1,
                    2 => 3,
                    4 => 2,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
                assert_eq!(data[12], 0, "interlaced PNG");
            }
            b"IDAT" => compressed.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = vec![];
    flate2::read::ZlibDecoder::new(&compressed[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = width * channels;
    assert_eq!(raw.len(), height * (stride + 1), "decompressed size");
    let mut samples = vec![0u8; height * stride];
    for y in 0..height {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for i in 0..stride {
            let a = if i >= channels {
                samples[y * stride + i - channels]
            } else {
                0
            } as i32;
            let b = if y > 0 {
                samples[(y - 1) * stride + i]
            } else {
                0
            } as i32;
            let c = if y > 0 && i >= channels {
                samples[(y - 1) * stride + i - channels]
            } else {
                0
            } as i32;
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("filter {other}"),
            };
            samples[y * stride + i] = (line[i] as i32 + predicted) as u8;
        }
    }
    Png {
        width,
        height,
        channels,
        samples,
    }
}

/// Decodes the PNG, checks its size when given, and that its top `title_rows` hold text.
fn check_png(path: &Path, size: Option<(usize, usize)>, title_rows: usize) -> Png {
    let png = decode_png(path);
    if let Some(size) = size {
        assert_eq!((png.width, png.height), size, "{}", path.display());
    }
    let dark = png.dark_pixels(0..title_rows);
    assert!(
        dark > 30,
        "{}: only {dark} dark pixels in the title area",
        path.display()
    );
    png
}

fn check_svg(path: &Path, title: &str) {
    let svg = std::fs::read_to_string(path).unwrap();
    let start = svg.trim_start();
    assert!(
        start.starts_with("<svg") || start.starts_with("<?xml"),
        "{}",
        path.display()
    );
    assert!(
        svg.contains(title),
        "{}: title {title:?} missing",
        path.display()
    );
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "{}: truncated",
        path.display()
    );
}

fn series(name: &str, y: &[f64]) -> Series {
    Series {
        name: name.into(),
        x: (1..=y.len()).map(|i| i as f64).collect(),
        y: y.to_vec(),
    }
}

fn blobs() -> (Vec<[f64; 2]>, Vec<usize>) {
    let mut points = vec![];
    let mut labels = vec![];
    for i in 0..60 {
        let t = i as f64 * 0.37;
        let class = i % 3;
        let centre = [class as f64 * 3.0, (class % 2) as f64 * 2.0];
        points.push([centre[0] + t.sin(), centre[1] + (1.7 * t).cos()]);
        labels.push(class);
    }
    (points, labels)
}

fn is_invalid_argument(e: &Error, needle: &str) -> bool {
    matches!(e, Error::InvalidArgument { .. }) && e.to_string().contains(needle)
}

#[test]
fn line_chart_writes_png_and_svg_with_title() {
    let dir = Scratch::new("line");
    let train = series("train", &[2.3, 1.2, 0.8, 0.5, 0.41, 0.35]);
    let val = series("validation", &[2.4, 1.4, 1.0, 0.8, 0.78, 0.79]);
    for name in ["loss.png", "loss.svg"] {
        line_chart(
            &dir.path(name),
            "Loss per epoch",
            "epoch",
            "loss",
            &[train.clone(), val.clone()],
        )
        .unwrap();
    }
    check_png(&dir.path("loss.png"), Some((900, 560)), 45);
    check_svg(&dir.path("loss.svg"), "Loss per epoch");
    assert_eq!(
        dir.names(),
        ["loss.png", "loss.svg"],
        "temporary files left behind"
    );
}

#[test]
fn line_chart_survives_nan_inf_empty_and_long_series() {
    let dir = Scratch::new("line-odd");
    let broken = series(
        "nan",
        &[1.0, f64::NAN, 0.5, f64::INFINITY, 0.2, f64::NEG_INFINITY],
    );
    let empty = Series {
        name: "empty".into(),
        ..Series::default()
    };
    let all_nan = series("all nan", &[f64::NAN, f64::NAN]);
    let long = Series {
        name: "steps".into(),
        x: (0..50_000).map(|i| i as f64).collect(),
        y: (0..50_000).map(|i| 1.0 / (1.0 + i as f64)).collect(),
    };
    for name in ["odd.png", "odd.svg"] {
        let all = [broken.clone(), empty.clone(), all_nan.clone(), long.clone()];
        line_chart(&dir.path(name), "Odd data", "step", "loss", &all).unwrap();
    }
    check_png(&dir.path("odd.png"), None, 45);
    // Thinned: 50k points would take over a megabyte.
    assert!(std::fs::metadata(dir.path("odd.svg")).unwrap().len() < 600_000);
    for name in ["none.png", "none.svg"] {
        line_chart(&dir.path(name), "No data", "step", "loss", &[]).unwrap();
    }
    check_png(&dir.path("none.png"), None, 45);
    check_svg(&dir.path("none.svg"), "no data");
    line_chart(&dir.path("empty.png"), "Empty", "x", "y", &[empty, all_nan]).unwrap();
    check_png(&dir.path("empty.png"), None, 45);
}

#[test]
fn line_chart_rejects_mismatched_lengths_and_bad_extensions() {
    let dir = Scratch::new("line-bad");
    let bad = Series {
        name: "bad".into(),
        x: vec![1.0, 2.0],
        y: vec![1.0],
    };
    let err = line_chart(&dir.path("a.png"), "t", "x", "y", &[bad]).unwrap_err();
    assert!(is_invalid_argument(&err, "bad"), "{err}");
    for name in ["a.jpg", "noextension"] {
        let err = line_chart(&dir.path(name), "t", "x", "y", &[]).unwrap_err();
        assert!(is_invalid_argument(&err, name), "{err}");
    }
    assert!(dir.names().is_empty());
}

#[test]
fn confusion_matrix_writes_png_and_svg_with_counts() {
    let dir = Scratch::new("confusion");
    let names: Vec<String> = ["cat", "dog", "bird"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let counts = vec![vec![50, 2, 0], vec![5, 43, 7], vec![1, 0, 12345]];
    confusion_matrix(&dir.path("cm.png"), &counts, &names, "Confusion matrix").unwrap();
    confusion_matrix(&dir.path("cm.svg"), &counts, &names, "Confusion matrix").unwrap();
    let png = check_png(&dir.path("cm.png"), None, 45);
    // The darkest cell (12345) carries white text: both very dark and white pixels exist.
    assert!(png.dark_pixels(0..png.height) > 1000);
    check_svg(&dir.path("cm.svg"), "Confusion matrix");
    let svg = std::fs::read_to_string(dir.path("cm.svg")).unwrap();
    for text in ["12345", "43", "True label", "Predicted label", "bird"] {
        assert!(svg.contains(text), "{text} missing");
    }
    assert!(svg.contains("#FFFFFF") || svg.contains("#ffffff"));
}

#[test]
fn confusion_matrix_handles_twenty_classes_and_empty() {
    let dir = Scratch::new("confusion-20");
    let n = 20;
    let counts: Vec<Vec<u64>> = (0..n)
        .map(|t| {
            (0..n)
                .map(|p| if t == p { 980 } else { (t * p % 7) as u64 })
                .collect()
        })
        .collect();
    let names: Vec<String> = (0..n).map(|i| format!("class-{i}")).collect();
    confusion_matrix(&dir.path("cm20.png"), &counts, &names, "Twenty").unwrap();
    check_png(&dir.path("cm20.png"), None, 45);
    confusion_matrix(&dir.path("numbered.png"), &counts, &[], "Numbered").unwrap();
    confusion_matrix(&dir.path("none.png"), &[], &[], "No classes").unwrap();
    check_png(&dir.path("none.png"), None, 45);
}

#[test]
fn confusion_matrix_rejects_bad_shapes() {
    let dir = Scratch::new("confusion-bad");
    let ragged = vec![vec![1, 2], vec![3]];
    let err = confusion_matrix(&dir.path("a.png"), &ragged, &[], "t").unwrap_err();
    assert!(is_invalid_argument(&err, "square"), "{err}");
    let names = vec!["only one".to_string()];
    let err =
        confusion_matrix(&dir.path("a.png"), &[vec![1, 2], vec![3, 4]], &names, "t").unwrap_err();
    assert!(is_invalid_argument(&err, "class names"), "{err}");
    let err = confusion_matrix(&dir.path("a.gif"), &[vec![1]], &[], "t").unwrap_err();
    assert!(is_invalid_argument(&err, "a.gif"), "{err}");
}

#[test]
fn decision_boundary_binary_and_multiclass() {
    let dir = Scratch::new("boundary");
    let (points, labels) = blobs();
    let binary_labels: Vec<usize> = labels.iter().map(|&l| usize::from(l > 0)).collect();
    let calls = Cell::new(0);
    let logistic = |grid: &[[f64; 2]]| -> sinapsis::Result<Vec<f64>> {
        calls.set(calls.get() + 1);
        assert_eq!(grid.len(), 200 * 200);
        Ok(grid
            .iter()
            .map(|p| 1.0 / (1.0 + (-(2.0 * p[0] - 2.0 + p[1])).exp()))
            .collect())
    };
    for name in ["binary.png", "binary.svg"] {
        decision_boundary(
            &dir.path(name),
            "Binary boundary",
            &logistic,
            &points,
            &binary_labels,
        )
        .unwrap();
    }
    assert_eq!(calls.get(), 2, "one batched predict call per plot");
    check_png(&dir.path("binary.png"), Some((760, 700)), 45);
    check_svg(&dir.path("binary.svg"), "Binary boundary");

    let nearest = |grid: &[[f64; 2]]| -> sinapsis::Result<Vec<f64>> {
        Ok(grid
            .iter()
            .map(|p| (p[0] / 3.0).round().clamp(0.0, 2.0))
            .collect())
    };
    decision_boundary(
        &dir.path("multi.png"),
        "Three classes",
        &nearest,
        &points,
        &labels,
    )
    .unwrap();
    check_png(&dir.path("multi.png"), None, 45);
}

#[test]
fn decision_boundary_errors_and_odd_predictions() {
    let dir = Scratch::new("boundary-bad");
    let (points, labels) = blobs();
    let short = |_: &[[f64; 2]]| -> sinapsis::Result<Vec<f64>> { Ok(vec![0.5; 10]) };
    let err = decision_boundary(&dir.path("a.png"), "t", &short, &points, &labels).unwrap_err();
    assert!(
        is_invalid_argument(&err, "predict returned 10 values"),
        "{err}"
    );
    let failing = |_: &[[f64; 2]]| -> sinapsis::Result<Vec<f64>> {
        Err(Error::InvalidArgument {
            op: "model",
            msg: "boom".into(),
        })
    };
    let err = decision_boundary(&dir.path("a.png"), "t", &failing, &points, &labels).unwrap_err();
    assert!(err.to_string().contains("boom"));
    let err =
        decision_boundary(&dir.path("a.png"), "t", &short, &points, &labels[1..]).unwrap_err();
    assert!(is_invalid_argument(&err, "labels"), "{err}");
    let never = |_: &[[f64; 2]]| -> sinapsis::Result<Vec<f64>> { panic!("not called") };
    let err = decision_boundary(&dir.path("a.bmp"), "t", &never, &points, &labels).unwrap_err();
    assert!(is_invalid_argument(&err, "a.bmp"), "{err}");

    // NaN predictions and points, and no points at all, still draw.
    let nan = |grid: &[[f64; 2]]| -> sinapsis::Result<Vec<f64>> {
        Ok(grid
            .iter()
            .map(|p| if p[0] > 0.0 { f64::NAN } else { 0.2 })
            .collect())
    };
    let odd_points = [[f64::NAN, 1.0], [0.5, 0.5], [-0.5, f64::INFINITY]];
    decision_boundary(&dir.path("nan.png"), "NaN", &nan, &odd_points, &[0, 1, 1]).unwrap();
    decision_boundary(&dir.path("empty.png"), "Empty", &nan, &[], &[]).unwrap();
    check_png(&dir.path("empty.png"), None, 45);
    assert_eq!(dir.names(), ["empty.png", "nan.png"]);
}

#[test]
fn scatter_groups_with_markers() {
    let dir = Scratch::new("scatter");
    let (points, labels) = blobs();
    let groups = [
        ScatterGroup {
            name: "train".into(),
            points: points[..40].to_vec(),
            labels: labels[..40].to_vec(),
            marker: Marker::Circle,
        },
        ScatterGroup {
            name: "test".into(),
            points: points[40..].to_vec(),
            labels: labels[40..].to_vec(),
            marker: Marker::Cross,
        },
        ScatterGroup {
            name: "odd".into(),
            points: vec![[f64::NAN, 0.0], [1.0, 1.0]],
            labels: vec![0, 4],
            marker: Marker::Triangle,
        },
    ];
    scatter(&dir.path("s.png"), "Train and test", &groups).unwrap();
    scatter(&dir.path("s.svg"), "Train and test", &groups).unwrap();
    check_png(&dir.path("s.png"), Some((800, 640)), 45);
    check_svg(&dir.path("s.svg"), "Train and test");
    let svg = std::fs::read_to_string(dir.path("s.svg")).unwrap();
    assert!(svg.contains("test / class 2") && svg.contains("odd / class 4"));

    scatter(&dir.path("none.png"), "Nothing", &[]).unwrap();
    check_png(&dir.path("none.png"), None, 45);
    let bad = ScatterGroup {
        name: "bad".into(),
        points: vec![[0.0, 0.0]],
        labels: vec![],
        marker: Marker::Circle,
    };
    let err = scatter(&dir.path("bad.png"), "t", &[bad]).unwrap_err();
    assert!(is_invalid_argument(&err, "bad"), "{err}");
    let err = scatter(&dir.path("bad.pdf"), "t", &[]).unwrap_err();
    assert!(is_invalid_argument(&err, "bad.pdf"), "{err}");
}

#[test]
fn activation_curves_all_known_and_unknown_name() {
    let dir = Scratch::new("activations");
    activation_curves(&dir.path("all.png"), activation_names()).unwrap();
    check_png(&dir.path("all.png"), None, 40);
    activation_curves(&dir.path("some.svg"), &["relu", "gelu", "leaky_relu"]).unwrap();
    check_svg(&dir.path("some.svg"), "gelu");
    let err = activation_curves(&dir.path("x.png"), &["relu", "swish2"]).unwrap_err();
    assert!(is_invalid_argument(&err, "swish2"), "{err}");
    assert!(
        err.to_string().contains("sigmoid"),
        "lists the known names: {err}"
    );
    let err = activation_curves(&dir.path("x.txt"), &["relu"]).unwrap_err();
    assert!(is_invalid_argument(&err, "x.txt"), "{err}");
}

#[test]
fn image_grid_of_digits() {
    let dir = Scratch::new("images");
    let tiles: Vec<ImageTile> = (0..64)
        .map(|k| ImageTile {
            pixels: (0..28 * 28)
                .map(|i| ((i % 28) as f32 - 14.0).abs() * k as f32)
                .collect(),
            height: 28,
            width: 28,
            caption: format!("true {} / pred {}", k % 10, (k + 3) % 10),
        })
        .collect();
    image_grid(&dir.path("grid.png"), "Misclassified", &tiles).unwrap();
    image_grid(&dir.path("grid.svg"), "Misclassified", &tiles[..4]).unwrap();
    check_png(&dir.path("grid.png"), None, 40);
    check_svg(&dir.path("grid.svg"), "true 3 / pred 6");

    // A constant tile, NaN pixels and no tiles at all still draw.
    let odd = [
        ImageTile {
            pixels: vec![1.0; 4],
            height: 2,
            width: 2,
            caption: "flat".into(),
        },
        ImageTile {
            pixels: vec![f32::NAN, 0.0, 1.0, f32::INFINITY, 0.5, 0.2],
            height: 2,
            width: 3,
            caption: "nan".into(),
        },
    ];
    image_grid(&dir.path("odd.png"), "Odd", &odd).unwrap();
    image_grid(&dir.path("none.png"), "None", &[]).unwrap();
    check_png(&dir.path("none.png"), None, 40);
    let bad = ImageTile {
        pixels: vec![0.0; 5],
        height: 2,
        width: 3,
        caption: String::new(),
    };
    let err = image_grid(&dir.path("bad.png"), "t", &[bad]).unwrap_err();
    assert!(is_invalid_argument(&err, "2x3"), "{err}");
}
