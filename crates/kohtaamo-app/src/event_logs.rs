//! Event logs in and out — the one adapter over the `process_mining` crate (pinned):
//! a journey's instances as a CSV event log, as XES (IEEE 1849: the concept, time,
//! lifecycle and org extensions; channel, stage, touchpoint, unit and partner as
//! attributes) and as OCEL 2.0 JSON (customers and cases as objects, encounters as
//! events); and XES files read into the encounter log through the same checks and
//! idempotency as a CSV import (`encounter_import`). Definitions: docs/metrics.md,
//! "Journey mining".

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use kohtaamo_domain::insight::Party;
use kohtaamo_domain::mining::Event;
use kohtaamo_domain::Id;
use kohtaamo_storage::privacy::Actor;
use kohtaamo_storage::Store;
use process_mining::core::event_data::case_centric::xes::{
    self, XESImportOptions, XESOuterLogData,
};
use process_mining::core::event_data::case_centric::{
    self as cc, Attribute, AttributeValue, EventLogClassifier, EventLogExtension,
    XESEditableAttribute,
};
use process_mining::core::event_data::object_centric::{
    OCELEvent, OCELEventAttribute, OCELObject, OCELRelationship, OCELType, OCELTypeAttribute,
};
use process_mining::OCEL;

use crate::i18n::I18n;
use crate::mining::{self as mn, time_text, Instances, Journey, Query};
use crate::{Error, Result};

/// The formats a journey's event log is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xes,
    Ocel,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "xes" => Some(Format::Xes),
            "ocel" => Some(Format::Ocel),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xes => "xes",
            Format::Ocel => "ocel",
        }
    }
    /// Media type and file name extension.
    pub fn media(self) -> (&'static str, &'static str) {
        match self {
            Format::Csv => ("text/csv; charset=utf-8", "csv"),
            Format::Xes => ("application/xml; charset=utf-8", "xes"),
            Format::Ocel => ("application/json", "jsonocel"),
        }
    }
}

/// One encounter of the log with everything a format writes of it.
struct Row<'a> {
    instance: String,
    activity: String,
    at: DateTime<FixedOffset>,
    touchpoint: &'a str,
    stage: &'a str,
    channel: &'a str,
    unit: &'a str,
    partner: &'a str,
}

/// A journey's instances for export, audited as a bulk read.
struct Log {
    journey: Journey,
    inst: Instances,
    /// An identifier of each customer (not a pseudonym), where one is known.
    identifiers: HashMap<Id, String>,
}

async fn load(store: &Store, ws: Id, q: &Query, reader: &Actor, f: Format) -> Result<Log> {
    let snapshot = store.snapshot(ws).await?;
    let journey = Journey::of(&snapshot, q.journey, &I18n::new("en", "en"))?;
    store
        .audit(
            ws,
            reader,
            "data.export",
            &format!("journey {}", q.journey),
            &format!("event log as {}", f.as_str()),
        )
        .await?;
    let inst = mn::instances(store, ws, &journey, q).await?;
    let mut ids: Vec<Id> = inst.list.iter().filter_map(|i| i.key.customer_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut identifiers = HashMap::new();
    for chunk in ids.chunks(500) {
        for (c, ident, _) in store.customer_identifiers(ws, chunk).await? {
            if !ident.contains(":#") {
                identifiers.entry(c).or_insert(ident);
            }
        }
    }
    Ok(Log {
        journey,
        inst,
        identifiers,
    })
}

impl Log {
    fn row<'a>(&'a self, n: usize, e: &Event) -> Row<'a> {
        let j = &self.journey;
        let (touchpoint, stage) = match e.touchpoint.and_then(|t| j.touchpoints.get(&t)) {
            Some((slug, _, s)) => (
                slug.as_str(),
                s.map(|s| j.stages[s].0.as_str()).unwrap_or_default(),
            ),
            None => ("", ""),
        };
        let (unit, partner) = match e.owner {
            Some(Party::Unit(u)) => (j.units.get(&u).map_or("", |x| x.0.as_str()), ""),
            Some(Party::Partner(p)) => ("", j.partners.get(&p).map_or("", |x| x.0.as_str())),
            None => ("", ""),
        };
        let at = DateTime::from_timestamp_millis(e.at)
            .unwrap_or_default()
            .fixed_offset();
        Row {
            instance: format!("i{}", n + 1),
            activity: j.label(e.activity(), &self.inst.channels),
            at,
            touchpoint,
            stage,
            channel: self
                .inst
                .channels
                .get(e.channel as usize)
                .map_or("", |s| s.as_str()),
            unit,
            partner,
        }
    }
    fn customer(&self, k: &mn::InstanceRef) -> String {
        k.customer_id
            .and_then(|c| self.identifiers.get(&c).cloned())
            .unwrap_or_default()
    }
}

