//! The small keyed collections of the prompt state, the config and the session:
//! a map and a set of strings, both kept as one sorted `Vec`.
//!
//! Why not `BTreeMap`/`BTreeSet`: every key and value type compiles its own copy
//! of the B-tree's node, balancing and iteration code into the wasm, and these
//! collections hold a handful of entries, for which a binary search over a `Vec`
//! is as fast. Replacing them cut the bundle by several kilobytes of brotli (see
//! the README's size table). Both keep the B-tree's sorted order, so stored JSON
//! is the same as before: maps as objects with sorted keys, sets as sorted arrays.
//!
//! Hand-written rather than ICU4X's `litemap` (a maintained Vec-backed map):
//! its deserializer sorts out-of-order input with the standard library's stable
//! sort, which alone measured more code in the wasm than the B-trees it would
//! replace. Here every insertion is a binary search, and nothing sorts.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where `key` is among `len` sorted, distinct keys, `key_at(i)` the i-th:
/// `Ok` with its index, or `Err` with the index it would be inserted at, as
/// `binary_search` answers. Not generic, unlike `binary_search_by` over the
/// entries, which was compiled once for the set and once per map value type.
fn search<'a>(len: usize, key_at: &dyn Fn(usize) -> &'a str, key: &str) -> Result<usize, usize> {
    let (mut low, mut high) = (0, len);
    while low < high {
        let mid = low + (high - low) / 2;
        match key_at(mid).cmp(key) {
            std::cmp::Ordering::Less => low = mid + 1,
            std::cmp::Ordering::Greater => high = mid,
            std::cmp::Ordering::Equal => return Ok(mid),
        }
    }
    Err(low)
}

/// A map from strings, sorted by key. Stored as a JSON object; reading one with
/// a repeated key keeps the last value, as `BTreeMap` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map<V>(Vec<(String, V)>);

impl<V> Default for Map<V> {
    fn default() -> Self {
        Map::new()
    }
}

impl<V> Map<V> {
    /// An empty map.
    pub const fn new() -> Map<V> {
        Map(Vec::new())
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        search(self.0.len(), &|i| self.0.get(i).map_or("", |(k, _)| k), key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|at| &self.0[at].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.0.insert(at, (key, value));
                None
            }
        }
    }

    /// The value of `key`, inserting `value` first if there is none.
    pub fn get_or_insert(&mut self, key: &str, value: V) -> &mut V {
        let at = match self.find(key) {
            Ok(at) => at,
            Err(at) => {
                self.0.insert(at, (key.to_owned(), value));
                at
            }
        };
        &mut self.0[at].1
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.find(key).ok().map(|at| self.0.remove(at).1)
    }

    /// The entries, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> + Clone {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &String> + Clone {
        self.0.iter().map(|(k, _)| k)
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> FromIterator<(String, V)> for Map<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(entries: I) -> Map<V> {
        let mut map = Map::new();
        for (key, value) in entries {
            map.insert(key, value);
        }
        map
    }
}

impl<'a, V> IntoIterator for &'a Map<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, V)>,
        fn(&'a (String, V)) -> (&'a String, &'a V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<V: Serialize> Serialize for Map<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Map<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Map<V>, D::Error> {
        struct Entries<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = Map<V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Map<V>, A::Error> {
                let mut map = Map::new();
                while let Some((key, value)) = access.next_entry()? {
                    map.insert(key, value);
                }
                Ok(map)
            }
        }

        deserializer.deserialize_map(Entries(PhantomData))
    }
}

/// A set of strings, sorted and without duplicates. Stored as a JSON array;
/// reading one sorts it and drops duplicates, so any array is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Set(Vec<String>);

impl Set {
    /// An empty set.
    pub const fn new() -> Set {
        Set(Vec::new())
    }

    /// Adds `item`; `false` if it was already there.
    pub fn insert(&mut self, item: String) -> bool {
        match self.find(&item) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, item);
                true
            }
        }
    }

    /// Whether `item` is in the set.
    pub fn contains(&self, item: &str) -> bool {
        self.find(item).is_ok()
    }

    /// Removes `item`; `false` if it was not there.
    pub fn remove(&mut self, item: &str) -> bool {
        match self.find(item) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Keeps only the items `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&String) -> bool) {
        self.0.retain(keep);
    }

    /// The items, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find(&self, item: &str) -> Result<usize, usize> {
        search(
            self.0.len(),
            &|i| self.0.get(i).map_or("", String::as_str),
            item,
        )
    }
}

impl Extend<String> for Set {
    fn extend<I: IntoIterator<Item = String>>(&mut self, items: I) {
        for item in items {
            self.insert(item);
        }
    }
}

impl FromIterator<String> for Set {
    fn from_iter<I: IntoIterator<Item = String>>(items: I) -> Set {
        let mut set = Set::new();
        set.extend(items);
        set
    }
}

impl<'a> IntoIterator for &'a Set {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Set {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'de> Deserialize<'de> for Set {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Set, D::Error> {
        Vec::<String>::deserialize(deserializer).map(Set::from_iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> Set {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn set_is_sorted_without_duplicates_however_it_is_built() {
        let mut s = set(&["b", "a", "b"]);
        assert!(s.insert("c".into()));
        assert!(!s.insert("a".into()));
        s.extend(["0".to_string(), "c".to_string()]);
        assert_eq!(s.iter().collect::<Vec<_>>(), ["0", "a", "b", "c"]);
        assert!(s.contains("b") && !s.contains("z"));
        assert!(s.remove("b") && !s.remove("b"));
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn set_reads_any_array_and_stores_it_sorted() {
        let s: Set = serde_json::from_str(r#"["y","x","y"]"#).unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"["x","y"]"#);
    }

    #[test]
    fn search_answers_as_binary_search_does() {
        for keys in [&[][..], &["b"], &["b", "d"], &["a", "c", "e", "g", "i"]] {
            for key in ["", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
                assert_eq!(
                    search(keys.len(), &|i| keys[i], key),
                    keys.binary_search(&key),
                    "{key} in {keys:?}"
                );
            }
        }
    }

    #[test]
    fn map_stores_an_object_with_sorted_keys() {
        let mut m = Map::<u32>::new();
        m.insert("b".into(), 2);
        m.insert("a".into(), 1);
        *m.get_or_insert("a", 0) += 1;
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"a":2,"b":2}"#);
        let back: Map<u32> = serde_json::from_str(r#"{"b":2,"a":2}"#).unwrap();
        assert_eq!(back, m);
    }
}
