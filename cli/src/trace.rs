//! `civitas trace`: one fund, ticket or other numbered thing of a contract followed through its
//! committed events (`chain_getEvents`, decoded with the contract's metadata), step by step with
//! heights and dates, then summed up: for a welfare fund, what each holder holds and each
//! recipient received and whether that adds up to the allocation; for a repair ticket, where it
//! stands, how often it was reopened and how long it took to close.
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use crate::client::{account_arg, Client, Output};
use crate::contract::chain_metadata;
use crate::events::{decoded_events, field_number as number, DecodedEvent as Step};
use crate::time::{date, duration};

/// Event fields that name the thing followed, tried in this order when `--field` is not given.
const ID_FIELDS: &[&str] = &["fund", "ticket", "id"];

/// What to follow.
#[derive(Args, Debug)]
pub struct TraceArgs {
    /// The contract (address, hex), e.g. a welfare-fund or community-tickets instance.
    pub contract: String,
    /// The id of the fund, ticket or other thing to follow.
    pub id: u64,
    /// The event field that holds the id (default: the first of `fund`, `ticket`, `id` that
    /// the contract's events carry).
    #[arg(long)]
    pub field: Option<String>,
}

/// Runs `civitas trace`.
pub fn run_trace(args: TraceArgs, client: &Client, out: Output) -> Result<()> {
    let contract = civitas_rpc::to_hex(&account_arg(&args.contract)?.0);
    let metadata = chain_metadata(client, &contract).with_context(|| {
        format!("trace decodes events with the contract's metadata; none for {contract}")
    })?;
    let events = decoded_events(client, &contract, None, &metadata)?;
    let field = match args.field {
        Some(f) => f,
        None => ID_FIELDS
            .iter()
            .find(|f| events.iter().any(|s| s.fields.contains_key(**f)))
            .map(|f| f.to_string())
            .ok_or_else(|| {
                anyhow!(
                    "the events of {contract} carry none of the fields {}; name one with --field",
                    ID_FIELDS.join(", ")
                )
            })?,
    };
    let steps: Vec<Step> = events
        .into_iter()
        .filter(|s| s.fields.get(&field).and_then(as_u64) == Some(args.id))
        .collect();
    if steps.is_empty() {
        bail!("no event of {contract} has {field} = {}", args.id);
    }
    let summary = summarise(&steps)?;
    if out.json {
        let steps: Vec<Value> = steps
            .iter()
            .map(|s| {
                json!({
                    "height": s.event.height,
                    "tx_hash": s.event.tx_hash,
                    "event": s.event.topic,
                    "at_ms": s.fields.get("at").and_then(as_u64),
                    "fields": s.fields,
                })
            })
            .collect();
        println!(
            "{}",
            json!({ "contract": contract, "field": field, "id": args.id, "steps": steps, "summary": summary })
        );
        return Ok(());
    }
    println!("{field} {} of {contract}: {} steps", args.id, steps.len());
    for s in &steps {
        let when = s
            .fields
            .get("at")
            .and_then(as_u64)
            .map_or_else(String::new, date);
        let shown: Vec<String> = s
            .fields
            .iter()
            .filter(|(k, _)| *k != &field && *k != "at")
            .map(|(k, v)| format!("{k}={}", plain(v)))
            .collect();
        println!(
            "  block {:>6}  {when:<20}  {:<18} {}",
            s.event.height,
            s.event.topic,
            shown.join(" ")
        );
    }
    print_summary(&summary);
    Ok(())
}

/// The summary the steps' kind allows: a welfare fund's balances, a ticket's state, or none.
fn summarise(steps: &[Step]) -> Result<Value> {
    if steps.iter().any(|s| s.event.topic == "Allocated") {
        fund_summary(steps)
    } else if steps.iter().any(|s| s.event.topic == "Filed") {
        Ok(ticket_summary(steps))
    } else {
        Ok(Value::Null)
    }
}

