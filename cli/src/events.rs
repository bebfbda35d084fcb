//! `civitas events`: committed events by contract, topic and heights (`chain_getEvents`), each
//! decoded with its contract's metadata when the chain holds it.
use std::collections::BTreeMap;

use anyhow::Result;
use civitas_rpc::{ChainApiClient, EventQuery, IndexedEventInfo, MAX_EVENT_PAGE};
use clap::Args;
use serde_json::{Map, Value};

use crate::client::{account_arg, Client, Output};
use crate::contract::chain_metadata;
use crate::scale_json::decode_event;

/// Which events to show.
#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Only this contract's events (address, hex).
    #[arg(long)]
    pub contract: Option<String>,
    /// Only events of this topic (e.g. `Transfer`; `0x…` hex for a topic that is not text).
    #[arg(long)]
    pub topic: Option<String>,
    /// First height.
    #[arg(long)]
    pub from: Option<u64>,
    /// Last height (default: the head).
    #[arg(long)]
    pub to: Option<u64>,
    /// Most events to show (a page; the next page's cursor is printed after it).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_EVENT_PAGE)))]
    pub limit: u32,
    /// Go on from this cursor (printed after a page that has more).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Every matching event, following the cursors (`--limit` is then the page size).
    #[arg(long)]
    pub all: bool,
}

/// Runs `civitas events`.
pub fn run_events(args: EventsArgs, client: &Client, out: Output) -> Result<()> {
    let contract = args
        .contract
        .as_deref()
        .map(|c| account_arg(c).map(|a| civitas_rpc::to_hex(&a.0)))
        .transpose()?;
    let mut query = EventQuery {
        contract,
        topic: args.topic,
        from_height: args.from,
        to_height: args.to,
        cursor: args.cursor,
        limit: Some(args.limit),
    };
    let mut decoder = Decoder::default();
    let mut events = Vec::new();
    let next = loop {
        let page = client.call(client.rpc().get_events(query.clone()))?;
        // Later pages stay within the first page's head.
        query.to_height.get_or_insert(page.head);
        for e in page.events {
            let decoded = decoder.decode(client, &e);
            if out.json {
                events.push(serde_json::json!({ "event": e, "decoded": decoded }));
            } else {
                print_event(&e, decoded.as_ref());
            }
        }
        match page.next_cursor {
            Some(next) if args.all => query.cursor = Some(next),
            other => break other,
        }
    };
    if out.json {
        println!(
            "{}",
            serde_json::json!({ "events": events, "next_cursor": next })
        );
    } else if let Some(next) = next {
        println!("more: --cursor {next}");
    }
    Ok(())
}

fn print_event(e: &IndexedEventInfo, decoded: Option<&Value>) {
    let data = decoded.map_or_else(|| e.data.clone(), Value::to_string);
    println!(
        "block {} tx {} #{}  {}  {}  {}",
        e.height, e.tx_index, e.event_index, e.contract, e.topic, data
    );
}

/// Decodes events with their contracts' metadata, fetched once per contract.
#[derive(Default)]
struct Decoder {
    metadata: BTreeMap<String, Option<Value>>,
}

impl Decoder {
    /// The event's data as JSON, if its contract's metadata describes the topic.
    fn decode(&mut self, client: &Client, e: &IndexedEventInfo) -> Option<Value> {
        let metadata = self
            .metadata
            .entry(e.contract.clone())
            .or_insert_with(|| chain_metadata(client, &e.contract).ok())
            .as_ref()?;
        let data = civitas_rpc::from_hex(&e.data).ok()?;
        decode_event(metadata, &e.topic, &data).ok().flatten()
    }
}

/// A committed event with its fields decoded by its contract's metadata.
pub struct DecodedEvent {
    /// The event as the index holds it.
    pub event: IndexedEventInfo,
    /// Its fields by name.
    pub fields: Map<String, Value>,
}

/// The numeric field `key` of decoded event fields (a number, or a decimal string as wide
/// integers decode).
pub fn field_number(fields: &Map<String, Value>, key: &str) -> Result<u64> {
    let v = fields.get(key);
    v.and_then(Value::as_u64)
        .or_else(|| v.and_then(Value::as_str).and_then(|s| s.parse().ok()))
        .ok_or_else(|| anyhow::anyhow!("an event without a numeric `{key}`"))
}

/// Every event of `contract` (of `topic`, if given) up to the head, in chain order, with its
/// fields decoded by `metadata`; events the metadata does not describe as a struct are left out.
pub fn decoded_events(
    client: &Client,
    contract: &str,
    topic: Option<&str>,
    metadata: &Value,
) -> Result<Vec<DecodedEvent>> {
    let mut query = EventQuery {
        contract: Some(contract.to_string()),
        topic: topic.map(str::to_string),
        limit: Some(MAX_EVENT_PAGE),
        ..Default::default()
    };
    let mut out = Vec::new();
    loop {
        let page = client.call(client.rpc().get_events(query.clone()))?;
        query.to_height.get_or_insert(page.head);
        for event in page.events {
            let data = civitas_rpc::from_hex(&event.data)
                .map_err(|e| anyhow::anyhow!("event data of block {}: {e}", event.height))?;
            if let Ok(Some(Value::Object(fields))) = decode_event(metadata, &event.topic, &data) {
                out.push(DecodedEvent { event, fields });
            }
        }
        match page.next_cursor {
            Some(next) => query.cursor = Some(next),
            None => return Ok(out),
        }
    }
}