/// The instances of `q` in `format`, exported by `reader` (audited as `data.export`).
pub async fn export(
    store: &Store,
    ws: Id,
    q: &Query,
    format: Format,
    reader: &Actor,
) -> Result<Vec<u8>> {
    let log = load(store, ws, q, reader, format).await?;
    match format {
        Format::Csv => csv(&log),
        Format::Xes => xes_bytes(&log),
        Format::Ocel => ocel(&log),
    }
}

/// One row per encounter: `case_id` (the instance), `activity` (its label, as in the
/// Petri net), `timestamp`, touchpoint, stage, channel, unit, partner, case reference
/// and customer.
fn csv(log: &Log) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Error::Internal(format!("csv: {e}"));
    w.write_record([
        "case_id",
        "activity",
        "timestamp",
        "touchpoint",
        "stage",
        "channel",
        "unit",
        "partner",
        "case_ref",
        "customer",
    ])
    .map_err(io)?;
    for (n, x) in log.inst.list.iter().enumerate() {
        let customer = log.customer(&x.key);
        for e in &x.events {
            let r = log.row(n, e);
            w.write_record([
                r.instance.as_str(),
                &r.activity,
                &time_text(e.at),
                r.touchpoint,
                r.stage,
                r.channel,
                r.unit,
                r.partner,
                x.key.case_ref.as_deref().unwrap_or(""),
                &customer,
            ])
            .map_err(io)?;
        }
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("csv: {e}")))
}

fn string(key: &str, v: &str) -> Attribute {
    Attribute::new(key.into(), AttributeValue::String(v.into()))
}

fn xes_bytes(log: &Log) -> Result<Vec<u8>> {
    let ext = |name: &str, prefix: &str, uri: &str| EventLogExtension {
        name: name.into(),
        prefix: prefix.into(),
        uri: uri.into(),
    };
    let data = XESOuterLogData {
        xes_version: Some("2.0".into()),
        extensions: vec![
            ext(
                "Concept",
                "concept",
                "http://www.xes-standard.org/concept.xesext",
            ),
            ext("Time", "time", "http://www.xes-standard.org/time.xesext"),
            ext(
                "Lifecycle",
                "lifecycle",
                "http://www.xes-standard.org/lifecycle.xesext",
            ),
            ext(
                "Organizational",
                "org",
                "http://www.xes-standard.org/org.xesext",
            ),
        ],
        classifiers: vec![EventLogClassifier::default()],
        log_attributes: vec![
            string("concept:name", &log.journey.slug),
            string("source", "kohtaamo"),
        ],
        global_trace_attrs: vec![string("concept:name", "")],
        global_event_attrs: vec![
            string("concept:name", ""),
            Attribute::new(
                "time:timestamp".into(),
                AttributeValue::Date(DateTime::UNIX_EPOCH.fixed_offset()),
            ),
        ],
    };
    let traces = log.inst.list.iter().enumerate().map(|(n, x)| {
        let mut t = cc::Trace::new();
        t.attributes
            .add_attribute(string("concept:name", &format!("i{}", n + 1)));
        if let Some(c) = &x.key.case_ref {
            t.attributes.add_attribute(string("case_ref", c));
        }
        let customer = log.customer(&x.key);
        if !customer.is_empty() {
            t.attributes.add_attribute(string("customer", &customer));
        }
        for e in &x.events {
            let r = log.row(n, e);
            let mut ev = cc::Event::new(r.activity.clone());
            let a = &mut ev.attributes;
            a.add_attribute(Attribute::new(
                "time:timestamp".into(),
                AttributeValue::Date(r.at),
            ));
            a.add_attribute(string("lifecycle:transition", "complete"));
            let group = if r.unit.is_empty() { r.partner } else { r.unit };
            for (k, v) in [
                ("org:group", group),
                ("channel", r.channel),
                ("touchpoint", r.touchpoint),
                ("stage", r.stage),
                ("unit", r.unit),
                ("partner", r.partner),
            ] {
                if !v.is_empty() {
                    a.add_attribute(string(k, v));
                }
            }
            t.events.push(ev);
        }
        t
    });
    let mut out = Vec::new();
    xes::export_xes_trace_stream(&mut out, traces, data)
        .map_err(|e| Error::Internal(format!("xes: {e}")))?;
    Ok(out)
}

