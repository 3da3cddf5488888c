//! Runs written to a temporary file and read back a block at a time
//! (with [`crate::runfile`]'s reader): what [`super::seen`] and
//! [`super::errors`] keep out of memory.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Bytes read at once (a few hundred runs read side by side stay within a few MB).
const BLOCK: usize = 16 << 10;

/// One run of a temporary file, read back from its start.
pub(super) use crate::runfile::RunReader;

/// The run of `len` bytes at `start` of `file`, read [`BLOCK`] bytes at a time.
pub(super) fn run_reader(file: &File, start: u64, len: u64) -> RunReader<'_> {
    RunReader::new(file, start, len, BLOCK)
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
