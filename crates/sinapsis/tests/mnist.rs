//! MNIST/Fashion-MNIST: the real data (when present), the IDX reader's errors on bad files,
//! MD5, and the downloader against a loopback HTTP server and `file://` URLs.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sinapsis::data::dataset::Dataset;
use sinapsis::data::mnist::idx::encode_idx;
use sinapsis::data::mnist::{
    download_files, md5_hex, parse_idx, DatasetKind, FashionMnist, Mnist, RemoteFile, Split,
};
use sinapsis::{Error, Tensor};

/// The real MNIST folder: `$SINAPSIS_DATA_DIR/mnist`, else `../shared/data/mnist` beside the
/// repository. `None` (test skipped with a note) when absent.
fn real_mnist_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SINAPSIS_DATA_DIR") {
        Some(d) => PathBuf::from(d).join("mnist"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist"),
    };
    if dir.join("train-images-idx3-ubyte.gz").is_file()
        || dir.join("train-images-idx3-ubyte").is_file()
    {
        Some(dir)
    } else {
        eprintln!("MNIST not found at {}: skipping", dir.display());
        None
    }
}

fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sinapsis-mnist-test-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Writes a tiny valid split (n images of 28x28, labels given) into `dir`, gzip or raw.
fn write_split(dir: &Path, split: Split, labels: &[u8], gzip: bool) {
    let n = labels.len();
    let pixels: Vec<u8> = (0..n * 784).map(|i| (i % 256) as u8).collect();
    let (img, lbl) = sinapsis::data::mnist::file_names(split);
    let img_bytes = encode_idx(&[n, 28, 28], &pixels).unwrap();
    let lbl_bytes = encode_idx(&[n], labels).unwrap();
    if gzip {
        std::fs::write(dir.join(format!("{img}.gz")), gz(&img_bytes)).unwrap();
        std::fs::write(dir.join(format!("{lbl}.gz")), gz(&lbl_bytes)).unwrap();
    } else {
        std::fs::write(dir.join(img), img_bytes).unwrap();
        std::fs::write(dir.join(lbl), lbl_bytes).unwrap();
    }
}

/// The `Error::Data` parts, or a panic naming what came instead.
fn data_err<T: std::fmt::Debug>(r: sinapsis::Result<T>) -> (String, String) {
    match r {
        Err(Error::Data { path, msg }) => (path, msg),
        other => panic!("expected Error::Data, got {other:?}"),
    }
}

