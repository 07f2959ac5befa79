//! Typed values out of a `serde_json::Value`, naming the path of the first error.
//!
//! Why not `serde_path_to_error` (which did this before): it wraps any deserializer,
//! so its wrappers are generic over the inner one and every type is compiled once
//! per deserializer it meets; in the wasm that came to about 30 KB. This
//! deserializer knows only `Value`, so each type's serde code exists once.
//!
//! Who uses it now: the collector's envelope (`answer::envelope`, native code), and
//! the tests that hold the hand-written readers of the wasm (`config::parse` for
//! the config and the user, `crate::read` for stored state) to the derived
//! `Deserialize`. The wasm calls none of it, so none of it is compiled in.
//!
//! Paths are written as `serde_path_to_error` displayed them (`stages[2].id`,
//! `headers.X Api`), and an error is placed where it would have placed it: at the
//! innermost value it passed through, a key error at that key.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};
use serde_json::{Map, Value};

/// What went wrong, in serde's words (`invalid type: integer `5`, expected a
/// string`), the same text `serde_json::Error` would carry for a `Value`.
///
/// Its own type rather than `serde_json::Error`: displaying that one compiles in
/// the text of every JSON syntax and I/O error, which a `Value` never produces.
///
/// One pointer wide, as `serde_json::Error` is: every `Result` of every
/// deserializer carries it, and a two- or three-word error measured 1.5 to 8 KB
/// more wasm (brotli) than this boxed `String`.
#[derive(Debug)]
#[allow(clippy::box_collection)]
pub(crate) struct Error(Box<String>);

impl Error {
    /// The message.
    pub(crate) fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(Box::new(msg.to_string()))
    }

    // These two as serde_json words them: `null` for unit, and floats written by
    // serde_json's own formatter (serde's default would compile in `f64`'s
    // `Display`, several kilobytes).
    fn invalid_type(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        Error::custom(format_args!(
            "invalid type: {}, expected {}",
            Shown(unexp),
            exp
        ))
    }

    fn invalid_value(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        Error::custom(format_args!(
            "invalid value: {}, expected {}",
            Shown(unexp),
            exp
        ))
    }
}

/// An unexpected value, shown as serde_json shows it.
struct Shown<'a>(Unexpected<'a>);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Unexpected::Float(n) => match serde_json::Number::from_f64(n) {
                Some(n) => write!(f, "floating point `{n}`"),
                None => f.write_str("floating point"),
            },
            Unexpected::Unit => f.write_str("null"),
            ref other => fmt::Display::fmt(other, f),
        }
    }
}

/// The path of the first error, set by the innermost [`De`] it passes through.
type Track = Cell<Option<String>>;

/// Hands a value of the wanted shape to a visitor (see `De::expect`).
type Visit<'de, V> = fn(Value, &str, &Track, V) -> Result<<V as Visitor<'de>>::Value, Error>;

/// Deserializes `T` from `value`; on error also returns the path of the bad value
/// (empty for the whole document).
pub(crate) fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, (String, Error)> {
    let track = Track::new(None);
    let de = De {
        value,
        path: String::new(),
        track: &track,
    };
    T::deserialize(de).map_err(|e| (track.take().unwrap_or_default(), e))
}

fn record(track: &Track, path: &str) {
    let first = track.take().unwrap_or_else(|| path.to_owned());
    track.set(Some(first));
}

fn join(parent: &str, key: &str) -> String {
    let mut path = String::with_capacity(parent.len() + 1 + key.len());
    path.push_str(parent);
    if !parent.is_empty() {
        path.push('.');
    }
    path.push_str(key);
    path
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (None, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

/// One value and where it sits in the document.
struct De<'t> {
    value: Value,
    path: String,
    track: &'t Track,
}

impl De<'_> {
    // Arrays and objects go to the visitor's `visit_seq` / `visit_map`; like
    // serde_json's own `Value` deserializer, leftovers are an error.
    fn visit_array<'de, V: Visitor<'de>>(
        items: Vec<Value>,
        path: &str,
        track: &Track,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let len = items.len();
        let mut seq = Seq {
            items: items.into_iter(),
            index: 0,
            path,
            track,
        };
        let v = visitor.visit_seq(&mut seq)?;
        match seq.items.len() {
            0 => Ok(v),
            _ => Err(de::Error::invalid_length(len, &"fewer elements in array")),
        }
    }

    fn visit_object<'de, V: Visitor<'de>>(
        map: Map<String, Value>,
        path: &str,
        track: &Track,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let len = map.len();
        let mut access = Entries {
            entries: map.into_iter(),
            pending: None,
            path,
            track,
        };
        let v = visitor.visit_map(&mut access)?;
        match access.entries.len() {
            0 => Ok(v),
            _ => Err(de::Error::invalid_length(len, &"fewer elements in map")),
        }
    }

    /// Gives the value to `visit` when `wanted` accepts it, else a type error
    /// (`invalid type: integer `5`, expected a string`, the same words the
    /// visitor's own default would use). Either error is placed at this path.
    ///
    /// The typed entry points below only visit the one shape they ask for, so a
    /// type's serde code is not compiled against every shape of JSON value.
    fn expect<'de, V: Visitor<'de>>(
        self,
        visitor: V,
        wanted: fn(&Value) -> bool,
        visit: Visit<'de, V>,
    ) -> Result<V::Value, Error> {
        let De { value, path, track } = self;
        let result = if wanted(&value) {
            visit(value, &path, track, visitor)
        } else {
            Err(de::Error::invalid_type(unexpected(&value), &visitor))
        };
        result.inspect_err(|_| record(track, &path))
    }
}

