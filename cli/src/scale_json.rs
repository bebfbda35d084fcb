//! Encodes JSON arguments to SCALE and decodes SCALE outputs to JSON, guided by a contract's
//! metadata (its scale-info type registry). Covers what contract interfaces use: primitives,
//! strings, byte arrays and vectors (as hex), structs, tuples, sequences, options and enums.
//!
//! The metadata comes from the chain, so from whoever uploaded the code: a registry that nests
//! deeper than [`MAX_DEPTH`] (a recursive type) or an output that decodes to more than
//! [`MAX_DECODED_VALUES`] values (arrays of empty types) is refused with a [`RegistryLimit`].
use anyhow::{anyhow, bail, Context, Result};
use parity_scale_codec::{Compact, Decode, Encode};
use serde_json::{json, Value};

/// Deepest nesting of types followed while encoding or decoding one value.
pub const MAX_DEPTH: usize = 64;

/// Most JSON values one output decodes to (a contract's output is at most 64 KiB).
pub const MAX_DECODED_VALUES: usize = 1 << 17;

/// Why a value's type registry was not followed to the end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryLimit {
    /// Types nest deeper than [`MAX_DEPTH`]: a recursive type, or a malformed registry.
    #[error("types nest deeper than {limit} levels (a recursive or malformed type registry)")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// The output decodes to more than [`MAX_DECODED_VALUES`] values.
    #[error("the output decodes to more than {limit} values (a malformed type registry)")]
    TooManyValues {
        /// The limit.
        limit: usize,
    },
}

fn deeper(depth: usize) -> Result<usize> {
    if depth >= MAX_DEPTH {
        return Err(RegistryLimit::TooDeep { limit: MAX_DEPTH }.into());
    }
    Ok(depth + 1)
}

/// A contract's type registry.
pub struct Types<'a>(&'a [Value]);

impl<'a> Types<'a> {
    /// From metadata JSON (`{"types": {"types": [...]}}`).
    pub fn from_metadata(metadata: &'a Value) -> Result<Self> {
        metadata["types"]["types"]
            .as_array()
            .map(|v| Types(v.as_slice()))
            .context("metadata has no type registry")
    }

