//! The reward cache: outcomes of executed programs, content-addressed and bounded.
//!
//! - **Keys** are hex BLAKE3 digests of everything that decides an outcome (interpreter, limits,
//!   code, tests); [`Cache::key`] hashes the parts the caller lists. Any string works as a key.
//! - **Values** are opaque strings (the executor stores an outcome as JSON).
//! - **Bounds**: at most `max_entries` entries and, optionally, `max_bytes` of key + value bytes.
//!   The least recently used entry goes first. An entry larger than `max_bytes` on its own is
//!   not stored (counted as `rejected`).
//! - **Threads**: every method takes `&self`; one mutex guards the map and is held only for
//!   map operations (never for I/O), so the executor's threads and Python can share one cache.
//!
//! # File format (`reward_cache.bin`), version 1, all integers little-endian
//!
//! ```text
//! magic  b"RLAIFRC\0"        8 bytes
//! version u32 = 1, flags u32 = 0, count u64
//! count × { key_len u64, value_len u64, key (UTF-8), value (UTF-8) }   least recent first
//! blake3(all bytes above)    32 bytes
//! ```
//!
//! [`Cache::save`] writes a temporary file in the same directory, fsyncs it, renames it over the
//! target and fsyncs the directory, so the file on disk is always a complete old or new one.
//! [`Cache::load`] checks everything before it changes the cache: a corrupt or truncated file is
//! an error naming the file and what is wrong, and the cache keeps what it had.

use std::fs::{self, File};
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use lru::LruCache;

use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"RLAIFRC\0";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 4 + 8;
const CHECKSUM_LEN: usize = 32;
/// Separates key hashes from any other BLAKE3 use; bump it if the key encoding changes.
const KEY_CONTEXT: &str = "rlaif-tui reward cache key v1";

/// Size limits; `max_bytes` counts key and value bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    pub max_entries: NonZeroUsize,
    pub max_bytes: Option<NonZeroUsize>,
}

impl Default for CacheLimits {
    /// 100,000 entries and 256 MiB: an outcome is around 1 KB of JSON.
    fn default() -> Self {
        CacheLimits {
            max_entries: NonZeroUsize::new(100_000).unwrap_or(NonZeroUsize::MIN),
            max_bytes: NonZeroUsize::new(256 << 20),
        }
    }
}

/// Counters since the cache was created, and its current size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Successful `put`s, replacements included.
    pub inserts: u64,
    pub evictions: u64,
    /// `put`s refused because the entry alone exceeds `max_bytes`.
    pub rejected: u64,
    /// Entries taken from files by `load`.
    pub loaded: u64,
    pub entries: usize,
    pub bytes: usize,
}

pub struct Cache {
    limits: CacheLimits,
    inner: Mutex<Inner>,
}

struct Inner {
    map: LruCache<Arc<str>, Arc<str>>,
    stats: CacheStats,
}

impl Cache {
    pub fn new(limits: CacheLimits) -> Cache {
        Cache {
            limits,
            inner: Mutex::new(Inner {
                map: LruCache::unbounded(),
                stats: CacheStats::default(),
            }),
        }
    }

