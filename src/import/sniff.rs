//! The first pass over a file to import, and the reader for the second: the
//! file's SHA-256 (for the audit log), its encoding and its CSV column
//! separator, then the file opened again and decoded to UTF-8.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::ImportError;

/// The encodings a file to import may be in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Enc {
    Utf8,
    Utf8Bom,
    Gb18030,
}

impl Enc {
    pub(super) fn name(self) -> &'static str {
        match self {
            Enc::Utf8 => "UTF-8",
            Enc::Utf8Bom => "UTF-8 with BOM",
            Enc::Gb18030 => "GB18030",
        }
    }
}

/// First pass: SHA-256 of the file, its encoding and its CSV column separator.
pub(super) fn sniff(path: &Path) -> Result<(String, Enc, u8), ImportError> {
    let io = |err| ImportError::Io {
        path: path.into(),
        err,
    };
    let mut f = File::open(path).map_err(io)?;
    // The file's hash (for the audit log) is taken on a second thread while
    // this one checks the encoding: both read the whole file before parsing
    // can start, and each takes about as long.
    let hashing = {
        let mut f = File::open(path).map_err(io)?;
        std::thread::spawn(move || -> std::io::Result<String> {
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    return Ok(format!("{:x}", hasher.finalize()));
                }
                hasher.update(&buf[..n]);
            }
        })
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let mut utf8 = true;
    let mut first = true;
    let mut bom = false;
    let mut delimiter = b',';
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        if first {
            bom = buf[..n].starts_with(b"\xEF\xBB\xBF");
            // Separators are ASCII, and no GB18030 multi-byte sequence contains
            // these bytes, so the raw bytes tell in every accepted encoding.
            delimiter = sniff_delimiter(&buf[..n]);
            first = false;
        }
        if utf8 {
            carry.extend_from_slice(&buf[..n]);
            match std::str::from_utf8(&carry) {
                Ok(_) => carry.clear(),
                Err(e) if e.error_len().is_none() => {
                    let keep = carry.split_off(e.valid_up_to());
                    carry = keep;
                }
                Err(_) => utf8 = false,
            }
        }
    }
    if utf8 && !carry.is_empty() {
        utf8 = false;
    }
    let sha = hashing
        .join()
        .expect("the hashing thread panicked")
        .map_err(io)?;
    if utf8 {
        return Ok((sha, if bom { Enc::Utf8Bom } else { Enc::Utf8 }, delimiter));
    }
    // Check that the whole file is valid GB18030 and say where it is not.
    let bytes = std::fs::read(path).map_err(io)?;
    let mut dec = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3 / 2 + 16);
    let (res, read) = dec.decode_to_string_without_replacement(&bytes, &mut out, true);
    if let encoding_rs::DecoderResult::Malformed(..) = res {
        let line = bytes[..read].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        return Err(ImportError::Encoding {
            path: path.into(),
            line,
        });
    }
    Ok((sha, Enc::Gb18030, delimiter))
}

/// The SHA-256 of a file that is not text (a workbook), for the audit log.
pub(super) fn sha256(path: &Path) -> Result<String, ImportError> {
    let io = |err| ImportError::Io {
        path: path.into(),
        err,
    };
    let mut f = File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut f, &mut hasher).map_err(io)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// The column separator, judged from the header line: a comma, unless the
/// header has none but has tabs (Excel's "Text (Tab delimited)", 文本文件(制表符分隔))
/// or semicolons (Excel in locales that write decimal commas). A header
/// without commas could not be read as comma-separated anyway.
fn sniff_delimiter(start: &[u8]) -> u8 {
    let line = start.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    if count(b',') > 0 {
        b','
    } else if count(b'\t') > 0 {
        b'\t'
    } else if count(b';') > 0 {
        b';'
    } else {
        b','
    }
}

/// Counts bytes read so a progress bar can follow the file.
struct Counting<R> {
    inner: R,
    bar: Option<indicatif::ProgressBar>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

/// Opens the file for the second pass, decoded to UTF-8 (without a BOM).
pub(super) fn open_decoded(
    path: &Path,
    enc: Enc,
    bar: Option<indicatif::ProgressBar>,
) -> Result<Box<dyn Read + Send>, ImportError> {
    let f = File::open(path).map_err(|err| ImportError::Io {
        path: path.into(),
        err,
    })?;
    let raw = Counting { inner: f, bar };
    Ok(match enc {
        Enc::Utf8 => Box::new(raw),
        Enc::Utf8Bom => {
            let mut r = raw;
            let mut bom = [0u8; 3];
            r.read_exact(&mut bom).map_err(|err| ImportError::Io {
                path: path.into(),
                err,
            })?;
            Box::new(r)
        }
        Enc::Gb18030 => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding_rs::GB18030))
                .build(raw),
        ),
    })
}