    fn def(&self, id: u64) -> Result<&'a Value> {
        self.0
            .iter()
            .find(|t| t["id"].as_u64() == Some(id))
            .map(|t| &t["type"]["def"])
            .with_context(|| format!("type {id} missing from the registry"))
    }

    fn is_u8(&self, id: u64) -> bool {
        self.def(id)
            .map(|d| d["primitive"] == "u8")
            .unwrap_or(false)
    }

    /// Appends the SCALE encoding of `v` as type `id`.
    pub fn encode(&self, id: u64, v: &Value, out: &mut Vec<u8>) -> Result<()> {
        self.encode_at(id, v, out, 0)
    }

    fn encode_at(&self, id: u64, v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<()> {
        let depth = deeper(depth)?;
        let def = self.def(id)?;
        if let Some(p) = def["primitive"].as_str() {
            return encode_primitive(p, v, out);
        }
        if let Some(c) = def.get("composite") {
            let fields = c["fields"].as_array().cloned().unwrap_or_default();
            if fields.len() == 1 {
                return self.encode_at(fields[0]["type"].as_u64().unwrap_or(0), v, out, depth);
            }
            for (i, f) in fields.iter().enumerate() {
                let fv = match (f["name"].as_str(), v) {
                    (Some(n), Value::Object(o)) => {
                        o.get(n).with_context(|| format!("missing field `{n}`"))?
                    }
                    (_, Value::Array(a)) => {
                        a.get(i).with_context(|| format!("missing element {i}"))?
                    }
                    _ => bail!("expected an object or array for a struct, got {v}"),
                };
                self.encode_at(f["type"].as_u64().unwrap_or(0), fv, out, depth)?;
            }
            return Ok(());
        }
        if let Some(a) = def.get("array") {
            let elem = a["type"].as_u64().unwrap_or(0);
            let len = a["len"].as_u64().unwrap_or(0) as usize;
            if self.is_u8(elem) {
                let bytes = hex_value(v)?;
                if bytes.len() != len {
                    bail!("expected {len} bytes, got {}", bytes.len());
                }
                out.extend_from_slice(&bytes);
                return Ok(());
            }
            let items = v.as_array().context("expected a JSON array")?;
            for item in items {
                self.encode_at(elem, item, out, depth)?;
            }
            return Ok(());
        }
        if let Some(s) = def.get("sequence") {
            let elem = s["type"].as_u64().unwrap_or(0);
            if self.is_u8(elem) {
                hex_value(v)?.encode_to(out);
                return Ok(());
            }
            let items = v.as_array().context("expected a JSON array")?;
            Compact(items.len() as u32).encode_to(out);
            for item in items {
                self.encode_at(elem, item, out, depth)?;
            }
            return Ok(());
        }
        if let Some(t) = def.get("tuple") {
            let ids = t.as_array().cloned().unwrap_or_default();
            let items = v.as_array().cloned().unwrap_or_default();
            if items.len() != ids.len() {
                bail!("expected a tuple of {} elements", ids.len());
            }
            for (id, item) in ids.iter().zip(&items) {
                self.encode_at(id.as_u64().unwrap_or(0), item, out, depth)?;
            }
            return Ok(());
        }
        if let Some(var) = def.get("variant") {
            let variants = var["variants"].as_array().cloned().unwrap_or_default();
            let (name, inner) = match v {
                Value::Null => ("None".to_string(), Value::Null),
                Value::String(s) => (s.clone(), Value::Null),
                Value::Object(o) if o.len() == 1 => {
                    let (k, val) = o
                        .iter()
                        .next()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .unwrap_or_default();
                    (k, val)
                }
                other => {
                    // Option<T>: a bare value means Some(value).
                    if variants.iter().any(|x| x["name"] == "Some") {
                        ("Some".to_string(), other.clone())
                    } else {
                        bail!("expected a variant name or {{\"Variant\": value}}, got {other}")
                    }
                }
            };
            let variant = variants
                .iter()
                .find(|x| x["name"] == name.as_str())
                .with_context(|| format!("no variant `{name}`"))?;
            out.push(variant["index"].as_u64().unwrap_or(0) as u8);
            let fields = variant["fields"].as_array().cloned().unwrap_or_default();
            match fields.len() {
                0 => {}
                1 => self.encode_at(fields[0]["type"].as_u64().unwrap_or(0), &inner, out, depth)?,
                _ => {
                    for (i, f) in fields.iter().enumerate() {
                        let fv = inner
                            .get(f["name"].as_str().unwrap_or(""))
                            .or_else(|| inner.get(i))
                            .with_context(|| format!("missing field {i} of `{name}`"))?;
                        self.encode_at(f["type"].as_u64().unwrap_or(0), fv, out, depth)?;
                    }
                }
            }
            return Ok(());
        }
        bail!("unsupported type definition {def}")
    }

    /// Decodes a value of type `id` from `input`.
    pub fn decode(&self, id: u64, input: &mut &[u8]) -> Result<Value> {
        let mut budget = MAX_DECODED_VALUES;
        self.decode_at(id, input, 0, &mut budget)
    }

    fn decode_at(
        &self,
        id: u64,
        input: &mut &[u8],
        depth: usize,
        budget: &mut usize,
    ) -> Result<Value> {
        let depth = deeper(depth)?;
        *budget = budget.checked_sub(1).ok_or(RegistryLimit::TooManyValues {
            limit: MAX_DECODED_VALUES,
        })?;
        let def = self.def(id)?;
        if let Some(p) = def["primitive"].as_str() {
            return decode_primitive(p, input);
        }
        if let Some(c) = def.get("composite") {
            let fields = c["fields"].as_array().cloned().unwrap_or_default();
            if fields.len() == 1 {
                return self.decode_at(
                    fields[0]["type"].as_u64().unwrap_or(0),
                    input,
                    depth,
                    budget,
                );
            }
            let mut obj = serde_json::Map::new();
            for (i, f) in fields.iter().enumerate() {
                let name = f["name"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| i.to_string());
                obj.insert(
                    name,
                    self.decode_at(f["type"].as_u64().unwrap_or(0), input, depth, budget)?,
                );
            }
            return Ok(Value::Object(obj));
        }
        if let Some(a) = def.get("array") {
            let elem = a["type"].as_u64().unwrap_or(0);
            let len = a["len"].as_u64().unwrap_or(0) as usize;
            if self.is_u8(elem) {
                if input.len() < len {
                    bail!("output too short");
                }
                let (bytes, rest) = input.split_at(len);
                *input = rest;
                return Ok(json!(format!("0x{}", hex::encode(bytes))));
            }
            return (0..len)
                .map(|_| self.decode_at(elem, input, depth, budget))
                .collect::<Result<Vec<_>>>()
                .map(Value::Array);
        }
        if let Some(s) = def.get("sequence") {
            let elem = s["type"].as_u64().unwrap_or(0);
            let n = Compact::<u32>::decode(input).map_err(|e| anyhow!("{e}"))?.0 as usize;
            if self.is_u8(elem) {
                if input.len() < n {
                    bail!("output too short");
                }
                let (bytes, rest) = input.split_at(n);
                *input = rest;
                return Ok(json!(format!("0x{}", hex::encode(bytes))));
            }
            return (0..n)
                .map(|_| self.decode_at(elem, input, depth, budget))
                .collect::<Result<Vec<_>>>()
                .map(Value::Array);
        }
        if let Some(t) = def.get("tuple") {
            let ids = t.as_array().cloned().unwrap_or_default();
            return ids
                .iter()
                .map(|id| self.decode_at(id.as_u64().unwrap_or(0), input, depth, budget))
                .collect::<Result<Vec<_>>>()
                .map(Value::Array);
        }
        if let Some(var) = def.get("variant") {
            let idx = u8::decode(input).map_err(|e| anyhow!("{e}"))?;
            let variants = var["variants"].as_array().cloned().unwrap_or_default();
            let variant = variants
                .iter()
                .find(|x| x["index"].as_u64() == Some(u64::from(idx)))
                .with_context(|| format!("no variant with index {idx}"))?;
            let name = variant["name"].as_str().unwrap_or("?").to_string();
            let fields = variant["fields"].as_array().cloned().unwrap_or_default();
            if name == "None" && fields.is_empty() {
                return Ok(Value::Null);
            }
            return match fields.len() {
                0 => Ok(json!(name)),
                1 if name == "Some" => self.decode_at(
                    fields[0]["type"].as_u64().unwrap_or(0),
                    input,
                    depth,
                    budget,
                ),
                1 => Ok(
                    json!({ name: self.decode_at(fields[0]["type"].as_u64().unwrap_or(0), input, depth, budget)? }),
                ),
                _ => {
                    let vals = fields
                        .iter()
                        .map(|f| {
                            self.decode_at(f["type"].as_u64().unwrap_or(0), input, depth, budget)
                        })
                        .collect::<Result<Vec<_>>>()?;
                    Ok(json!({ name: vals }))
                }
            };
        }
        bail!("unsupported type definition {def}")
    }
}

