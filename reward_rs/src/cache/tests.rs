//! The cache's bounds, recency order, counters, file format and thread safety.

use std::collections::HashSet;

use super::*;

fn cache(max_entries: usize, max_bytes: Option<usize>) -> Cache {
    Cache::new(CacheLimits {
        max_entries: NonZeroUsize::new(max_entries).unwrap(),
        max_bytes: max_bytes.and_then(NonZeroUsize::new),
    })
}

fn keys(c: &Cache) -> Vec<String> {
    // Most recent first, without touching recency.
    c.lock().map.iter().map(|(k, _)| k.to_string()).collect()
}

#[test]
fn key_is_hex_blake3_over_length_prefixed_parts() {
    let k = Cache::key(["python3.11", "print(1)"]);
    assert_eq!(k.len(), 64);
    assert!(k.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        k,
        Cache::key([b"python3.11".as_slice(), b"print(1)".as_slice()])
    );
    assert_ne!(Cache::key(["ab", "c"]), Cache::key(["a", "bc"]));
    assert_ne!(Cache::key(["abc"]), Cache::key(["abc", ""]));
    assert_ne!(k, blake3::hash(b"python3.11print(1)").to_hex().to_string());
}

#[test]
fn default_limits_match_the_python_defaults() {
    // python.rs and _reward.pyi spell these numbers out in RewardCache's signature.
    let d = CacheLimits::default();
    assert_eq!(d.max_entries.get(), 100_000);
    assert_eq!(d.max_bytes.map(NonZeroUsize::get), Some(268_435_456));
}

#[test]
fn entry_bound_evicts_the_least_recently_used() {
    let c = cache(3, None);
    for k in ["a", "b", "c"] {
        assert!(c.put(k, "v"));
    }
    assert_eq!(c.get("a").as_deref(), Some("v")); // a is now the most recent
    c.put("d", "v");
    assert_eq!(keys(&c), ["d", "a", "c"]);
    assert!(!c.contains("b"));
    let s = c.stats();
    assert_eq!((s.entries, s.evictions, s.inserts), (3, 1, 4));
}

#[test]
fn byte_bound_counts_keys_and_values() {
    let c = cache(100, Some(10));
    c.put("k1", "abc"); // 5 bytes
    c.put("k2", "abc"); // 10
    assert_eq!(c.stats().bytes, 10);
    c.put("k3", "a"); // 13 > 10: k1 goes
    assert_eq!(keys(&c), ["k3", "k2"]);
    assert_eq!(c.stats().bytes, 8);
    // Alone over the bound: refused, and the old value under that key stays.
    assert!(!c.put("k2", "0123456789"));
    assert_eq!(c.get("k2").as_deref(), Some("abc"));
    let s = c.stats();
    assert_eq!((s.rejected, s.evictions, s.bytes), (1, 1, 8));
}

#[test]
fn replacing_a_value_updates_bytes_without_evicting() {
    let c = cache(2, None);
    c.put("a", "1");
    c.put("b", "1");
    c.put("a", "12345");
    assert_eq!(keys(&c), ["a", "b"]);
    let s = c.stats();
    assert_eq!((s.bytes, s.evictions, s.entries), (8, 0, 2));
    assert_eq!(c.get("a").as_deref(), Some("12345"));
}

#[test]
fn counters_and_contains() {
    let c = cache(4, None);
    assert!(c.get("x").is_none());
    c.put("x", "1");
    c.put("y", "2");
    assert!(c.get("x").is_some());
    assert!(c.get("x").is_some());
    // `contains` neither counts nor refreshes.
    assert!(c.contains("y") && !c.contains("z"));
    assert_eq!(keys(&c), ["x", "y"]);
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.inserts), (2, 1, 2));
}