impl<'de> de::Deserializer<'de> for De<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let De { value, path, track } = self;
        let result = match value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => visit_number(&n, visitor),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => Self::visit_array(items, &path, track, visitor),
            Value::Object(map) => Self::visit_object(map, &path, track, visitor),
        };
        result.inspect_err(|_| record(track, &path))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.expect(visitor, Value::is_boolean, |v, _, _, visitor| {
            visitor.visit_bool(v.as_bool().unwrap_or_default())
        })
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.expect(visitor, Value::is_string, |v, _, _, visitor| match v {
            Value::String(s) => visitor.visit_string(s),
            _ => visitor.visit_unit(),
        })
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.expect(
            visitor,
            Value::is_array,
            |v, path, track, visitor| match v {
                Value::Array(items) => Self::visit_array(items, path, track, visitor),
                _ => visitor.visit_unit(),
            },
        )
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.expect(
            visitor,
            Value::is_object,
            |v, path, track, visitor| match v {
                Value::Object(map) => Self::visit_object(map, path, track, visitor),
                _ => visitor.visit_unit(),
            },
        )
    }

    // Objects only: serde_json's own `Value` also takes a struct written as an
    // array of its fields, which no config or stored value uses; accepting it
    // compiled every type's `visit_seq` into the wasm.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    // Unit variants, written as strings: the only enums in these types. (serde_json's
    // own `Value` also takes `{ "variant": null }`; no config or stored value uses it.)
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.expect(visitor, Value::is_string, |v, _, _, visitor| match v {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            _ => visitor.visit_unit(),
        })
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u128 f32 f64 char
        bytes byte_buf unit unit_struct newtype_struct tuple tuple_struct
        identifier ignored_any
    }
}

impl De<'_> {
    fn number<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.expect(visitor, Value::is_number, |v, _, _, visitor| match v {
            Value::Number(n) => visit_number(&n, visitor),
            _ => visitor.visit_unit(),
        })
    }
}

/// A number as serde_json's own `Number` deserializer hands it over: unsigned,
/// else signed, else float.
fn visit_number<'de, V: Visitor<'de>>(
    n: &serde_json::Number,
    visitor: V,
) -> Result<V::Value, Error> {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => visitor.visit_u64(u),
        (None, Some(i)) => visitor.visit_i64(i),
        _ => visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN)),
    }
}

struct Seq<'a, 't> {
    items: std::vec::IntoIter<Value>,
    index: usize,
    path: &'a str,
    track: &'t Track,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(value) = self.items.next() else {
            return Ok(None);
        };
        let mut path = String::from(self.path);
        path.push('[');
        path.push_str(&self.index.to_string());
        path.push(']');
        self.index += 1;
        seed.deserialize(De {
            value,
            path,
            track: self.track,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'a, 't> {
    entries: serde_json::map::IntoIter,
    // The value of the key just read, with its path.
    pending: Option<(String, Value)>,
    path: &'a str,
    track: &'t Track,
}

impl<'de> de::MapAccess<'de> for Entries<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let path = join(self.path, &key);
        // A bad key (unknown field) is reported at the key itself.
        let result = seed.deserialize(key.into_deserializer());
        if result.is_err() {
            record(self.track, &path);
        }
        self.pending = Some((path, value));
        result.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((path, value)) = self.pending.take() else {
            return Err(de::Error::custom("value is missing"));
        };
        seed.deserialize(De {
            value,
            path,
            track: self.track,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
