//! `civitas supervision report`: a supervised entity's compliance over a period, from the
//! committed events of a `supervision` contract. Its schedule (one report every `every_ms`
//! from `starting_at`, as registered and later changed) divides time into slots; a slot that
//! has ended is covered on time by a record claimed inside it and marked on time, covered late
//! when its only records came late, and a gap when no record claims it. Slots still running
//! at the head are not counted.
use anyhow::{anyhow, bail, Context, Result};
use civitas_rpc::ChainApiClient;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::client::{account_arg, Client, Output};
use crate::contract::chain_metadata;
use crate::events::{decoded_events, field_number as number};
use crate::time::{date, duration, parse_date};

/// Most slots one report covers (a period of a year of hourly reports is about 8,800).
pub const MAX_SLOTS: u64 = 100_000;

/// Supervision commands.
#[derive(Subcommand, Debug)]
pub enum SupervisionCommand {
    /// An entity's records, late records and gaps against its schedule over a period.
    Report(ReportArgs),
}

/// What to report on.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The supervision contract (address, hex).
    #[arg(long)]
    pub contract: String,
    /// The entity's id.
    #[arg(long)]
    pub entity: u64,
    /// Start of the period (2026-12-01, 2026-12-01T08:00:00Z or ms; default: the schedule's start).
    #[arg(long)]
    pub from: Option<String>,
    /// End of the period, exclusive (same forms; default and at most: the head's block time).
    #[arg(long)]
    pub to: Option<String>,
}

/// Runs a supervision command.
pub fn run_supervision(cmd: SupervisionCommand, client: &Client, out: Output) -> Result<()> {
    match cmd {
        SupervisionCommand::Report(args) => report(args, client, out),
    }
}

/// A schedule in force from `starting_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Schedule {
    every_ms: u64,
    starting_at: u64,
}

/// One filed record.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Filed {
    record: u64,
    kind: String,
    claimed_at: u64,
    recorded_at: u64,
    late: bool,
    height: u64,
}

/// A slot of the schedule and what covers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cover {
    OnTime,
    LateOnly,
    Gap,
}