    /// Hex BLAKE3 of the parts. Each part is length-prefixed, so `["ab", "c"]` and `["a", "bc"]`
    /// get different keys.
    pub fn key<P: AsRef<[u8]>>(parts: impl IntoIterator<Item = P>) -> String {
        let mut hasher = blake3::Hasher::new_derive_key(KEY_CONTEXT);
        for part in parts {
            let part = part.as_ref();
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.finalize().to_hex().to_string()
    }

    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    /// The value under `key`, marking it most recently used; counts a hit or a miss.
    pub fn get(&self, key: &str) -> Option<Arc<str>> {
        let mut inner = self.lock();
        let found = inner.map.get(key).cloned();
        match found {
            Some(_) => inner.stats.hits += 1,
            None => inner.stats.misses += 1,
        }
        found
    }

    /// Whether `key` is present, without counting or touching recency.
    pub fn contains(&self, key: &str) -> bool {
        self.lock().map.contains(key)
    }

    /// Stores `value` under `key` as the most recent entry, evicting the least recent ones
    /// beyond the bounds. Returns false (and stores nothing) if the entry alone is over
    /// `max_bytes`; an older value under the same key then stays.
    pub fn put(&self, key: &str, value: impl Into<Arc<str>>) -> bool {
        let value = value.into();
        let mut inner = self.lock();
        if self.too_big(key.len() + value.len()) {
            inner.stats.rejected += 1;
            return false;
        }
        inner.insert(Arc::from(key), value, &self.limits);
        inner.stats.inserts += 1;
        true
    }

    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            entries: inner.map.len(),
            ..inner.stats
        }
    }

    /// Writes every entry to `path` atomically (see the module docs); returns the entry count.
    pub fn save(&self, path: &Path) -> Result<usize> {
        let entries: Vec<(Arc<str>, Arc<str>)> = {
            let inner = self.lock();
            // `iter` runs most recent first; the file holds least recent first.
            inner
                .map
                .iter()
                .rev()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        write_atomically(path, &encode(&entries))?;
        Ok(entries.len())
    }

    /// Adds the entries of a file written by `save`, as the most recent ones (the bounds still
    /// apply). The whole file is checked first: on any error the cache is unchanged. Returns the
    /// number of entries read.
    pub fn load(&self, path: &Path) -> Result<usize> {
        let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
        let entries = decode(&bytes).map_err(|message| Error::CorruptFile {
            path: path.to_path_buf(),
            message,
        })?;
        let mut inner = self.lock();
        for (key, value) in &entries {
            if self.too_big(key.len() + value.len()) {
                inner.stats.rejected += 1;
            } else {
                inner.insert(Arc::clone(key), Arc::clone(value), &self.limits);
                inner.stats.loaded += 1;
            }
        }
        Ok(entries.len())
    }

    fn too_big(&self, size: usize) -> bool {
        self.limits.max_bytes.is_some_and(|max| size > max.get())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section leaves the map consistent, so a panic elsewhere
        // while holding the lock does not make the data unusable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn insert(&mut self, key: Arc<str>, value: Arc<str>, limits: &CacheLimits) {
        let size = key.len() + value.len();
        if let Some((old_key, old)) = self.map.push(key, value) {
            // `push` hands back the replaced entry (same key); nothing was evicted.
            self.stats.bytes -= old_key.len() + old.len();
        }
        self.stats.bytes += size;
        let max_bytes = limits.max_bytes.map_or(usize::MAX, NonZeroUsize::get);
        while self.map.len() > limits.max_entries.get() || self.stats.bytes > max_bytes {
            let Some((k, v)) = self.map.pop_lru() else {
                break;
            };
            self.stats.bytes -= k.len() + v.len();
            self.stats.evictions += 1;
        }
    }
}

fn encode(entries: &[(Arc<str>, Arc<str>)]) -> Vec<u8> {
    let body: usize = entries.iter().map(|(k, v)| 16 + k.len() + v.len()).sum();
    let mut out = Vec::with_capacity(HEADER_LEN + body + CHECKSUM_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (k, v) in entries {
        out.extend_from_slice(&(k.len() as u64).to_le_bytes());
        out.extend_from_slice(&(v.len() as u64).to_le_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    let checksum = blake3::hash(&out);
    out.extend_from_slice(checksum.as_bytes());
    out
}

type Entries = Vec<(Arc<str>, Arc<str>)>;

/// Parses a whole file; the error says what is wrong and where (byte offsets).
fn decode(bytes: &[u8]) -> Result<Entries, String> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a reward cache file (bad magic bytes)".into());
    }
    if bytes.len() < HEADER_LEN + CHECKSUM_LEN {
        return Err(format!(
            "truncated: {} bytes, shorter than an empty cache file",
            bytes.len()
        ));
    }
    let mut r = Reader { bytes, at: 8 };
    let version = r.u32()?;
    if version != VERSION {
        return Err(format!(
            "unsupported format version {version} (this build reads {VERSION})"
        ));
    }
    let _flags = r.u32()?;
    let count = r.u64()?;
    let (data, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    let mut entries = Vec::new();
    r.bytes = data;
    for i in 0..count {
        let key_len = r.u64()?;
        let value_len = r.u64()?;
        let key = r.string(key_len, i, "key")?;
        let value = r.string(value_len, i, "value")?;
        entries.push((key, value));
    }
    if r.at != data.len() {
        return Err(format!(
            "{} unexpected bytes after entry {count} at byte {}",
            data.len() - r.at,
            r.at
        ));
    }
    if blake3::hash(data).as_bytes() != checksum {
        return Err("checksum mismatch: the file was modified or partly written".into());
    }
    Ok(entries)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: u64, what: &str) -> Result<&[u8], String> {
        let available = self.bytes.len() - self.at;
        if n > available as u64 {
            return Err(format!(
                "truncated: {what} at byte {} needs {n} bytes, {available} left",
                self.at
            ));
        }
        let n = n as usize;
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4, "header")?;
        Ok(u32::from_le_bytes(b.try_into().unwrap_or_default()))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8, "length")?;
        Ok(u64::from_le_bytes(b.try_into().unwrap_or_default()))
    }

    fn string(&mut self, len: u64, entry: u64, what: &str) -> Result<Arc<str>, String> {
        let b = self.take(len, &format!("entry {entry} {what}"))?;
        std::str::from_utf8(b)
            .map(Arc::from)
            .map_err(|_| format!("entry {entry}: {what} is not UTF-8"))
    }
}

/// Temp file in the same directory → write → fsync → rename → fsync the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{}: not a file path", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(&dir, e))
}

#[cfg(test)]
mod tests;
