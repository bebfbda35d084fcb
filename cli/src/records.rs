//! Record payloads for people: JSON values (from the command line, CSV or JSON lines) encoded
//! to SCALE in a dataset's schema order, and decoded back for display.
use anyhow::{anyhow, bail, Result};
use civitas_primitives::vault::{Field, FieldType};
use parity_scale_codec::{Decode, Encode};
use serde_json::{Map, Value};

fn number<T: TryFrom<i128>>(name: &str, v: &Value) -> Result<T> {
    let n: i128 = match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .ok_or_else(|| anyhow!("field `{name}`: {n} is not an integer"))?,
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| anyhow!("field `{name}`: `{s}` is not an integer"))?,
        other => bail!("field `{name}`: expected an integer, got {other}"),
    };
    T::try_from(n).map_err(|_| anyhow!("field `{name}`: {n} is out of range"))
}

/// Encodes `values` (field name → value) in the schema's order; every field is required and
/// unknown names are refused.
pub fn encode_payload(fields: &[Field], values: &Map<String, Value>) -> Result<Vec<u8>> {
    for k in values.keys() {
        if !fields.iter().any(|f| &f.name == k) {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            bail!("unknown field `{k}`; the schema has {}", names.join(", "));
        }
    }
    let mut out = Vec::new();
    for f in fields {
        let v = values
            .get(&f.name)
            .ok_or_else(|| anyhow!("missing field `{}` ({})", f.name, f.ty.name()))?;
        match f.ty {
            FieldType::U32 => number::<u32>(&f.name, v)?.encode_to(&mut out),
            FieldType::U64 => number::<u64>(&f.name, v)?.encode_to(&mut out),
            FieldType::U128 => match v {
                Value::String(s) => s
                    .trim()
                    .parse::<u128>()
                    .map_err(|_| anyhow!("field `{}`: `{s}` is not an integer", f.name))?
                    .encode_to(&mut out),
                _ => number::<u128>(&f.name, v)?.encode_to(&mut out),
            },
            FieldType::I64 => number::<i64>(&f.name, v)?.encode_to(&mut out),
            FieldType::Bool => {
                let b = match v {
                    Value::Bool(b) => *b,
                    Value::String(s) if s.eq_ignore_ascii_case("true") || s == "1" => true,
                    Value::String(s) if s.eq_ignore_ascii_case("false") || s == "0" => false,
                    other => bail!("field `{}`: expected true or false, got {other}", f.name),
                };
                b.encode_to(&mut out)
            }
            FieldType::Text => match v {
                Value::String(s) => s.encode_to(&mut out),
                other => other.to_string().encode_to(&mut out),
            },
        }
    }
    Ok(out)
}

/// Decodes a payload into a JSON object in schema order.
pub fn decode_payload(fields: &[Field], payload: &[u8]) -> Result<Value> {
    let mut input = payload;
    let mut out = Map::new();
    for f in fields {
        let bad = || {
            anyhow!(
                "payload field `{}` does not decode as {}",
                f.name,
                f.ty.name()
            )
        };
        let v = match f.ty {
            FieldType::U32 => Value::from(u32::decode(&mut input).map_err(|_| bad())?),
            FieldType::U64 => Value::from(u64::decode(&mut input).map_err(|_| bad())?),
            FieldType::U128 => {
                Value::from(u128::decode(&mut input).map_err(|_| bad())?.to_string())
            }
            FieldType::I64 => Value::from(i64::decode(&mut input).map_err(|_| bad())?),
            FieldType::Bool => Value::from(bool::decode(&mut input).map_err(|_| bad())?),
            FieldType::Text => Value::from(String::decode(&mut input).map_err(|_| bad())?),
        };
        out.insert(f.name.clone(), v);
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Vec<Field> {
        vec![
            Field {
                name: "year".into(),
                ty: FieldType::U32,
            },
            Field {
                name: "employer".into(),
                ty: FieldType::Text,
            },
            Field {
                name: "employed".into(),
                ty: FieldType::Bool,
            },
        ]
    }

    #[test]
    fn payloads_round_trip_and_bad_values_are_named() {
        let v = serde_json::json!({"year": "2025", "employer": "ACME", "employed": true});
        let bytes = encode_payload(&schema(), v.as_object().expect("object")).expect("encode");
        civitas_primitives::vault::check_payload(&schema(), &bytes).expect("matches schema");
        assert_eq!(
            decode_payload(&schema(), &bytes).expect("decode"),
            serde_json::json!({"year": 2025, "employer": "ACME", "employed": true})
        );
        let missing = serde_json::json!({"year": 1, "employer": "x"});
        let e = encode_payload(&schema(), missing.as_object().expect("object")).unwrap_err();
        assert!(e.to_string().contains("missing field `employed`"), "{e}");
        let range = serde_json::json!({"year": -1, "employer": "x", "employed": false});
        let e = encode_payload(&schema(), range.as_object().expect("object")).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let extra = serde_json::json!({"year": 1, "employer": "x", "employed": false, "iq": 3});
        assert!(encode_payload(&schema(), extra.as_object().expect("object")).is_err());
    }
}
