//! Compact JSON, byte for byte what `serde_json::to_vec` writes, made faster for the batch output
//! (about 2 KB per comment, most of it short strings): strings are scanned for characters to escape
//! eight bytes at a time, and every piece goes straight into one byte buffer. Numbers are written by
//! serde_json's own formatter, so they come out exactly as serde_json writes them.

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::ser::{CompactFormatter, Formatter};

type Error = serde_json::Error;
type Result<T> = std::result::Result<T, Error>;

/// `value` as compact JSON, appended to `out`.
pub fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<()> {
    value.serialize(&mut JsonWriter { out })
}

/// `value` as compact JSON.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    write(&mut out, value)?;
    Ok(out)
}

/// Eight bytes with each byte set to `b`.
const fn repeat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// Whether any of the eight bytes of `v` must be escaped: a control character (below 0x20), `"` or
/// `\`. Exact for the eight bytes as a whole (the usual "has a zero byte" test).
fn needs_escape(v: u64) -> bool {
    let high = repeat(0x80);
    let zero_in = |x: u64| x.wrapping_sub(repeat(0x01)) & !x & high;
    let below_space = v.wrapping_sub(repeat(0x20)) & !v & high;
    (below_space | zero_in(v ^ repeat(b'"')) | zero_in(v ^ repeat(b'\\'))) != 0
}

/// Which bytes serde_json escapes.
static ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// The escape of a byte that [`ESCAPED`] marks, as serde_json writes it.
fn escape(b: u8) -> &'static [u8] {
    const CONTROL: [&[u8]; 32] = [
        b"\\u0000", b"\\u0001", b"\\u0002", b"\\u0003", b"\\u0004", b"\\u0005", b"\\u0006", b"\\u0007", b"\\b", b"\\t",
        b"\\n", b"\\u000b", b"\\f", b"\\r", b"\\u000e", b"\\u000f", b"\\u0010", b"\\u0011", b"\\u0012", b"\\u0013",
        b"\\u0014", b"\\u0015", b"\\u0016", b"\\u0017", b"\\u0018", b"\\u0019", b"\\u001a", b"\\u001b", b"\\u001c",
        b"\\u001d", b"\\u001e", b"\\u001f",
    ];
    match b {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        _ => CONTROL[usize::from(b & 0x1f)],
    }
}

/// Where the first byte to escape is, if any: eight bytes at a time (the last eight bytes for the
/// rest of a string of eight bytes or more), byte by byte from the first block that has one.
fn first_escape(bytes: &[u8]) -> Option<usize> {
    let len = bytes.len();
    if len < 8 {
        return escape_from(bytes, 0);
    }
    let mut at = 0;
    while at + 8 <= len {
        if needs_escape(block_at(bytes, at)) {
            return escape_from(bytes, at);
        }
        at += 8;
    }
    if at < len && needs_escape(block_at(bytes, len - 8)) {
        return escape_from(bytes, len - 8);
    }
    None
}

/// The eight bytes from `at` as a number.
fn block_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(bytes[at..at + 8].try_into().unwrap_or_default())
}

/// The first byte to escape from `at` on.
fn escape_from(bytes: &[u8], at: usize) -> Option<usize> {
    bytes[at..].iter().position(|&b| ESCAPED[usize::from(b)]).map(|i| at + i)
}

/// `s` as a JSON string, quotes included.
fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    match first_escape(bytes) {
        // Most strings: nothing to escape.
        None => out.extend_from_slice(bytes),
        Some(first) => write_escaped(out, bytes, first),
    }
    out.push(b'"');
}

/// The bytes with their escapes, the first byte to escape being at `first`.
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8], first: usize) {
    out.extend_from_slice(&bytes[..first]);
    let mut done = first;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if ESCAPED[usize::from(b)] {
            out.extend_from_slice(&bytes[done..i]);
            out.extend_from_slice(escape(b));
            done = i + 1;
        }
    }
    out.extend_from_slice(&bytes[done..]);
}