/// Customers and cases are objects; each encounter is an event of its activity's
/// type, related to its customer (`customer`) and case (`case`). Attribute values are
/// text, as the OCEL 2.0 JSON schema has them.
fn ocel(log: &Log) -> Result<Vec<u8>> {
    const ATTRS: [&str; 5] = ["channel", "touchpoint", "stage", "unit", "partner"];
    let mut events = vec![];
    let mut objects: Vec<OCELObject> = vec![];
    let mut seen: HashMap<String, ()> = HashMap::new();
    let mut types: Vec<String> = vec![];
    let mut object = |id: String, kind: &str, objects: &mut Vec<OCELObject>| {
        if seen.insert(id.clone(), ()).is_none() {
            objects.push(OCELObject {
                id: id.clone(),
                object_type: kind.into(),
                attributes: vec![],
                relationships: vec![],
            });
        }
        id
    };
    for (n, x) in log.inst.list.iter().enumerate() {
        let customer = x
            .key
            .customer_id
            .map(|c| object(format!("customer-{c}"), "customer", &mut objects));
        let case = x
            .key
            .case_ref
            .as_ref()
            .map(|c| object(format!("case-{c}"), "case", &mut objects));
        for (k, e) in x.events.iter().enumerate() {
            let r = log.row(n, e);
            if !types.contains(&r.activity) {
                types.push(r.activity.clone());
            }
            let attributes = [r.channel, r.touchpoint, r.stage, r.unit, r.partner]
                .iter()
                .zip(ATTRS)
                .filter(|(v, _)| !v.is_empty())
                .map(|(v, name)| OCELEventAttribute {
                    name: name.into(),
                    value: process_mining::core::event_data::object_centric::OCELAttributeValue::String(
                        v.to_string(),
                    ),
                })
                .collect();
            let mut relationships = vec![];
            if let Some(c) = &customer {
                relationships.push(OCELRelationship::new(c, "customer"));
            }
            if let Some(c) = &case {
                relationships.push(OCELRelationship::new(c, "case"));
            }
            events.push(OCELEvent::new(
                format!("{}-{}", r.instance, k + 1),
                &r.activity,
                r.at,
                attributes,
                relationships,
            ));
        }
    }
    types.sort();
    let ocel = OCEL {
        event_types: types
            .into_iter()
            .map(|name| OCELType {
                name,
                attributes: ATTRS
                    .iter()
                    .map(|a| OCELTypeAttribute {
                        name: (*a).into(),
                        value_type: "string".into(),
                    })
                    .collect(),
            })
            .collect(),
        object_types: ["case", "customer"]
            .iter()
            .map(|name| OCELType {
                name: (*name).into(),
                attributes: vec![],
            })
            .collect(),
        events,
        objects,
    };
    serde_json::to_vec(&ocel).map_err(|e| Error::Internal(format!("ocel: {e}")))
}