/// Replays a fund's allocation and approved tranches: what each holder holds, what each
/// recipient received, which tranches wait, and whether it all adds up to the allocation.
fn fund_summary(steps: &[Step]) -> Result<Value> {
    let mut total = 0u128;
    let mut held: BTreeMap<String, u128> = BTreeMap::new();
    let mut received: BTreeMap<String, u128> = BTreeMap::new();
    let mut pending: BTreeMap<u64, u128> = BTreeMap::new();
    for s in steps {
        let f = &s.fields;
        match s.event.topic.as_str() {
            "Allocated" => {
                total = amount(f, "total")?;
                held.insert(text(f, "allocator")?, total);
            }
            "TrancheProposed" => {
                pending.insert(number(f, "tranche")?, amount(f, "amount")?);
            }
            "TrancheRejected" => {
                pending.remove(&number(f, "tranche")?);
            }
            "TrancheApproved" => {
                let value = amount(f, "amount")?;
                pending.remove(&number(f, "tranche")?);
                let from = held.entry(text(f, "from")?).or_default();
                *from = from.checked_sub(value).ok_or_else(|| {
                    anyhow!(
                        "block {}: a tranche exceeds what its holder holds",
                        s.event.height
                    )
                })?;
                let (kind, who) = party(f.get("to"))?;
                let into = if kind == "Holder" {
                    &mut held
                } else {
                    &mut received
                };
                *into.entry(who).or_default() += value;
            }
            _ => {}
        }
    }
    let sum = held.values().chain(received.values()).sum::<u128>();
    let disbursed = received.values().sum::<u128>();
    let as_strings = |m: &BTreeMap<String, u128>| -> Map<String, Value> {
        m.iter()
            .map(|(k, v)| (k.clone(), json!(v.to_string())))
            .collect()
    };
    Ok(json!({
        "kind": "welfare-fund",
        "total": total.to_string(),
        "disbursed": disbursed.to_string(),
        "held": as_strings(&held),
        "received": as_strings(&received),
        "pending_tranches": pending.keys().collect::<Vec<_>>(),
        "adds_up": sum == total,
    }))
}

/// A ticket's state from its events: status, reopenings and time to close.
fn ticket_summary(steps: &[Step]) -> Value {
    let mut status = "Open";
    let mut reopened = 0u64;
    let mut time_to_close_ms = None;
    let mut assigned = false;
    for s in steps {
        assigned |= s.event.topic == "Assigned";
        status = match s.event.topic.as_str() {
            "Filed" => "Open",
            // A reopened ticket goes back to its worker, if it had one.
            "Reopened" if assigned => "Assigned",
            "Reopened" => "Open",
            "Assigned" => "Assigned",
            "Closed" => "Closed",
            "Confirmed" => "Confirmed",
            _ => status,
        };
        if s.event.topic == "Reopened" {
            reopened += 1;
        }
        if s.event.topic == "Confirmed" {
            time_to_close_ms = s.fields.get("time_to_close_ms").and_then(as_u64);
        }
    }
    json!({
        "kind": "ticket",
        "status": status,
        "reopened": reopened,
        "time_to_close_ms": time_to_close_ms,
    })
}

fn print_summary(summary: &Value) {
    match summary["kind"].as_str() {
        Some("welfare-fund") => {
            println!(
                "allocated {}, disbursed to recipients {}",
                plain(&summary["total"]),
                plain(&summary["disbursed"])
            );
            for (title, key) in [("held by", "held"), ("received by", "received")] {
                if let Some(m) = summary[key].as_object() {
                    for (who, v) in m {
                        println!("  {title:<12} {who}  {}", plain(v));
                    }
                }
            }
            if let Some(p) = summary["pending_tranches"]
                .as_array()
                .filter(|p| !p.is_empty())
            {
                let ids: Vec<String> = p.iter().map(plain).collect();
                println!("waiting for approval: tranches {}", ids.join(", "));
            }
            if summary["adds_up"] == json!(true) {
                println!("totals add up: holders and recipients hold the allocation exactly");
            } else {
                println!("TOTALS DO NOT ADD UP: holders and recipients differ from the allocation");
            }
        }
        Some("ticket") => {
            let closed = summary["time_to_close_ms"]
                .as_u64()
                .map_or_else(|| "not yet".to_string(), duration);
            println!(
                "status {}, reopened {} times, time to close: {closed}",
                plain(&summary["status"]),
                plain(&summary["reopened"])
            );
        }
        _ => {}
    }
}

/// A party as the metadata decodes it: `{"Holder": "0x…"}` or `{"Recipient": "0x…"}`.
fn party(v: Option<&Value>) -> Result<(String, String)> {
    let (kind, who) = v
        .and_then(Value::as_object)
        .and_then(|o| o.iter().next())
        .ok_or_else(|| anyhow!("a tranche without a `to` party"))?;
    Ok((kind.clone(), plain(who)))
}