/// The serializer: writes into a byte buffer.
struct JsonWriter<'o> {
    out: &'o mut Vec<u8>,
}

impl JsonWriter<'_> {
    fn number(&mut self, write: impl FnOnce(&mut CompactFormatter, &mut Vec<u8>) -> std::io::Result<()>) -> Result<()> {
        write(&mut CompactFormatter, self.out).map_err(Error::io)
    }

    fn open(&mut self, bracket: u8) -> Compound<'_> {
        self.out.push(bracket);
        Compound { writer: JsonWriter { out: &mut *self.out }, first: true }
    }

    /// `{"variant":` before the value of an enum variant that holds data.
    fn open_variant(&mut self, variant: &str) {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
    }
}

/// An array or object being written.
struct Compound<'a> {
    writer: JsonWriter<'a>,
    first: bool,
}

impl Compound<'_> {
    fn separator(&mut self) {
        if !self.first {
            self.writer.out.push(b',');
        }
        self.first = false;
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.separator();
        value.serialize(&mut self.writer)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<()> {
        self.separator();
        write_str(self.writer.out, key);
        self.writer.out.push(b':');
        value.serialize(&mut self.writer)
    }

    fn close(self, bracket: u8) {
        self.writer.out.push(bracket);
    }

    /// Close the inner array or object of a variant, then the `{"variant":...}` around it.
    fn close_variant(self, bracket: u8) {
        self.writer.out.push(bracket);
        self.writer.out.push(b'}');
    }
}

macro_rules! numbers {
    ($($method:ident $write:ident $t:ty),*) => {
        $(fn $method(self, v: $t) -> Result<()> {
            self.number(|f, out| f.$write(out, v))
        })*
    };
}

impl<'a, 'o> ser::Serializer for &'a mut JsonWriter<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    numbers!(serialize_i8 write_i8 i8, serialize_i16 write_i16 i16, serialize_i32 write_i32 i32,
        serialize_i64 write_i64 i64, serialize_i128 write_i128 i128, serialize_u8 write_u8 u8,
        serialize_u16 write_u16 u16, serialize_u32 write_u32 u32, serialize_u64 write_u64 u64,
        serialize_u128 write_u128 u128);

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<()> {
        if v.is_finite() { self.number(|f, out| f.write_f32(out, v)) } else { self.serialize_unit() }
    }

    fn serialize_f64(self, v: f64) -> Result<()> {
        if v.is_finite() { self.number(|f, out| f.write_f64(out, v)) } else { self.serialize_unit() }
    }

    fn serialize_char(self, v: char) -> Result<()> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        write_str(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        let mut seq = self.open(b'[');
        for b in v {
            seq.element(b)?;
        }
        seq.close(b']');
        Ok(())
    }

    fn serialize_none(self) -> Result<()> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<()> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<()> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.open_variant(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Ok(self.open(b'['))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Ok(self.open(b'['))
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct> {
        Ok(self.open(b'['))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.open_variant(variant);
        Ok(self.open(b'['))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Ok(self.open(b'{'))
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Ok(self.open(b'{'))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.open_variant(variant);
        Ok(self.open(b'{'))
    }
}

/// The sequence-like compounds (arrays, tuples, tuple structs and variants): elements, then `]`.
macro_rules! sequence_compound {
    ($trait:ident, $method:ident, $close:ident) => {
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                self.element(value)
            }
            fn end(self) -> Result<()> {
                self.$close(b']');
                Ok(())
            }
        }
    };
}
sequence_compound!(SerializeSeq, serialize_element, close);
sequence_compound!(SerializeTuple, serialize_element, close);
sequence_compound!(SerializeTupleStruct, serialize_field, close);
sequence_compound!(SerializeTupleVariant, serialize_field, close_variant);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.separator();
        key.serialize(KeyWriter { writer: &mut self.writer })
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.writer.out.push(b':');
        value.serialize(&mut self.writer)
    }
    fn end(self) -> Result<()> {
        self.close(b'}');
        Ok(())
    }
}

