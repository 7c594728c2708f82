//! Fetching the MNIST/Fashion-MNIST files from public mirrors, with MD5 verification and
//! atomic writes. Supports `http://` (a minimal HTTP/1.1 client on `std::net`) and `file://`
//! URLs; this build has no TLS, so `https://` mirrors are skipped with a message saying so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::DatasetKind;
use crate::{Error, Result};

/// A file to fetch: its name (appended to each mirror's base URL and used in the folder) and
/// the MD5 of its bytes as lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteFile {
    /// File name, e.g. `train-images-idx3-ubyte.gz`.
    pub name: &'static str,
    /// Expected MD5, lowercase hex.
    pub md5: &'static str,
}

const MNIST_FILES: [RemoteFile; 4] = [
    RemoteFile {
        name: "train-images-idx3-ubyte.gz",
        md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    },
    RemoteFile {
        name: "train-labels-idx1-ubyte.gz",
        md5: "d53e105ee54ea40749a09fcbcd1e9432",
    },
    RemoteFile {
        name: "t10k-images-idx3-ubyte.gz",
        md5: "9fb629c4189551a2d022fa330f9573f3",
    },
    RemoteFile {
        name: "t10k-labels-idx1-ubyte.gz",
        md5: "ec29112dd5afa0611ce80d1b7f02629c",
    },
];

const FASHION_FILES: [RemoteFile; 4] = [
    RemoteFile {
        name: "train-images-idx3-ubyte.gz",
        md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    },
    RemoteFile {
        name: "train-labels-idx1-ubyte.gz",
        md5: "25c81989df183df01b3e8a0aad5dffbe",
    },
    RemoteFile {
        name: "t10k-images-idx3-ubyte.gz",
        md5: "bef4ecab320f06d8554ea6380940ec79",
    },
    RemoteFile {
        name: "t10k-labels-idx1-ubyte.gz",
        md5: "bb300cfdad3c16e7a12a480ee83cd310",
    },
];

impl DatasetKind {
    /// The four gzip files and their MD5s (torchvision's).
    pub fn remote_files(self) -> &'static [RemoteFile; 4] {
        match self {
            DatasetKind::Mnist => &MNIST_FILES,
            DatasetKind::FashionMnist => &FASHION_FILES,
        }
    }

    /// The mirrors tried in order (torchvision's). Only `http://` and `file://` work in this
    /// build, so torchvision's S3 mirror is tried over plain http first (S3 serves both; the
    /// MD5 check guards the content).
    pub fn mirrors(self) -> &'static [&'static str] {
        match self {
            DatasetKind::Mnist => &[
                "http://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "http://yann.lecun.com/exdb/mnist/",
            ],
            DatasetKind::FashionMnist => {
                &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
            }
        }
    }
}

/// Downloads the four files of `kind` into the folder `root` (created if needed) from its
/// public mirrors, as [`download_files`] does. Returns the paths of the four files.
///
/// ```no_run
/// use sinapsis::data::mnist::{download, DatasetKind, Mnist, Split};
/// # fn main() -> sinapsis::Result<()> {
/// download("data/mnist", DatasetKind::Mnist)?;
/// let train = Mnist::load("data/mnist", Split::Train)?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`download_files`].
pub fn download(root: impl AsRef<Path>, kind: DatasetKind) -> Result<Vec<PathBuf>> {
    download_files(root, kind.remote_files(), kind.mirrors())
}

/// Downloads each file into `root`, trying `mirrors` (base URLs ending in `/`, `http://` or
/// `file://`) in order. A file already in `root` with the right MD5 is kept; a download is
/// verified before it is moved into place (temp file + rename), so a failed or corrupt
/// download never leaves a partial file under the final name.
///
/// # Errors
/// [`Error::Data`] naming the file and every mirror's failure (connection, HTTP status,
/// https unsupported, checksum mismatch) if no mirror gave a good copy, or if `root` cannot
/// be written.
pub fn download_files(
    root: impl AsRef<Path>,
    files: &[RemoteFile],
    mirrors: &[&str],
) -> Result<Vec<PathBuf>> {
    let root = root.as_ref();
    let io_err = |path: &Path, what: &str, e: std::io::Error| Error::Data {
        path: path.display().to_string(),
        msg: format!("{what}: {e}"),
    };
    std::fs::create_dir_all(root).map_err(|e| io_err(root, "cannot create folder", e))?;
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let dest = root.join(file.name);
        if let Ok(bytes) = std::fs::read(&dest) {
            if md5_hex(&bytes) == file.md5 {
                out.push(dest);
                continue;
            }
        }
        let mut failures = Vec::new();
        let mut done = false;
        for mirror in mirrors {
            let url = format!("{mirror}{}", file.name);
            let bytes = match fetch(&url) {
                Ok(b) => b,
                Err(msg) => {
                    failures.push(format!("{url}: {msg}"));
                    continue;
                }
            };
            let got = md5_hex(&bytes);
            if got != file.md5 {
                failures.push(format!(
                    "{url}: checksum mismatch: MD5 {got}, expected {}",
                    file.md5
                ));
                continue;
            }
            let tmp = root.join(format!(".{}.part-{}", file.name, std::process::id()));
            let write = std::fs::File::create(&tmp)
                .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.sync_all()))
                .and_then(|()| std::fs::rename(&tmp, &dest));
            if let Err(e) = write {
                let _ = std::fs::remove_file(&tmp);
                return Err(io_err(&dest, "cannot write", e));
            }
            done = true;
            break;
        }
        if !done {
            return Err(Error::Data {
                path: dest.display().to_string(),
                msg: format!(
                    "download failed from every mirror ({}); put the file there by hand \
                     (MD5 {}), or fix the network",
                    if failures.is_empty() {
                        "no mirrors given".to_string()
                    } else {
                        failures.join("; ")
                    },
                    file.md5
                ),
            });
        }
        out.push(dest);
    }
    Ok(out)
}

