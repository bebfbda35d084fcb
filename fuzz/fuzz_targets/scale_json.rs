//! The CLI's JSON-to-SCALE argument encoding and SCALE-to-JSON output decoding
//! (`civitas-cli`'s `scale_json`, guided by contract metadata the chain serves, so by whoever
//! uploaded the code) on fuzzed type registries, JSON arguments and output bytes.
//!
//! The module is compiled here from its own source file (`cli/src/scale_json.rs`): it needs
//! only serde_json, anyhow and SCALE, while the CLI crate pulls in the RPC client stack, which
//! the instrumented build would have to compile too.
//!
//! Properties: never a panic, a stack overflow, a hang or unbounded memory, whatever the
//! registry (recursive types, huge arrays of empty types), the arguments or the output; an
//! encoded message starts with the method's selector.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

#[allow(dead_code)]
#[path = "../../cli/src/scale_json.rs"]
mod scale_json;

#[derive(Arbitrary, Debug)]
enum Def {
    Primitive(u8),
    Composite(Vec<(bool, u8)>),
    Array(u8, u16),
    Sequence(u8),
    Tuple(Vec<u8>),
    Variant(Vec<(u8, u8, Vec<u8>)>),
}

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
    Hex(Vec<u8>),
    Array(Vec<Json>),
    Object(Vec<(u8, Json)>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    defs: Vec<Def>,
    args: Vec<(u8, Json)>,
    returns: Option<u8>,
    output: Vec<u8>,
}

const PRIMITIVES: [&str; 13] = [
    "bool", "str", "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128", "f64",
];
const NAMES: [&str; 4] = ["None", "Some", "A", "B"];

fn field_name(i: u8) -> String {
    format!("f{}", i % 4)
}

fn json(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => json!(b),
        Json::Int(n) => json!(n),
        Json::Text(s) => json!(s),
        Json::Hex(b) => json!(format!("0x{}", hex::encode(b))),
        Json::Array(a) => Value::Array(a.iter().map(json).collect()),
        Json::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (field_name(*k), json(v))).collect())
        }
    }
}

fn metadata(input: &Input) -> Value {
    let n = input.defs.len().max(1) as u8;
    let id = |t: &u8| u64::from(t % n);
    let types: Vec<Value> = input
        .defs
        .iter()
        .take(16)
        .enumerate()
        .map(|(i, d)| {
            let def = match d {
                Def::Primitive(p) => json!({ "primitive": PRIMITIVES[usize::from(*p) % PRIMITIVES.len()] }),
                Def::Composite(fields) => json!({ "composite": { "fields": fields.iter().enumerate().map(|(k, (named, t))| {
                    if *named { json!({ "name": field_name(k as u8), "type": id(t) }) } else { json!({ "type": id(t) }) }
                }).collect::<Vec<_>>() } }),
                Def::Array(t, len) => json!({ "array": { "type": id(t), "len": len } }),
                Def::Sequence(t) => json!({ "sequence": { "type": id(t) } }),
                Def::Tuple(ts) => json!({ "tuple": ts.iter().map(id).collect::<Vec<_>>() }),
                Def::Variant(vs) => json!({ "variant": { "variants": vs.iter().map(|(name, index, fields)| json!({
                    "name": NAMES[usize::from(*name) % NAMES.len()],
                    "index": index,
                    "fields": fields.iter().map(|t| json!({ "type": id(t) })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>() } }),
            };
            json!({ "id": i, "type": { "def": def } })
        })
        .collect();
    let mut message = json!({
        "name": "m",
        "args": input.args.iter().enumerate().map(|(k, (t, _))| json!({ "name": format!("a{k}"), "type": id(t) })).collect::<Vec<_>>(),
    });
    if let Some(r) = input.returns {
        message["returns"] = json!(id(&r));
    }
    json!({ "types": { "types": types }, "constructors": [], "messages": [message] })
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let meta = metadata(&input);
    let args = Value::Array(input.args.iter().map(|(_, j)| json(j)).collect());
    // To turn a crash into a regression test: `CIVITAS_FUZZ_PRINT=1 cargo fuzz run scale_json
    // CRASH` prints the metadata, arguments and output it was built from.
    if std::env::var_os("CIVITAS_FUZZ_PRINT").is_some() {
        eprintln!(
            "metadata: {meta}\nargs: {args}\noutput: 0x{}",
            hex::encode(&input.output)
        );
    }
    if let Ok(bytes) = scale_json::encode_message(&meta, "m", &args) {
        assert_eq!(bytes[..4], civitas_primitives::selector("m")[..]);
    }
    let _ = scale_json::decode_output(&meta, "m", &input.output);
});