#[test]
fn real_mnist_train_and_test() {
    let Some(dir) = real_mnist_dir() else { return };
    let train = Mnist::load(&dir, Split::Train).unwrap();
    assert_eq!(train.len(), 60000);
    assert_eq!(train.images().dims(), &[60000, 1, 28, 28]);
    assert_eq!(train.labels().dims(), &[60000]);
    assert_eq!(train.images_flat().unwrap().dims(), &[60000, 784]);
    let labels = train.labels().to_vec::<i64>().unwrap();
    assert_eq!(labels[0], 5);
    let mut counts = [0usize; 10];
    for &l in &labels {
        counts[l as usize] += 1;
    }
    assert_eq!(
        counts,
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    let raw = train.raw_images();
    assert_eq!(raw.len(), 60000 * 784);
    assert_eq!(*raw.iter().max().unwrap(), 255);
    assert_eq!(*raw.iter().min().unwrap(), 0);
    let px = train.images().to_vec::<f32>().unwrap();
    assert!(px.iter().all(|&p| (0.0..=1.0).contains(&p)));
    assert_eq!(px.iter().cloned().fold(f32::MIN, f32::max), 1.0);
    // Same pixel, two views.
    let i = raw.iter().position(|&p| p > 0 && p < 255).unwrap();
    assert_eq!(px[i], f32::from(raw[i]) / 255.0);

    let test = Mnist::load(&dir, Split::Test).unwrap();
    assert_eq!(test.len(), 10000);
    assert_eq!(test.split(), Split::Test);
    let mut counts = [0usize; 10];
    for &l in test.raw_labels() {
        counts[l as usize] += 1;
    }
    assert_eq!(
        counts,
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
}

#[test]
fn small_gzip_and_raw_folders_load() {
    let dir = temp_dir("small");
    write_split(&dir, Split::Train, &[3, 1, 4, 1, 5], true);
    write_split(&dir, Split::Test, &[9, 2], false);
    let train = Mnist::load(&dir, Split::Train).unwrap();
    assert_eq!(train.len(), 5);
    assert!(!train.is_empty());
    assert_eq!(train.image_size(), (28, 28));
    assert_eq!(train.labels().to_vec::<i64>().unwrap(), vec![3, 1, 4, 1, 5]);
    let px = train.images().to_vec::<f32>().unwrap();
    assert_eq!(px[255], 1.0);
    assert_eq!(px[256], 0.0);
    assert_eq!(train.classes()[3], "3 - three");
    let test = Mnist::load(&dir, Split::Test).unwrap();
    assert_eq!(test.raw_labels(), &[9, 2]);
    let fashion = FashionMnist::load(&dir, Split::Test).unwrap();
    assert_eq!(fashion.kind(), DatasetKind::FashionMnist);
    assert_eq!(
        fashion.classes()[fashion.raw_labels()[0] as usize],
        "Ankle boot"
    );
    assert_eq!(fashion.into_inner().images().dims(), &[2, 1, 28, 28]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Batches gathered from the u8 pixels equal `byte / 255` computed plainly, bit for bit, in
/// both layouts, as does the f32 image tensor; items are batches of one without the batch
/// dim; bad indices are errors.
#[test]
fn mnist_dataset_batches_match_the_image_tensor() {
    let dir = temp_dir("dataset");
    write_split(&dir, Split::Train, &[3, 1, 4, 1, 5], true);
    let train = Mnist::load(&dir, Split::Train).unwrap();
    let idx = [4usize, 0, 2, 0];
    let plain: Vec<f32> = train
        .raw_images()
        .iter()
        .map(|&p| p as f32 / 255.0)
        .collect();
    assert_eq!(train.images().to_vec::<f32>().unwrap(), plain);
    let want = Tensor::from_vec(plain, (5, 784))
        .unwrap()
        .index_select(0, &Tensor::new(&[4i64, 0, 2, 0]).unwrap())
        .unwrap();
    let b = train.get_batch(&idx).unwrap();
    assert_eq!(b[0].dims(), &[4, 1, 28, 28]);
    assert_eq!(b[0].to_vec::<f32>().unwrap(), want.to_vec::<f32>().unwrap());
    assert_eq!(b[1].to_vec::<i64>().unwrap(), vec![5, 3, 4, 3]);
    let flat = train.clone().flat(true);
    let fb = flat.get_batch(&idx).unwrap();
    assert_eq!(fb[0].dims(), &[4, 784]);
    assert_eq!(
        fb[0].to_vec::<f32>().unwrap(),
        want.to_vec::<f32>().unwrap()
    );
    let item = train.get(2).unwrap();
    assert_eq!(item[0].dims(), &[1, 28, 28]);
    assert_eq!(item[1].to_vec::<i64>().unwrap(), vec![4]);
    assert_eq!(flat.get(2).unwrap()[0].dims(), &[784]);
    let err = train.get_batch(&[0, 5]).unwrap_err().to_string();
    assert!(err.contains("index 5") && err.contains("length 5"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_file_says_where_and_how() {
    let dir = temp_dir("missing");
    let (path, msg) = data_err(Mnist::load(&dir, Split::Train));
    assert!(path.ends_with("train-images-idx3-ubyte.gz"), "{path}");
    assert!(msg.contains("train-images-idx3-ubyte.gz or"), "{msg}");
    assert!(msg.contains(&dir.display().to_string()), "{msg}");
    assert!(msg.contains("download"), "{msg}");
    assert!(msg.contains("t10k-labels-idx1-ubyte"), "{msg}");
    // Images present, labels missing: names the labels file.
    write_split(&dir, Split::Train, &[1], true);
    std::fs::remove_file(dir.join("train-labels-idx1-ubyte.gz")).unwrap();
    let (path, _) = data_err(Mnist::load(&dir, Split::Train));
    assert!(path.ends_with("train-labels-idx1-ubyte.gz"), "{path}");
    let (_, msg) = data_err(FashionMnist::load(dir.join("nope"), Split::Test));
    assert!(
        msg.contains("Fashion-MNIST") && msg.contains("does not exist"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_files_are_errors_naming_file_and_offset() {
    let dir = temp_dir("bad");
    let img_name = "train-images-idx3-ubyte.gz";
    let lbl_name = "train-labels-idx1-ubyte.gz";
    let load_with = |img: Vec<u8>, lbl: Vec<u8>| {
        std::fs::write(dir.join(img_name), img).unwrap();
        std::fs::write(dir.join(lbl_name), lbl).unwrap();
        data_err(Mnist::load(&dir, Split::Train))
    };
    let pixels = vec![7u8; 2 * 784];
    let good_img = encode_idx(&[2, 28, 28], &pixels).unwrap();
    let good_lbl = encode_idx(&[2], &[1, 2]).unwrap();

    // Truncated gzip.
    let z = gz(&good_img);
    let (path, msg) = load_with(z[..z.len() / 2].to_vec(), gz(&good_lbl));
    assert!(path.ends_with(img_name), "{path}");
    assert!(msg.contains("truncated gzip"), "{msg}");
    assert!(msg.contains("compressed bytes"), "{msg}");

    // Corrupt gzip: garbage after a valid gzip header.
    let mut bad = z[..10].to_vec();
    bad.extend_from_slice(&[0xff; 64]);
    let (path, msg) = load_with(gz(&good_img), bad);
    assert!(path.ends_with(lbl_name), "{path}");
    assert!(msg.contains("gzip"), "{msg}");

    // Wrong magic.
    let mut wrong = good_img.clone();
    wrong[0] = 0x12;
    let (path, msg) = load_with(gz(&wrong), gz(&good_lbl));
    assert!(path.ends_with(img_name), "{path}");
    assert!(msg.contains("offset 0") && msg.contains("magic"), "{msg}");

    // Labels file where images are expected (magic 0801).
    let (_, msg) = load_with(gz(&good_lbl), gz(&good_lbl));
    assert!(msg.contains("expected an images file"), "{msg}");

    // Header dims disagree with the data size: too few and too many bytes.
    let (path, msg) = load_with(gz(&good_img[..good_img.len() - 1]), gz(&good_lbl));
    assert!(path.ends_with(img_name), "{path}");
    assert!(
        msg.contains("[2, 28, 28]") && msg.contains("truncated"),
        "{msg}"
    );
    let mut long = good_lbl.clone();
    long.push(0);
    let (path, msg) = load_with(gz(&good_img), gz(&long));
    assert!(path.ends_with(lbl_name), "{path}");
    assert!(msg.contains("trailing bytes"), "{msg}");

    // Image and label counts differ.
    let three = encode_idx(&[3], &[1, 2, 3]).unwrap();
    let (_, msg) = load_with(gz(&good_img), gz(&three));
    assert!(
        msg.contains("3 labels") && msg.contains("2 images"),
        "{msg}"
    );

    // Label out of range, raw (not gzip) file.
    std::fs::remove_file(dir.join(lbl_name)).unwrap();
    std::fs::write(dir.join(img_name), gz(&good_img)).unwrap();
    std::fs::write(
        dir.join("train-labels-idx1-ubyte"),
        encode_idx(&[2], &[1, 12]).unwrap(),
    )
    .unwrap();
    let (path, msg) = data_err(Mnist::load(&dir, Split::Train));
    assert!(path.ends_with("train-labels-idx1-ubyte"), "{path}");
    assert!(
        msg.contains("offset 9") && msg.contains("label 12"),
        "{msg}"
    );

    // Too short for a header; empty file.
    let (_, msg) = data_err(parse_idx(vec![0, 0, 8, 3, 0, 0], "x"));
    assert!(msg.contains("header"), "{msg}");
    let (_, msg) = data_err(parse_idx(vec![], "x"));
    assert!(msg.contains("offset 0"), "{msg}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn md5_rfc1321_vectors() {
    let cases: [(&str, &str); 7] = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "abcdefghijklmnopqrstuvwxyz",
            "c3fcd3d76192e4007dfb496cca67e13b",
        ),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f",
        ),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(md5_hex(input.as_bytes()), want, "{input:?}");
    }
}

/// A loopback HTTP server for `dir`: `/NAME` serves the file (404 if absent),
/// `/chunked/NAME` with chunked encoding, `/redirect/NAME` a 302 to `/NAME`. It stops after
/// `max_requests` requests or 30 s; the handle returns how many it served.
fn serve(dir: PathBuf, max_requests: usize) -> (String, JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut served = 0;
        while served < max_requests && Instant::now() < deadline {
            let mut s = match listener.accept() {
                Ok((s, _)) => s,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
            };
            served += 1;
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).is_ok_and(|n| n == 1) {
                head.push(b[0]);
            }
            let head = String::from_utf8_lossy(&head);
            let path = head.split(' ').nth(1).unwrap_or("/").to_string();
            let (chunked, name) = match path.strip_prefix("/chunked/") {
                Some(n) => (true, n.to_string()),
                None => (false, path.trim_start_matches('/').to_string()),
            };
            if let Some(target) = path.strip_prefix("/redirect/") {
                let _ = write!(
                    s,
                    "HTTP/1.1 302 Found\r\nLocation: /{target}\r\nContent-Length: 0\r\n\r\n"
                );
                continue;
            }
            match std::fs::read(dir.join(&name)) {
                Ok(body) if chunked => {
                    let _ = write!(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                    for c in body.chunks(1000) {
                        let _ = write!(s, "{:x}\r\n", c.len());
                        let _ = s.write_all(c);
                        let _ = write!(s, "\r\n");
                    }
                    let _ = write!(s, "0\r\n\r\n");
                }
                Ok(body) => {
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = s.write_all(&body);
                }
                Err(_) => {
                    let _ = write!(
                        s,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"
                    );
                }
            }
        }
        served
    });
    (base, handle)
}

/// A mirror folder with a small valid data set (gzip files) and its RemoteFile table.
fn mirror_with_files() -> (PathBuf, Vec<RemoteFile>) {
    let src = temp_dir("mirror");
    write_split(&src, Split::Train, &[0, 1, 2, 3], true);
    write_split(&src, Split::Test, &[4, 5], true);
    let files = sinapsis::data::mnist::FILE_NAMES
        .iter()
        .map(|base| {
            let name: &'static str = Box::leak(format!("{base}.gz").into_boxed_str());
            let md5: &'static str =
                Box::leak(md5_hex(&std::fs::read(src.join(name)).unwrap()).into_boxed_str());
            RemoteFile { name, md5 }
        })
        .collect();
    (src, files)
}

#[test]
fn download_over_http_with_fallback_redirect_and_chunked() {
    let (src, files) = mirror_with_files();
    // 9 requests: 2 files x (https skipped, 404, 302, 200), 2 chunked, 1 404 below.
    let (base, server) = serve(src.clone(), 9);
    let dest = temp_dir("dl-http");
    // First mirror: https (unsupported), second: a 404 folder; third: a redirect; the first
    // two files are fetched via redirect, all through the third mirror.
    let missing = format!("{base}missing/");
    let redirect = format!("{base}redirect/");
    let got = download_files(
        &dest,
        &files[..2],
        &["https://example.invalid/", &missing, &redirect],
    )
    .unwrap();
    assert_eq!(got.len(), 2);
    let chunked = format!("{base}chunked/");
    download_files(&dest, &files[2..], &[&chunked]).unwrap();
    let data = Mnist::load(&dest, Split::Train).unwrap();
    assert_eq!(data.raw_labels(), &[0, 1, 2, 3]);
    assert_eq!(Mnist::load(&dest, Split::Test).unwrap().len(), 2);
    // No temp files left behind.
    let names: Vec<_> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");

    // 404 everywhere: a clear error naming the file, the URL and the status; and https.
    let (path, msg) = data_err(download_files(
        temp_dir("dl-404"),
        &files[..1],
        &["https://example.invalid/", &missing],
    ));
    assert!(path.ends_with("train-images-idx3-ubyte.gz"), "{path}");
    assert!(msg.contains("HTTP 404"), "{msg}");
    assert!(msg.contains("https is not supported"), "{msg}");
    assert!(
        msg.contains(&format!("{missing}train-images-idx3-ubyte.gz")),
        "{msg}"
    );

    // Already downloaded with a good checksum: nothing fetched (an unreachable mirror).
    download_files(&dest, &files, &["http://127.0.0.1:1/"]).unwrap();
    assert_eq!(server.join().unwrap(), 9);
    let _ = std::fs::remove_dir_all(&dest);
    let _ = std::fs::remove_dir_all(&src);
}

#[test]
fn download_from_file_urls_and_checksum_mismatch() {
    let (src, files) = mirror_with_files();
    let dest = temp_dir("dl-file");
    let mirror = format!("file://{}/", src.display());
    download_files(&dest, &files, &[&mirror]).unwrap();
    assert_eq!(Mnist::load(&dest, Split::Train).unwrap().len(), 4);

    // A corrupt copy in place is replaced by a good one.
    std::fs::write(dest.join(files[0].name), b"junk").unwrap();
    download_files(&dest, &files, &[&mirror]).unwrap();
    assert_eq!(
        md5_hex(&std::fs::read(dest.join(files[0].name)).unwrap()),
        files[0].md5
    );

    // Checksum mismatch: error, and no file written under the final name.
    let wrong = [RemoteFile {
        name: files[1].name,
        md5: "00000000000000000000000000000000",
    }];
    let dest2 = temp_dir("dl-mismatch");
    let (path, msg) = data_err(download_files(&dest2, &wrong, &[&mirror]));
    assert!(path.ends_with(files[1].name), "{path}");
    assert!(
        msg.contains("checksum mismatch") && msg.contains(files[1].md5),
        "{msg}"
    );
    assert_eq!(std::fs::read_dir(&dest2).unwrap().count(), 0);

    // The real MNIST mirrors' table against a local copy: the local files are checked too.
    if let Some(real) = real_mnist_dir() {
        let dest3 = temp_dir("dl-real");
        let m = format!("file://{}/", real.display());
        match download_files(&dest3, DatasetKind::Mnist.remote_files(), &[&m]) {
            Ok(paths) => assert_eq!(paths.len(), 4),
            // This copy may be recompressed (different bytes, same content): then a mismatch.
            Err(Error::Data { msg, .. }) => assert!(msg.contains("checksum mismatch"), "{msg}"),
            Err(e) => panic!("{e}"),
        }
        let _ = std::fs::remove_dir_all(&dest3);
    }
    let _ = std::fs::remove_dir_all(&dest);
    let _ = std::fs::remove_dir_all(&dest2);
    let _ = std::fs::remove_dir_all(&src);
}