/// The struct-like compounds (structs and struct variants): named fields, then `}`.
macro_rules! struct_compound {
    ($trait:ident, $close:ident) => {
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
                self.field(key, value)
            }
            fn end(self) -> Result<()> {
                self.$close(b'}');
                Ok(())
            }
        }
    };
}
struct_compound!(SerializeStruct, close);
struct_compound!(SerializeStructVariant, close_variant);

/// A map key: JSON keys are strings, so numbers, booleans and characters are quoted as serde_json
/// quotes them (an option by its value); other keys are refused as serde_json refuses them.
struct KeyWriter<'w, 'o> {
    writer: &'w mut JsonWriter<'o>,
}

impl KeyWriter<'_, '_> {
    fn quoted(self, write: impl FnOnce(&mut CompactFormatter, &mut Vec<u8>) -> std::io::Result<()>) -> Result<()> {
        self.writer.out.push(b'"');
        self.writer.number(write)?;
        self.writer.out.push(b'"');
        Ok(())
    }
}

fn key_must_be_a_string() -> Error {
    ser::Error::custom("key must be a string")
}

macro_rules! quoted_keys {
    ($($method:ident $write:ident $t:ty),*) => {
        $(fn $method(self, v: $t) -> Result<()> {
            self.quoted(|f, out| f.$write(out, v))
        })*
    };
}

macro_rules! refused_keys {
    ($($method:ident ($($arg:ty),*) -> $out:ty),*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$out> {
            Err(key_must_be_a_string())
        })*
    };
}