fn hex_value(v: &Value) -> Result<Vec<u8>> {
    let s = v.as_str().context("expected a hex string")?;
    if let Ok(bytes) = hex::decode(s.strip_prefix("0x").unwrap_or(s)) {
        return Ok(bytes);
    }
    // Dev account names stand for their account ids.
    if civitas_primitives::dev::is_dev_account(s) {
        return Ok(civitas_primitives::dev::dev_key(s).account().0.to_vec());
    }
    bail!("`{s}` is not hex (nor a dev account name)")
}

fn int(v: &Value) -> Result<i128> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .context("not an integer"),
        Value::String(s) => s.parse::<i128>().context("not an integer"),
        _ => bail!("expected an integer, got {v}"),
    }
}

fn encode_primitive(p: &str, v: &Value, out: &mut Vec<u8>) -> Result<()> {
    macro_rules! num {
        ($t:ty) => {{
            let n: $t = match v {
                Value::String(s) => s.parse().with_context(|| format!("`{s}` is not a {}", p))?,
                _ => {
                    <$t>::try_from(int(v)?).with_context(|| format!("{v} does not fit a {}", p))?
                }
            };
            n.encode_to(out);
        }};
    }
    match p {
        "bool" => v
            .as_bool()
            .context("expected true or false")?
            .encode_to(out),
        "str" => v.as_str().context("expected a string")?.encode_to(out),
        "u8" => num!(u8),
        "u16" => num!(u16),
        "u32" => num!(u32),
        "u64" => num!(u64),
        "u128" => num!(u128),
        "i8" => num!(i8),
        "i16" => num!(i16),
        "i32" => num!(i32),
        "i64" => num!(i64),
        "i128" => num!(i128),
        other => bail!("unsupported primitive {other}"),
    }
    Ok(())
}

