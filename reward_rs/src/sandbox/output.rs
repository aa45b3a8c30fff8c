//! Bounded capture of a job's stdout/stderr: keeps the tail, counts everything.

use std::collections::VecDeque;

/// Keeps the last `keep` bytes written and the total count, so a flood costs the supervisor
/// at most `keep` bytes of memory however much the job writes.
#[derive(Debug)]
pub struct TailBuffer {
    keep: usize,
    tail: VecDeque<u8>,
    total: u64,
}

impl TailBuffer {
    pub fn new(keep: usize) -> Self {
        TailBuffer {
            keep,
            tail: VecDeque::with_capacity(keep.min(4096)),
            total: 0,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.total += data.len() as u64;
        let data = &data[data.len().saturating_sub(self.keep)..];
        let overflow = (self.tail.len() + data.len()).saturating_sub(self.keep);
        self.tail.drain(..overflow);
        self.tail.extend(data);
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes held right now (never more than `keep`).
    pub fn held(&self) -> usize {
        self.tail.len()
    }

    /// The tail as text; invalid UTF-8 (e.g. a cut multi-byte character) becomes U+FFFD.
    pub fn text(&self) -> String {
        let (a, b) = self.tail.as_slices();
        let mut v = Vec::with_capacity(a.len() + b.len());
        v.extend_from_slice(a);
        v.extend_from_slice(b);
        String::from_utf8_lossy(&v).into_owned()
    }

    pub fn clear(&mut self) {
        self.tail.clear();
        self.total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_tail_and_counts_all() {
        let mut t = TailBuffer::new(8);
        for _ in 0..1000 {
            t.push(b"0123456789");
        }
        assert_eq!(t.total(), 10_000);
        assert_eq!(t.held(), 8);
        assert_eq!(t.text(), "23456789");
    }

    #[test]
    fn one_huge_write_is_cut_to_the_tail() {
        let mut t = TailBuffer::new(4);
        t.push(&vec![b'x'; 1 << 20]);
        t.push(b"ab");
        assert_eq!(t.text(), "xxab");
        assert_eq!(t.total(), (1 << 20) + 2);
    }

    #[test]
    fn small_writes_accumulate() {
        let mut t = TailBuffer::new(100);
        t.push(b"hello ");
        t.push(b"world");
        assert_eq!(t.text(), "hello world");
    }
}
