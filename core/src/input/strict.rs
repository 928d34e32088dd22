//! JSON read strictly: an object with the same key twice is an error (which
//! `value` would the laboratory have meant?), where serde_json would keep
//! the last one silently. The duplicate is marked in the record rather than
//! failing the parse, so a batch goes on with the next record.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A record with a duplicate key (at any depth) carries this key, holding
/// the duplicated key's name.
pub(crate) const DUPLICATE: &str = "\u{0}duplicate key";

/// Deserialises a [`Value`], marking duplicate keys at any depth.
#[derive(Clone, Copy)]
pub(crate) struct Strict;

/// Parses `text` strictly.
pub(crate) fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    from_slice(text.as_bytes())
}

/// Parses `bytes` strictly.
pub(crate) fn from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(n)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number must be finite"))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut duplicate: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                map.next_value::<serde::de::IgnoredAny>()?;
                duplicate.get_or_insert(key);
                continue;
            }
            let mut value = map.next_value_seed(Strict)?;
            // A duplicate deeper down marks the whole record.
            if let Some(Value::String(inner)) =
                value.as_object_mut().and_then(|m| m.remove(DUPLICATE))
            {
                duplicate.get_or_insert(inner);
            }
            out.insert(key, value);
        }
        if let Some(key) = duplicate {
            out.insert(DUPLICATE.to_owned(), Value::String(key));
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::from_str;

    use super::DUPLICATE;

    fn duplicate(text: &str) -> Option<String> {
        from_str(text)
            .ok()?
            .get(DUPLICATE)?
            .as_str()
            .map(str::to_owned)
    }

    #[test]
    fn duplicate_keys_are_marked_at_any_depth() {
        assert_eq!(
            duplicate(r#"{"value": 1, "value": 2}"#).as_deref(),
            Some("value")
        );
        assert_eq!(
            duplicate(r#"{"metabolites": {"SU12662": 1, "SU12662": 2}}"#).as_deref(),
            Some("SU12662")
        );
        assert_eq!(duplicate(r#"{"value": 1, "unit": "ng/mL"}"#), None);
    }
}