fn decode_primitive(p: &str, input: &mut &[u8]) -> Result<Value> {
    let e = |e: parity_scale_codec::Error| anyhow!("output does not decode: {e}");
    Ok(match p {
        "bool" => json!(bool::decode(input).map_err(e)?),
        "str" => json!(String::decode(input).map_err(e)?),
        "u8" => json!(u8::decode(input).map_err(e)?),
        "u16" => json!(u16::decode(input).map_err(e)?),
        "u32" => json!(u32::decode(input).map_err(e)?),
        "u64" => json!(u64::decode(input).map_err(e)?),
        "u128" => json!(u128::decode(input).map_err(e)?.to_string()),
        "i8" => json!(i8::decode(input).map_err(e)?),
        "i16" => json!(i16::decode(input).map_err(e)?),
        "i32" => json!(i32::decode(input).map_err(e)?),
        "i64" => json!(i64::decode(input).map_err(e)?),
        "i128" => json!(i128::decode(input).map_err(e)?.to_string()),
        other => bail!("unsupported primitive {other}"),
    })
}

/// Encodes a message for `method` from JSON `args` (an array) using `metadata`.
pub fn encode_message(metadata: &Value, method: &str, args: &Value) -> Result<Vec<u8>> {
    let types = Types::from_metadata(metadata)?;
    let entry = find_entry(metadata, method)?;
    let specs = entry["args"].as_array().cloned().unwrap_or_default();
    let values = args.as_array().cloned().unwrap_or_default();
    if specs.len() != values.len() {
        let names: Vec<&str> = specs.iter().filter_map(|a| a["name"].as_str()).collect();
        bail!(
            "`{method}` takes {} argument(s) ({}); got {}",
            specs.len(),
            names.join(", "),
            values.len()
        );
    }
    let sel = civitas_primitives::selector(method);
    let mut out = sel.to_vec();
    for (spec, v) in specs.iter().zip(&values) {
        let name = spec["name"].as_str().unwrap_or("?");
        types
            .encode(spec["type"].as_u64().unwrap_or(0), v, &mut out)
            .with_context(|| format!("argument `{name}`"))?;
    }
    Ok(out)
}

/// Decodes `method`'s output using `metadata`.
pub fn decode_output(metadata: &Value, method: &str, output: &[u8]) -> Result<Value> {
    let entry = find_entry(metadata, method)?;
    match entry["returns"].as_u64() {
        None => Ok(Value::Null),
        Some(id) => Types::from_metadata(metadata)?.decode(id, &mut &output[..]),
    }
}

/// Decodes an event's data by its topic with `metadata`; `None` if the metadata declares no
/// event of that topic.
pub fn decode_event(metadata: &Value, topic: &str, data: &[u8]) -> Result<Option<Value>> {
    let Some(id) = metadata["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["topic"] == topic)
        .and_then(|e| e["type"].as_u64())
    else {
        return Ok(None);
    };
    let mut input = data;
    let value = Types::from_metadata(metadata)?.decode(id, &mut input)?;
    if !input.is_empty() {
        bail!("{} bytes after the `{topic}` event's data", input.len());
    }
    Ok(Some(value))
}

fn find_entry<'a>(metadata: &'a Value, method: &str) -> Result<&'a Value> {
    ["constructors", "messages"]
        .iter()
        .filter_map(|k| metadata[k].as_array())
        .flatten()
        .find(|e| e["name"] == method)
        .with_context(|| {
            let names: Vec<&str> = ["constructors", "messages"]
                .iter()
                .filter_map(|k| metadata[k].as_array())
                .flatten()
                .filter_map(|e| e["name"].as_str())
                .collect();
            format!(
                "the contract has no method `{method}` (it has: {})",
                names.join(", ")
            )
        })
}

