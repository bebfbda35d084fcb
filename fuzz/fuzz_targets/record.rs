//! Record payloads against dataset schemas (`check_payload`, which the node runs on every
//! `vault_putRecords` record) and field specs (`parse_field`, genesis files and
//! `civitas dataset register --field`).
//!
//! Properties: never a panic; a payload built from values of the schema's types is accepted,
//! and with a byte appended or its last byte removed is refused (each type's encoding is
//! self-delimiting, so a strict prefix or extension of a valid payload is never valid); an
//! accepted arbitrary payload is the re-encoding of the values it decodes to; a spec
//! `name:type` written from a parsed field parses back to it.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use civitas_primitives::vault::{check_payload, parse_field, Dataset, Field, FieldType};
use libfuzzer_sys::fuzz_target;
use parity_scale_codec::{Decode, Encode};

#[derive(Arbitrary, Debug, Clone)]
enum Value {
    U32(u32),
    U64(u64),
    U128(u128),
    I64(i64),
    Bool(bool),
    Text(String),
}

impl Value {
    fn ty(&self) -> FieldType {
        match self {
            Value::U32(_) => FieldType::U32,
            Value::U64(_) => FieldType::U64,
            Value::U128(_) => FieldType::U128,
            Value::I64(_) => FieldType::I64,
            Value::Bool(_) => FieldType::Bool,
            Value::Text(_) => FieldType::Text,
        }
    }
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Value::U32(v) => v.encode_to(out),
            Value::U64(v) => v.encode_to(out),
            Value::U128(v) => v.encode_to(out),
            Value::I64(v) => v.encode_to(out),
            Value::Bool(v) => v.encode_to(out),
            Value::Text(v) => v.encode_to(out),
        }
    }
}

const TYPES: [FieldType; 6] = [
    FieldType::U32,
    FieldType::U64,
    FieldType::U128,
    FieldType::I64,
    FieldType::Bool,
    FieldType::Text,
];

fn schema(tags: &[u8]) -> Vec<Field> {
    tags.iter()
        .take(32)
        .enumerate()
        .map(|(i, t)| Field {
            name: format!("f{i}"),
            ty: TYPES[usize::from(*t) % TYPES.len()],
        })
        .collect()
}

/// Decodes `payload` by `fields` and re-encodes it.
fn reencode(fields: &[Field], mut payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        let v = match f.ty {
            FieldType::U32 => Value::U32(u32::decode(&mut payload).expect("accepted")),
            FieldType::U64 => Value::U64(u64::decode(&mut payload).expect("accepted")),
            FieldType::U128 => Value::U128(u128::decode(&mut payload).expect("accepted")),
            FieldType::I64 => Value::I64(i64::decode(&mut payload).expect("accepted")),
            FieldType::Bool => Value::Bool(bool::decode(&mut payload).expect("accepted")),
            FieldType::Text => Value::Text(String::decode(&mut payload).expect("accepted")),
        };
        v.encode_to(&mut out);
    }
    out
}

fn raw(fields: &[Field], payload: &[u8]) {
    if check_payload(fields, payload).is_ok() {
        assert_eq!(
            reencode(fields, payload),
            payload,
            "an accepted payload is canonical"
        );
    }
}

// The first byte picks the mode (seeds in corpus/record/ start with it): 0, a count n, n type
// tags and a payload; 1, structured values; 2, a field spec; 3, a SCALE `Dataset` followed by a
// payload to check against its schema.
fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            let Some((&n, rest)) = bytes.split_first() else {
                return;
            };
            let n = usize::from(n).min(rest.len());
            let (tags, payload) = rest.split_at(n);
            raw(&schema(tags), payload);
        }
        1 => {
            let Ok(values) = Vec::<Value>::arbitrary_take_rest(Unstructured::new(bytes)) else {
                return;
            };
            let values: Vec<Value> = values.into_iter().take(32).collect();
            let fields: Vec<Field> = values
                .iter()
                .enumerate()
                .map(|(i, v)| Field {
                    name: format!("f{i}"),
                    ty: v.ty(),
                })
                .collect();
            let mut payload = Vec::new();
            values.iter().for_each(|v| v.encode_to(&mut payload));
            assert_eq!(
                check_payload(&fields, &payload),
                Ok(()),
                "a well-typed payload is refused"
            );
            let mut longer = payload.clone();
            longer.push(0);
            assert!(
                check_payload(&fields, &longer).is_err(),
                "trailing bytes accepted"
            );
            if let Some((_, shorter)) = payload.split_last() {
                assert!(
                    check_payload(&fields, shorter).is_err(),
                    "a truncated payload accepted"
                );
            }
        }
        2 => {
            let Ok(spec) = std::str::from_utf8(bytes) else {
                return;
            };
            if let Ok(field) = parse_field(spec) {
                assert!(!field.name.is_empty());
                if !field.name.contains(':') {
                    let written = format!("{}:{}", field.name, field.ty.name());
                    assert_eq!(
                        parse_field(&written),
                        Ok(field),
                        "a written spec parses back"
                    );
                }
            }
        }
        _ => {
            let mut input = bytes;
            if let Ok(ds) = Dataset::decode(&mut input) {
                let used = bytes.len() - input.len();
                assert_eq!(ds.encode(), &bytes[..used]);
                raw(&ds.fields, input);
            }
        }
    }
});