/// Writes the events of the XES file `xes` as a CSV event file `out` with the columns
/// `encounter_import` reads (id, at, touchpoint, channel, unit, partner, customer,
/// case_ref, kind), one trace at a time, so memory stays flat. An event's touchpoint
/// is its `touchpoint` attribute, else its activity (`concept:name`) unless that is
/// `channel:<channel>`; its channel the `channel` attribute; its owner the `unit` or
/// `partner` attribute, else `org:group` as a unit; the case reference the trace's
/// `case_ref` attribute, else its `concept:name`; the customer the trace's `customer`.
/// Each event's id is `xes:<trace>:<n>`, so importing a file again stores nothing
/// twice. Returns the number of events.
pub fn xes_to_csv(xes_path: &std::path::Path, out: &std::path::Path) -> Result<u64> {
    let bad =
        |e: String| Error::invalid("file", kohtaamo_domain::Reason::new("text").with("text", e));
    let file = std::fs::File::open(xes_path).map_err(|e| bad(e.to_string()))?;
    let gz = xes_path.extension().is_some_and(|x| x == "gz");
    let (mut stream, _) = if gz {
        xes::stream_xes_file_gz(file, XESImportOptions::default())
    } else {
        xes::stream_xes_file(file, XESImportOptions::default())
    }
    .map_err(|e| bad(format!("not a readable XES file: {e}")))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(
        std::fs::File::create(out).map_err(|e| Error::Internal(e.to_string()))?,
    ));
    let io = |e: csv::Error| Error::Internal(format!("csv: {e}"));
    w.write_record([
        "id",
        "at",
        "touchpoint",
        "channel",
        "unit",
        "partner",
        "customer",
        "case_ref",
        "kind",
    ])
    .map_err(io)?;
    let text = |a: Option<&Attribute>| -> String {
        match a.map(|a| &a.value) {
            Some(AttributeValue::String(s)) => s.clone(),
            Some(AttributeValue::Date(d)) => d.to_rfc3339(),
            Some(AttributeValue::Int(i)) => i.to_string(),
            Some(AttributeValue::ID(u)) => u.to_string(),
            _ => String::new(),
        }
    };
    let mut n = 0u64;
    for (k, trace) in (&mut stream).enumerate() {
        let name = text(trace.attributes.get_by_key("concept:name"));
        let name = if name.is_empty() {
            format!("trace-{}", k + 1)
        } else {
            name
        };
        let case = text(trace.attributes.get_by_key("case_ref"));
        let case = if case.is_empty() { name.clone() } else { case };
        let customer = text(trace.attributes.get_by_key("customer"));
        for (i, e) in trace.events.iter().enumerate() {
            let a = &e.attributes;
            let activity = text(a.get_by_key("concept:name"));
            let mut touchpoint = text(a.get_by_key("touchpoint"));
            let mut channel = text(a.get_by_key("channel"));
            if touchpoint.is_empty() {
                match activity.strip_prefix("channel:") {
                    Some(c) if channel.is_empty() => channel = c.to_owned(),
                    Some(_) => {}
                    None => touchpoint = activity.clone(),
                }
            }
            let mut unit = text(a.get_by_key("unit"));
            let partner = text(a.get_by_key("partner"));
            if unit.is_empty() && partner.is_empty() {
                unit = text(a.get_by_key("org:group"));
            }
            let kind = text(a.get_by_key("kind"));
            w.write_record([
                format!("xes:{name}:{}", i + 1).as_str(),
                &text(a.get_by_key("time:timestamp")),
                &touchpoint,
                &channel,
                &unit,
                &partner,
                &customer,
                &case,
                if kind.is_empty() { "contact" } else { &kind },
            ])
            .map_err(io)?;
            n += 1;
        }
    }
    if let Some(e) = stream.check_for_errors() {
        return Err(bad(format!("not a readable XES file: {e}")));
    }
    w.flush().map_err(|e| Error::Internal(e.to_string()))?;
    Ok(n)
}