#[test]
fn save_and_load_keep_entries_and_recency() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reward_cache.bin");
    let c = cache(10, None);
    for (k, v) in [
        ("a", "{\"status\": \"passed\"}"),
        ("b", "line\nbreak"),
        ("c", "ünï"),
    ] {
        c.put(k, v);
    }
    c.get("a");
    assert_eq!(c.save(&path).unwrap(), 3);
    // Only the file is left behind: no temporary files.
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["reward_cache.bin"]);

    let back = cache(10, None);
    assert_eq!(back.load(&path).unwrap(), 3);
    assert_eq!(keys(&back), ["a", "c", "b"]);
    assert_eq!(back.get("b").as_deref(), Some("line\nbreak"));
    assert_eq!(back.stats().loaded, 3);

    // A smaller cache keeps the most recent entries of the file.
    let small = cache(2, None);
    small.load(&path).unwrap();
    assert_eq!(keys(&small), ["a", "c"]);

    // Saving again replaces the file with the new content.
    c.put("d", "4");
    c.save(&path).unwrap();
    let again = cache(10, None);
    assert_eq!(again.load(&path).unwrap(), 4);
}

#[test]
fn empty_cache_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.bin");
    assert_eq!(cache(1, None).save(&path).unwrap(), 0);
    assert_eq!(cache(1, None).load(&path).unwrap(), 0);
}

fn load_error(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.bin");
    fs::write(&path, bytes).unwrap();
    let c = cache(10, None);
    c.put("kept", "yes");
    let err = c.load(&path).expect_err("a broken file must not load");
    // Nothing already stored is lost, and nothing half-read is added.
    assert_eq!(keys(&c), ["kept"]);
    let msg = err.to_string();
    assert!(msg.starts_with(&path.display().to_string()), "{msg}");
    assert!(matches!(err, Error::CorruptFile { .. }), "{err:?}");
    msg
}

fn saved_file() -> Vec<u8> {
    let c = cache(10, None);
    c.put("alpha", "{\"passed\": true}");
    c.put("beta", "{\"passed\": false}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.bin");
    c.save(&path).unwrap();
    fs::read(&path).unwrap()
}

#[test]
fn every_truncation_is_an_error_naming_the_file() {
    let good = saved_file();
    let mut messages = HashSet::new();
    for len in 0..good.len() {
        let msg = load_error(&good[..len]);
        messages.insert(msg.split(':').nth(1).unwrap_or_default().trim().to_string());
    }
    assert!(
        messages.iter().any(|m| m.starts_with("truncated")),
        "{messages:?}"
    );
}

#[test]
fn flipped_bytes_bad_magic_and_versions_are_errors() {
    let good = saved_file();
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x40;
        load_error(&bad);
    }
    let mut wrong_magic = good.clone();
    wrong_magic[0] = b'X';
    assert!(load_error(&wrong_magic).contains("bad magic"));
    let mut future = good.clone();
    future[8] = 2;
    assert!(load_error(&future).contains("unsupported format version 2"));
    let mut extra = good.clone();
    extra.splice(good.len() - 32..good.len() - 32, *b"junk");
    assert!(load_error(&extra).contains("unexpected bytes"));
}

#[test]
fn io_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.bin");
    let err = cache(1, None).load(&missing).unwrap_err();
    assert!(
        matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );
    assert!(err.to_string().contains("nope.bin"));
    let err = cache(1, None)
        .save(&dir.path().join("no/such/dir/c.bin"))
        .unwrap_err();
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}

#[test]
fn threads_share_one_cache() {
    let c = cache(64, Some(4096));
    let (threads, rounds) = (4, 2000);
    std::thread::scope(|s| {
        for t in 0..threads {
            let c = &c;
            s.spawn(move || {
                for i in 0..rounds {
                    let key = Cache::key([format!("{}", (i * 7 + t) % 100)]);
                    if c.get(&key).is_none() {
                        c.put(&key, format!("outcome {i}"));
                    }
                }
            });
        }
    });
    let s = c.stats();
    assert_eq!(s.hits + s.misses, (threads * rounds) as u64);
    assert!(s.entries <= 64 && s.bytes <= 4096, "{s:?}");
    let real: usize = c.lock().map.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert_eq!(s.bytes, real);
}
