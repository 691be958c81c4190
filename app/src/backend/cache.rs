//! In-memory copies of stored data for hot paths (API-key principals, validated workflows, the
//! outbound policy), and how they go stale: a copy is reused while it is younger than a time to
//! live, the bound for changes made by another server process on the same database, and while
//! the [`Generation`] of its kind of data has not moved, which this process bumps after each
//! change commits so that its own changes apply at once.
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A process-wide change counter for one kind of stored data.
#[derive(Default)]
pub struct Generation(AtomicU64);

impl Generation {
    pub const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Marks every copy taken so far as stale: call after a change commits.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Copies by key, each reused while fresh (see the module documentation).
pub struct FreshCache<K, V> {
    entries: Mutex<HashMap<K, Stamped<V>>>,
    generation: &'static Generation,
    ttl: Duration,
    /// Entries kept at most; past this the cache is emptied (a crude bound that only matters
    /// under a flood of distinct keys).
    max: usize,
}

struct Stamped<V> {
    value: V,
    loaded: Instant,
    generation: u64,
}

impl<K: Eq + Hash, V: Clone> FreshCache<K, V> {
    pub fn new(generation: &'static Generation, ttl: Duration, max: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            generation,
            ttl,
            max,
        }
    }

    /// The generation to pass to [`FreshCache::put`]: read it before loading, so that a change
    /// committed while loading makes the copy stale at once.
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    /// The copy under `key` if it is fresh and `still_valid` accepts it.
    pub fn get(&self, key: &K, still_valid: impl FnOnce(&V) -> bool) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(key)?;
        let fresh = e.loaded.elapsed() < self.ttl && e.generation == self.generation.current();
        (fresh && still_valid(&e.value)).then(|| e.value.clone())
    }

    /// Keeps `value`, loaded at `generation`.
    pub fn put(&self, key: K, value: V, generation: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.max {
                entries.clear();
            }
            entries.insert(
                key,
                Stamped {
                    value,
                    loaded: Instant::now(),
                    generation,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static CHANGES: Generation = Generation::new();

    #[test]
    fn copies_go_stale_with_the_generation_the_ttl_or_the_check() {
        let cache = FreshCache::new(&CHANGES, Duration::from_secs(60), 2);
        let g = cache.generation();
        cache.put("a", 1, g);
        assert_eq!(cache.get(&"a", |_| true), Some(1));
        assert_eq!(cache.get(&"a", |v| *v == 2), None, "the caller's check");
        CHANGES.bump();
        assert_eq!(cache.get(&"a", |_| true), None, "a change committed since");
        cache.put("b", 2, g);
        assert_eq!(cache.get(&"b", |_| true), None, "loaded before the change");

        let short = FreshCache::new(&CHANGES, Duration::ZERO, 2);
        short.put("a", 1, short.generation());
        assert_eq!(
            short.get(&"a", |_| true),
            None,
            "older than the time to live"
        );
    }
}