/// Fetches a URL's body: `file://` paths, or `http://` with redirects (at most 5).
fn fetch(url: &str) -> std::result::Result<Vec<u8>, String> {
    let mut url = url.to_string();
    for _ in 0..6 {
        if let Some(path) = url.strip_prefix("file://") {
            return std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"));
        }
        if url.starts_with("https://") {
            return Err(
                "https is not supported: this build has no TLS; use an http:// or \
                 file:// mirror, or download the file yourself"
                    .to_string(),
            );
        }
        let Some(rest) = url.strip_prefix("http://") else {
            return Err("unsupported URL scheme: expected http:// or file://".to_string());
        };
        match http_get(rest)? {
            Response::Body(b) => return Ok(b),
            Response::Redirect(loc) => {
                url = if loc.contains("://") {
                    loc
                } else {
                    let host = rest.split('/').next().unwrap_or("");
                    format!("http://{host}/{}", loc.trim_start_matches('/'))
                };
            }
        }
    }
    Err("too many redirects".to_string())
}

enum Response {
    Body(Vec<u8>),
    Redirect(String),
}

/// A minimal HTTP/1.1 GET (`Connection: close`): status line, headers, then a body sized by
/// `Content-Length`, `Transfer-Encoding: chunked`, or the end of the connection.
fn http_get(host_and_path: &str) -> std::result::Result<Response, String> {
    let (authority, path) = match host_and_path.find('/') {
        Some(i) => (&host_and_path[..i], &host_and_path[i..]),
        None => (host_and_path, "/"),
    };
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addrs: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .collect();
    let mut last = format!("no address for {authority}");
    let mut stream = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, Duration::from_secs(20)) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect to {a}: {e}"),
        }
    }
    let mut stream = stream.ok_or(last)?;
    let timeout = Some(Duration::from_secs(60));
    let _ = stream.set_read_timeout(timeout);
    let _ = stream.set_write_timeout(timeout);
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: sinapsis\r\nAccept: */*\r\n\
         Connection: close\r\n\r\n"
    );
    stream
        .write_all(req.as_bytes())
        .map_err(|e| format!("cannot send request: {e}"))?;
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line)
        .map_err(|e| format!("cannot read response: {e}"))?;
    let mut parts = line.trim_end().splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|_| version.starts_with("HTTP/"))
        .ok_or_else(|| format!("bad HTTP status line {:?}", line.trim_end()))?;
    let reason = parts.next().unwrap_or("").to_string();
    let mut content_length = None;
    let mut chunked = false;
    let mut location = None;
    loop {
        line.clear();
        let n = r
            .read_line(&mut line)
            .map_err(|e| format!("cannot read headers: {e}"))?;
        let h = line.trim_end();
        if n == 0 || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => content_length = v.parse::<usize>().ok(),
                "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
                "location" => location = Some(v.to_string()),
                _ => {}
            }
        }
    }
    if matches!(status, 301 | 302 | 303 | 307 | 308) {
        return location
            .map(Response::Redirect)
            .ok_or_else(|| format!("HTTP {status} {reason} without a Location header"));
    }
    if status != 200 {
        return Err(format!("HTTP {status} {reason}"));
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line)
                .map_err(|e| format!("cannot read chunk size: {e}"))?;
            let size_str = line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size_str, 16)
                .map_err(|_| format!("bad chunk size {:?}", line.trim()))?;
            if size == 0 {
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..])
                .map_err(|e| format!("body ends inside a chunk: {e}"))?;
            line.clear();
            r.read_line(&mut line)
                .map_err(|e| format!("cannot read chunk end: {e}"))?;
        }
    } else if let Some(len) = content_length {
        body.resize(len, 0);
        r.read_exact(&mut body).map_err(|e| {
            format!("body shorter than its Content-Length of {len} bytes (connection closed early): {e}")
        })?;
    } else {
        r.read_to_end(&mut body)
            .map_err(|e| format!("cannot read body: {e}"))?;
    }
    Ok(Response::Body(body))
}

/// The MD5 digest (RFC 1321) of `data` as 32 lowercase hex digits. Used to verify
/// downloads, not for security.
///
/// ```
/// use sinapsis::data::mnist::md5_hex;
/// assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
/// ```
pub fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for block in msg.chunks_exact(64) {
        let m: Vec<u32> = block
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        state[0] = state[0].wrapping_add(a);
        state[1] = state[1].wrapping_add(b);
        state[2] = state[2].wrapping_add(c);
        state[3] = state[3].wrapping_add(d);
    }
    state
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}