impl ser::Serializer for KeyWriter<'_, '_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    quoted_keys!(serialize_bool write_bool bool, serialize_i8 write_i8 i8, serialize_i16 write_i16 i16,
        serialize_i32 write_i32 i32, serialize_i64 write_i64 i64, serialize_i128 write_i128 i128,
        serialize_u8 write_u8 u8, serialize_u16 write_u16 u16, serialize_u32 write_u32 u32,
        serialize_u64 write_u64 u64, serialize_u128 write_u128 u128);

    fn serialize_f32(self, v: f32) -> Result<()> {
        if !v.is_finite() {
            return Err(ser::Error::custom("float key must be finite (got NaN or +/-inf)"));
        }
        self.quoted(|f, out| f.write_f32(out, v))
    }

    fn serialize_f64(self, v: f64) -> Result<()> {
        if !v.is_finite() {
            return Err(ser::Error::custom("float key must be finite (got NaN or +/-inf)"));
        }
        self.quoted(|f, out| f.write_f64(out, v))
    }

    fn serialize_char(self, v: char) -> Result<()> {
        self.writer.serialize_char(v)
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        self.writer.serialize_str(v)
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<()> {
        self.writer.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<()> {
        Err(key_must_be_a_string())
    }

    refused_keys!(serialize_bytes(&[u8]) -> (), serialize_none() -> (), serialize_unit() -> (),
        serialize_unit_struct(&'static str) -> (),
        serialize_seq(Option<usize>) -> Self::SerializeSeq, serialize_tuple(usize) -> Self::SerializeTuple,
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct,
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant,
        serialize_map(Option<usize>) -> Self::SerializeMap,
        serialize_struct(&'static str, usize) -> Self::SerializeStruct,
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Our JSON of `value` is serde_json's, or both refuse it; true when it was written.
    fn same_as_serde_json<T: Serialize>(value: &T) -> bool {
        let ours = to_vec(value).map(|v| String::from_utf8(v).expect("JSON is UTF-8"));
        let theirs = serde_json::to_string(value);
        match (ours, theirs) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b);
                true
            }
            (Err(_), Err(_)) => false,
            (a, b) => panic!("ours {a:?}, serde_json {b:?}"),
        }
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(f64),
        Tuple(u8, Option<String>),
        Struct { a: i64, b: Vec<bool> },
    }

    #[derive(Serialize)]
    struct Inner {
        x: f32,
        #[serde(skip_serializing_if = "Option::is_none")]
        y: Option<u32>,
    }

    #[derive(Serialize)]
    struct Outer {
        name: String,
        #[serde(flatten)]
        inner: Inner,
        shapes: Vec<Shape>,
        empty: Vec<u8>,
        nothing: (),
        pair: (char, i128),
        bytes: serde_bytes_like::Bytes,
    }

    mod serde_bytes_like {
        /// Bytes serialised as bytes (not as a sequence of numbers).
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let value = Outer {
            name: "a \"quoted\" \\ name\n\t\u{1}\u{1f}\u{7f} é ‘x’ 😀 and a long tail to cross blocks".into(),
            inner: Inner { x: 0.1, y: Some(7) },
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(f64::NAN),
                Shape::Newtype(-0.0),
                Shape::Newtype(1e300),
                Shape::Tuple(255, None),
                Shape::Struct { a: i64::MIN, b: vec![true, false] },
            ],
            empty: vec![],
            nothing: (),
            pair: ('"', i128::MAX),
            bytes: serde_bytes_like::Bytes(vec![0, 1, 255]),
        };
        assert!(same_as_serde_json(&value));
        assert!(same_as_serde_json(&Inner { x: f32::INFINITY, y: None }));
    }

    /// A map with float keys (which no standard map has).
    struct FloatKeys(Vec<(f64, i32)>);
    impl FromIterator<(f64, i32)> for FloatKeys {
        fn from_iter<I: IntoIterator<Item = (f64, i32)>>(iter: I) -> Self {
            FloatKeys(iter.into_iter().collect())
        }
    }
    impl Serialize for FloatKeys {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }

    #[test]
    fn map_keys_as_serde_json_writes_them() {
        assert!(same_as_serde_json(&BTreeMap::from([("b\"k", 1.5), ("a", 2.0)])));
        assert!(same_as_serde_json(&BTreeMap::from([(3u64, "x"), (1, "y")])));
        assert!(same_as_serde_json(&BTreeMap::from([(-3i8, ()), (1, ())])));
        assert!(same_as_serde_json(&BTreeMap::from([(true, 1)])));
        assert!(same_as_serde_json(&BTreeMap::from([('c', 1)])));
        assert!(same_as_serde_json(&BTreeMap::from([(Some(1), 1)])));
        assert!(same_as_serde_json(&[(1.5f64, 1), (-0.0, 2)].into_iter().collect::<FloatKeys>()));
        // Keys serde_json refuses.
        assert!(!same_as_serde_json(&BTreeMap::from([(vec![1], 1)])));
        assert!(!same_as_serde_json(&BTreeMap::from([(None::<u8>, 1)])));
        assert!(!same_as_serde_json(&BTreeMap::from([((), 1)])));
        assert!(!same_as_serde_json(&[(f64::NAN, 1)].into_iter().collect::<FloatKeys>()));
    }

    #[test]
    fn every_byte_escaped_as_serde_json_escapes_it() {
        // Each ASCII character at each place of an eight-byte block, and around blocks.
        for c in 0u8..128 {
            for len in 0..20 {
                for at in 0..len {
                    let mut s = vec![b'x'; len];
                    s[at] = c;
                    let s = String::from_utf8(s).expect("ASCII");
                    assert!(same_as_serde_json(&s));
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn strings_as_serde_json(s in "\\PC*|[\\x00-\\x7f]{0,40}") {
            proptest::prop_assert!(same_as_serde_json(&s));
        }

        #[test]
        fn numbers_as_serde_json(f in proptest::num::f64::ANY, g in proptest::num::f32::ANY, i in proptest::num::i64::ANY) {
            proptest::prop_assert!(same_as_serde_json(&(f, g, i)));
        }
    }
}
