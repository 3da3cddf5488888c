//! Runs of bytes in a temporary file, read back a block at a time: the one
//! reader behind an import's spilled records (`ledger::spill`) and its
//! repeat check and bad-row list (`import::seen`, `import::errors`), kept
//! outside both folders so that ledger never depends on import.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;

/// One run of a temporary file, read back from its start.
pub struct RunReader<'a> {
    file: &'a File,
    at: u64,
    end: u64,
    /// Bytes read at once (more when a single take needs more).
    block: usize,
    buf: Vec<u8>,
    pos: usize,
}

impl<'a> RunReader<'a> {
    /// The run of `len` bytes at `start`, read `block` bytes at a time.
    pub fn new(file: &'a File, start: u64, len: u64, block: usize) -> Self {
        RunReader {
            file,
            at: start,
            end: start + len,
            block,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Whether every byte of the run has been taken.
    pub fn is_done(&self) -> bool {
        self.pos == self.buf.len() && self.at == self.end
    }

    /// Takes `n` more bytes of the run, reading on as needed, and gives
    /// where they are in [`RunReader::bytes`]: valid until the next take.
    pub fn take_range(&mut self, n: usize) -> io::Result<Range<usize>> {
        if self.buf.len() - self.pos < n {
            self.buf.drain(..self.pos);
            self.pos = 0;
            let want = (self.block.max(n - self.buf.len()) as u64).min(self.end - self.at) as usize;
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
        let at = self.pos;
        self.pos += n;
        Ok(at..at + n)
    }

    /// The bytes [`RunReader::take_range`] gave ranges into.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// `n` more bytes of the run, reading on as needed.
    pub fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        let r = self.take_range(n)?;
        Ok(&self.buf[r])
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        Ok(self.take(N)?.try_into().unwrap())
    }

    /// A text written as its length (4 bytes, little-endian) and its bytes.
    pub fn text(&mut self) -> io::Result<String> {
        let n = u32::from_le_bytes(self.array()?) as usize;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
}