fn amount(f: &Map<String, Value>, key: &str) -> Result<u128> {
    let v = f
        .get(key)
        .ok_or_else(|| anyhow!("an event without `{key}`"))?;
    plain(v)
        .parse()
        .map_err(|_| anyhow!("`{key}` is not an amount: {v}"))
}

fn text(f: &Map<String, Value>, key: &str) -> Result<String> {
    f.get(key)
        .map(plain)
        .ok_or_else(|| anyhow!("an event without `{key}`"))
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// A value as a person reads it: strings without quotes, a one-field variant as `Name(value)`.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.len() == 1 => o
            .iter()
            .map(|(k, inner)| format!("{k}({})", plain(inner)))
            .collect(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_rpc::IndexedEventInfo;

    fn step(topic: &str, fields: Value) -> Step {
        Step {
            event: IndexedEventInfo {
                height: 1,
                tx_index: 0,
                event_index: 0,
                tx_hash: String::new(),
                contract: String::new(),
                topic: topic.into(),
                data: String::new(),
            },
            fields: fields.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn a_fund_is_replayed_from_its_allocation_and_approved_tranches_only() {
        let steps = [
            step(
                "Allocated",
                json!({"fund": 1, "allocator": "0xaa", "total": "100"}),
            ),
            step(
                "TrancheProposed",
                json!({"fund": 1, "tranche": 1, "amount": "60"}),
            ),
            step(
                "TrancheApproved",
                json!({"fund": 1, "tranche": 1, "from": "0xaa", "to": {"Holder": "0xbb"}, "amount": "60"}),
            ),
            step(
                "TrancheProposed",
                json!({"fund": 1, "tranche": 2, "amount": "25"}),
            ),
            step(
                "TrancheApproved",
                json!({"fund": 1, "tranche": 2, "from": "0xbb", "to": {"Recipient": "0xcc"}, "amount": "25"}),
            ),
            step(
                "TrancheProposed",
                json!({"fund": 1, "tranche": 3, "amount": "30"}),
            ),
            step("TrancheRejected", json!({"fund": 1, "tranche": 3})),
            step(
                "TrancheProposed",
                json!({"fund": 1, "tranche": 4, "amount": "5"}),
            ),
        ];
        let s = fund_summary(&steps).expect("summary");
        assert_eq!(s["held"], json!({"0xaa": "40", "0xbb": "35"}));
        assert_eq!(s["received"], json!({"0xcc": "25"}));
        assert_eq!(s["disbursed"], "25");
        assert_eq!(s["pending_tranches"], json!([4]));
        assert_eq!(s["adds_up"], true);
        // A tranche larger than its holder's balance cannot be replayed.
        let bad = [
            step(
                "Allocated",
                json!({"fund": 1, "allocator": "0xaa", "total": "10"}),
            ),
            step(
                "TrancheApproved",
                json!({"fund": 1, "tranche": 1, "from": "0xaa", "to": {"Recipient": "0xcc"}, "amount": "11"}),
            ),
        ];
        assert!(fund_summary(&bad).is_err());
    }

    #[test]
    fn a_ticket_state_follows_its_last_step() {
        let steps = [
            step("Filed", json!({"ticket": 1})),
            step("Closed", json!({"ticket": 1})),
            step("Reopened", json!({"ticket": 1})),
        ];
        assert_eq!(
            ticket_summary(&steps),
            json!({"kind": "ticket", "status": "Open", "reopened": 1, "time_to_close_ms": null})
        );
        let steps = [
            step("Filed", json!({"ticket": 1})),
            step("Assigned", json!({"ticket": 1})),
            step("Closed", json!({"ticket": 1})),
            step("Reopened", json!({"ticket": 1})),
            step("Closed", json!({"ticket": 1})),
            step(
                "Confirmed",
                json!({"ticket": 1, "time_to_close_ms": 7200000}),
            ),
        ];
        assert_eq!(ticket_summary(&steps)["status"], "Confirmed");
        assert_eq!(ticket_summary(&steps)["time_to_close_ms"], 7_200_000);
        assert_eq!(ticket_summary(&steps[..4])["status"], "Assigned");
    }
}
