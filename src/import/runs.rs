//! Runs written to a temporary file and read back a block at a time: what
//! [`super::seen`] and [`super::errors`] keep out of memory.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Bytes read at once (a few hundred runs read side by side stay within a few MB).
const BLOCK: usize = 16 << 10;

/// One run of a temporary file, read back from its start.
pub(super) struct RunReader<'a> {
    file: &'a File,
    at: u64,
    end: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl<'a> RunReader<'a> {
    /// The run of `len` bytes at `start`.
    pub(super) fn new(file: &'a File, start: u64, len: u64) -> Self {
        RunReader {
            file,
            at: start,
            end: start + len,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Whether every byte of the run has been taken.
    pub(super) fn is_done(&self) -> bool {
        self.pos == self.buf.len() && self.at == self.end
    }

    /// `n` more bytes of the run, reading on as needed.
    pub(super) fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.buf.len() - self.pos < n {
            self.buf.drain(..self.pos);
            self.pos = 0;
            let want = (BLOCK.max(n - self.buf.len()) as u64).min(self.end - self.at) as usize;
            let old = self.buf.len();
            self.buf.resize(old + want, 0);
            self.file.read_exact_at(&mut self.buf[old..], self.at)?;
            self.at += want as u64;
            if self.buf.len() < n {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "a temporary file of the import ends early",
                ));
            }
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The next `N` bytes as an array.
    pub(super) fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        Ok(self.take(N)?.try_into().unwrap())
    }

    /// A text written as its length (4 bytes, little-endian) and its bytes.
    pub(super) fn text(&mut self) -> io::Result<String> {
        let n = u32::from_le_bytes(self.array()?) as usize;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
}

/// Writes one run at the end of a temporary file, a block at a time.
pub(super) struct RunWriter<'a> {
    file: &'a File,
    start: u64,
    at: u64,
    buf: Vec<u8>,
}

impl<'a> RunWriter<'a> {
    /// A run starting at byte `start` of `file`.
    pub(super) fn new(file: &'a File, start: u64) -> Self {
        RunWriter {
            file,
            start,
            at: start,
            buf: Vec::with_capacity(1 << 20),
        }
    }

    /// Appends bytes.
    pub(super) fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= 1 << 20 {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends a text as its length (4 bytes, little-endian) and its bytes,
    /// as [`RunReader::text`] reads it.
    pub(super) fn put_text(&mut self, s: &str) -> io::Result<()> {
        self.put(&(s.len() as u32).to_le_bytes())?;
        self.put(s.as_bytes())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.write_all_at(&self.buf, self.at)?;
        self.at += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is left; the run's first byte and length.
    pub(super) fn finish(mut self) -> io::Result<(u64, u64)> {
        self.flush()?;
        Ok((self.start, self.at - self.start))
    }
}