/// Metadata the chain serves is untrusted: registries that recurse or explode are refused with
/// a [`RegistryLimit`], never a stack overflow or unbounded memory.
#[cfg(test)]
mod tests {
    use super::*;

    fn limit(e: &anyhow::Error) -> Option<&RegistryLimit> {
        e.downcast_ref::<RegistryLimit>()
    }

    #[test]
    fn an_array_of_itself_is_refused_as_too_deep_when_decoding() {
        // The crash input fuzz/artifacts/scale_json/crash-95da90c200c730d87845996fcad1cfef9d0ea470
        // (bytes 69 36 34 03 72 65 74 75 02 00 0b), printed by the fuzz target with
        // CIVITAS_FUZZ_PRINT=1: type 0 is an array of type 0, and `m` returns it.
        let metadata: Value = serde_json::from_str(
            r#"{"constructors":[],"messages":[{"args":[],"name":"m","returns":0}],"types":{"types":[{"id":0,"type":{"def":{"array":{"len":30068,"type":0}}}}]}}"#,
        )
        .unwrap();
        let e = decode_output(&metadata, "m", &[]).unwrap_err();
        assert_eq!(
            limit(&e),
            Some(&RegistryLimit::TooDeep { limit: MAX_DEPTH })
        );
    }

    #[test]
    fn a_struct_of_itself_is_refused_as_too_deep_when_encoding() {
        let metadata = json!({
            "types": { "types": [
                { "id": 0, "type": { "def": { "composite": { "fields": [{ "type": 0 }] } } } }
            ] },
            "messages": [{ "name": "m", "args": [{ "name": "a", "type": 0 }] }],
        });
        let e = encode_message(&metadata, "m", &json!([1])).unwrap_err();
        assert_eq!(
            limit(&e),
            Some(&RegistryLimit::TooDeep { limit: MAX_DEPTH })
        );
    }

    #[test]
    fn arrays_of_empty_tuples_are_refused_past_the_value_budget() {
        // 1,000 × 1,000 empty tuples: a million values from no bytes at all.
        let metadata = json!({
            "types": { "types": [
                { "id": 0, "type": { "def": { "tuple": [] } } },
                { "id": 1, "type": { "def": { "array": { "type": 0, "len": 1000 } } } },
                { "id": 2, "type": { "def": { "array": { "type": 1, "len": 1000 } } } },
            ] },
            "messages": [{ "name": "m", "args": [], "returns": 2 }],
        });
        let e = decode_output(&metadata, "m", &[]).unwrap_err();
        assert_eq!(
            limit(&e),
            Some(&RegistryLimit::TooManyValues {
                limit: MAX_DECODED_VALUES
            })
        );
    }

    #[test]
    fn nested_values_within_the_limits_round_trip() {
        // Option<(u32, Vec<u8>, [bool; 2])>, nested four levels.
        let metadata = json!({
            "types": { "types": [
                { "id": 0, "type": { "def": { "primitive": "u32" } } },
                { "id": 1, "type": { "def": { "primitive": "u8" } } },
                { "id": 2, "type": { "def": { "sequence": { "type": 1 } } } },
                { "id": 3, "type": { "def": { "primitive": "bool" } } },
                { "id": 4, "type": { "def": { "array": { "type": 3, "len": 2 } } } },
                { "id": 5, "type": { "def": { "tuple": [0, 2, 4] } } },
                { "id": 6, "type": { "def": { "variant": { "variants": [
                    { "name": "None", "index": 0, "fields": [] },
                    { "name": "Some", "index": 1, "fields": [{ "type": 5 }] },
                ] } } } },
            ] },
            "messages": [{ "name": "m", "args": [{ "name": "a", "type": 6 }], "returns": 6 }],
        });
        let value = json!([7, "0x0102", [true, false]]);
        let encoded = encode_message(&metadata, "m", &json!([value])).unwrap();
        assert_eq!(decode_output(&metadata, "m", &encoded[4..]).unwrap(), value);
    }
}