fn report(args: ReportArgs, client: &Client, out: Output) -> Result<()> {
    let contract = civitas_rpc::to_hex(&account_arg(&args.contract)?.0);
    let metadata = chain_metadata(client, &contract)
        .with_context(|| format!("no contract metadata for {contract}"))?;
    let events = decoded_events(client, &contract, None, &metadata)?;
    let mut name = None;
    let mut schedules = Vec::new();
    let mut records = Vec::new();
    for e in events
        .iter()
        .filter(|e| e.fields.get("entity").and_then(Value::as_u64) == Some(args.entity))
    {
        let f = &e.fields;
        match e.event.topic.as_str() {
            "Registered" | "ScheduleSet" => {
                if e.event.topic == "Registered" {
                    name = f.get("name").and_then(Value::as_str).map(str::to_string);
                }
                schedules.push(Schedule {
                    every_ms: number(f, "every_ms")?,
                    starting_at: number(f, "starting_at")?,
                });
            }
            "Reported" => records.push(Filed {
                record: number(f, "record")?,
                kind: f["kind"].as_str().unwrap_or_default().to_string(),
                claimed_at: number(f, "claimed_at")?,
                recorded_at: number(f, "at")?,
                late: f.get("late").and_then(Value::as_bool).unwrap_or(false),
                height: e.event.height,
            }),
            _ => {}
        }
    }
    let name = name.ok_or_else(|| anyhow!("no entity {} in {contract}", args.entity))?;
    let head = client.call(client.rpc().get_block(None))?.header;
    let first = schedules.first().map_or(0, |s| s.starting_at);
    let from = args
        .from
        .as_deref()
        .map(parse_date)
        .transpose()?
        .unwrap_or(first);
    let to = args
        .to
        .as_deref()
        .map(parse_date)
        .transpose()?
        .map_or(head.time_ms, |t| t.min(head.time_ms));
    if from >= to {
        bail!(
            "the period is empty: from {} to {} (the head is at {})",
            date(from),
            date(to),
            date(head.time_ms)
        );
    }
    let slots = slots(&schedules, from, to)?;
    let covers: Vec<(u64, u64, Cover)> = slots
        .iter()
        .map(|&(start, end)| {
            let claimed: Vec<&Filed> = records
                .iter()
                .filter(|r| r.claimed_at >= start && r.claimed_at < end)
                .collect();
            let cover = if claimed.iter().any(|r| !r.late) {
                Cover::OnTime
            } else if claimed.is_empty() {
                Cover::Gap
            } else {
                Cover::LateOnly
            };
            (start, end, cover)
        })
        .collect();
    let count = |c: Cover| covers.iter().filter(|s| s.2 == c).count() as u64;
    let (on_time, late_only, gaps) = (
        count(Cover::OnTime),
        count(Cover::LateOnly),
        count(Cover::Gap),
    );
    let due = covers.len() as u64;
    let compliance = (on_time * 100).checked_div(due);
    let in_period: Vec<&Filed> = records
        .iter()
        .filter(|r| r.claimed_at >= from && r.claimed_at < to)
        .collect();
    if out.json {
        let gap_list: Vec<Value> = covers
            .iter()
            .filter(|s| s.2 == Cover::Gap)
            .map(|(s, e, _)| json!({ "from_ms": s, "to_ms": e }))
            .collect();
        let record_list: Vec<Value> = in_period
            .iter()
            .map(|r| {
                json!({ "record": r.record, "kind": r.kind, "claimed_at_ms": r.claimed_at,
                        "recorded_at_ms": r.recorded_at, "late": r.late, "height": r.height })
            })
            .collect();
        println!(
            "{}",
            json!({
                "contract": contract, "entity": args.entity, "name": name,
                "from_ms": from, "to_ms": to, "slots_due": due, "on_time": on_time,
                "late_only": late_only, "gaps": gap_list, "records": record_list,
                "compliance_percent": compliance,
            })
        );
        return Ok(());
    }
    println!("{name} (entity {} of {contract})", args.entity);
    for s in &schedules {
        println!(
            "  schedule: one report every {} from {}",
            duration(s.every_ms),
            date(s.starting_at)
        );
    }
    println!(
        "period {} .. {}: {due} slots due, {on_time} on time, {late_only} covered only late, {gaps} gaps; compliance {}",
        date(from),
        date(to),
        compliance.map_or_else(|| "n/a (no slot has ended)".to_string(), |c| format!("{c} %"))
    );
    println!("records:");
    for r in &in_period {
        let when = if r.late {
            format!(
                "LATE: recorded {} after its claimed time",
                duration(r.recorded_at.saturating_sub(r.claimed_at))
            )
        } else {
            "on time".to_string()
        };
        println!(
            "  #{:<5} {:<14} claimed {}  recorded {} (block {})  {when}",
            r.record,
            r.kind,
            date(r.claimed_at),
            date(r.recorded_at),
            r.height
        );
    }
    for (start, end, cover) in &covers {
        if *cover == Cover::Gap {
            println!("  GAP   {} .. {}  no record", date(*start), date(*end));
        }
    }
    Ok(())
}

/// The schedule's slots that lie inside `[from, to)` and have ended by `to`, in order. Each
/// schedule runs from its `starting_at` until the next one's.
fn slots(schedules: &[Schedule], from: u64, to: u64) -> Result<Vec<(u64, u64)>> {
    let mut ordered = schedules.to_vec();
    ordered.sort_by_key(|s| s.starting_at);
    let mut out = Vec::new();
    for (i, s) in ordered.iter().enumerate() {
        let until = ordered.get(i + 1).map_or(to, |n| n.starting_at.min(to));
        if s.every_ms == 0 {
            continue;
        }
        // The first slot of this schedule that ends after `from`.
        let skip = from.saturating_sub(s.starting_at) / s.every_ms;
        let mut start = s
            .starting_at
            .saturating_add(skip.saturating_mul(s.every_ms));
        while let Some(end) = start.checked_add(s.every_ms) {
            if end > until {
                break;
            }
            if start >= from {
                out.push((start, end));
                if out.len() as u64 > MAX_SLOTS {
                    bail!("the period holds more than {MAX_SLOTS} slots; ask for a shorter one");
                }
            }
            start = end;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_each_schedule_until_the_next_and_only_whole_slots_count() {
        let s = [
            Schedule {
                every_ms: 10,
                starting_at: 100,
            },
            Schedule {
                every_ms: 25,
                starting_at: 140,
            },
        ];
        assert_eq!(
            slots(&s, 0, 200).expect("slots"),
            [
                (100, 110),
                (110, 120),
                (120, 130),
                (130, 140),
                (140, 165),
                (165, 190)
            ]
        );
        // A period starting inside a slot begins at the next whole one; a running slot is left out.
        assert_eq!(
            slots(&s, 105, 132).expect("slots"),
            [(110, 120), (120, 130)]
        );
        let hourly = [Schedule {
            every_ms: 1,
            starting_at: 0,
        }];
        assert!(slots(&hourly, 0, MAX_SLOTS + 10).is_err());
    }
}
