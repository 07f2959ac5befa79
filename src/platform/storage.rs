//! Key-value storage: `localStorage`, falling back to memory when the browser
//! refuses it (storage disabled, quota full, some private modes).

use std::cell::{Cell, RefCell};

use super::Log;
use trickle_core::sorted::Map;

/// The storage key of the outbox (shared by every user and tab of the origin).
pub const OUTBOX_KEY: &str = "trickle:v1:outbox";

/// Where an outbox this version cannot read (say, written by a newer widget in
/// another tab) is copied, once, before this version overwrites it: the answers
/// in it are kept for a later version or a person to recover.
pub const OUTBOX_BACKUP_KEY: &str = "trickle:v1:outbox:unreadable";

/// One user's prompt-state key, and what every such key starts with (the
/// session in core reads and writes them).
pub use trickle_core::session::{state_key, STATE_PREFIX};

/// `localStorage` with an in-memory fallback. Every write also lands in memory, so
/// once `localStorage` throws, the rest of the page's life goes on from memory.
#[derive(Debug)]
pub struct Store {
    local: Option<web_sys::Storage>,
    // Set after the first failed write: from then on memory is the newer copy.
    degraded: Cell<bool>,
    memory: RefCell<Map<String>>,
    log: Log,
}

impl Store {
    /// Opens `window.localStorage`; when reading it throws or it is missing, the
    /// store works from memory (one debug line says so).
    pub fn open(log: Log) -> Self {
        let local = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
        if local.is_none() {
            log.debug(&["localStorage unavailable; keeping state in memory"]);
        }
        Self::with(local, log)
    }

    /// A store over the given `Storage` (`None`: memory only).
    pub fn with(local: Option<web_sys::Storage>, log: Log) -> Self {
        Self {
            local,
            degraded: Cell::new(false),
            memory: RefCell::new(Map::new()),
            log,
        }
    }

    /// Whether values still reach `localStorage` (false: memory only).
    pub fn is_persistent(&self) -> bool {
        self.local.is_some() && !self.degraded.get()
    }

    /// Reads a value. Reads `localStorage` first (another tab may have written it)
    /// unless a write has failed, in which case memory holds the newer copy.
    pub fn get(&self, key: &str) -> Option<String> {
        if self.is_persistent() {
            if let Some(local) = &self.local {
                if let Ok(v) = local.get_item(key) {
                    return v;
                }
            }
        }
        let from_memory = self
            .memory
            .try_borrow()
            .ok()
            .and_then(|m| m.get(key).cloned());
        if from_memory.is_some() {
            return from_memory;
        }
        // Degraded by a full quota: reading may still work for keys not written since.
        self.local
            .as_ref()
            .and_then(|l| l.get_item(key).ok().flatten())
    }

    /// Reads a value as JSON: `null` when its text is not JSON (every stored
    /// document reads that as "nothing readable stored", as it reads `null`).
    pub fn get_json(&self, key: &str) -> Option<serde_json::Value> {
        self.get(key)
            .map(|text| super::json::parse(&text).unwrap_or_default())
    }

    /// Writes a value; a throwing `localStorage` switches the store to memory.
    pub fn set(&self, key: &str, value: &str) {
        if let Ok(mut m) = self.memory.try_borrow_mut() {
            m.insert(key.to_owned(), value.to_owned());
        }
        if self.is_persistent() {
            if let Some(local) = &self.local {
                if local.set_item(key, value).is_err() {
                    self.degraded.set(true);
                    self.log
                        .debug(&["localStorage refused a write; keeping state in memory"]);
                }
            }
        }
    }

    /// Every key that starts with `prefix`, in `localStorage` or in memory.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        if let Ok(memory) = self.memory.try_borrow() {
            for key in memory.keys() {
                if key.starts_with(prefix) {
                    keys.push(key.clone());
                }
            }
        }
        if let Some(local) = &self.local {
            for i in 0..local.length().unwrap_or(0) {
                if let Ok(Some(key)) = local.key(i) {
                    if key.starts_with(prefix) && !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
        }
        keys
    }

    /// Removes a value from both copies.
    pub fn remove(&self, key: &str) {
        if let Ok(mut m) = self.memory.try_borrow_mut() {
            m.remove(key);
        }
        if let Some(local) = &self.local {
            let _ = local.remove_item(key);
        }
    }
}
