//! The organisation-insight findings as a Markdown memo for a steering group (printed
//! by `kohtaamo report insight`; labels in any language with a message file, from the
//! same messages as the web UI).

use std::fmt::Write;

use kohtaamo_domain::insight::{Chain, Insight, Snapshot};
use kohtaamo_domain::model::InterfaceKind;

use crate::directory::Names;
use crate::i18n::I18n;

/// A unit's chains to the end customer as text, one per segment reached:
/// "IT → Customer service → Commuter".
pub fn chain_lines(n: &Names, c: &Chain) -> Vec<String> {
    c.paths
        .iter()
        .map(|(path, seg)| {
            let mut names: Vec<String> = path.iter().map(|u| Names::get(&n.units, *u)).collect();
            names.push(Names::get(&n.segments, *seg));
            names.join(" → ")
        })
        .collect()
}

/// Why a unit is far from the customer (the message key), or None when it is not:
/// nobody has told them who their customer is, or their customers' chains do not
/// reach an end customer.
pub fn far_reason(c: &Chain) -> Option<&'static str> {
    match (c.far_from_customer, c.has_customers) {
        (false, _) => None,
        (true, false) => Some("report-far"),
        (true, true) => Some("report-no-end-customer"),
    }
}

fn none_or(i: &I18n, s: String) -> String {
    if s.is_empty() {
        i.t("none-yet")
    } else {
        s
    }
}

/// The Markdown memo.
pub fn markdown(
    workspace: &str,
    s: &Snapshot,
    ins: &Insight,
    i: &I18n,
    today: chrono::NaiveDate,
) -> String {
    let n = Names::new(s, i);
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {workspace}\n", i.t("report-title"));
    let _ = writeln!(out, "_{}_\n", i.s("report-date", "date", &i.date(&today)));

    let c = &ins.coverage;
    let _ = writeln!(out, "## {}\n", i.t("report-coverage"));
    let _ = writeln!(
        out,
        "- {}: {} / {}",
        i.t("report-units-with-customers"),
        c.units_with_customers.len(),
        s.units.len()
    );
    let _ = writeln!(
        out,
        "- {}: {}",
        i.t("report-units-without-customers"),
        none_or(i, Names::list(&n.units, &c.units_without_customers))
    );
    let _ = writeln!(
        out,
        "- {}: {}",
        i.t("report-stale"),
        c.stale_relations.len()
    );
    let _ = writeln!(
        out,
        "- {}: {:.0} %\n",
        i.t("report-share-external"),
        c.share_reaching_external * 100.0
    );

    let _ = writeln!(out, "## {}\n", i.t("report-chains"));
    for ch in &ins.chains {
        if let Some(why) = far_reason(ch) {
            let unit = Names::get(&n.units, ch.unit);
            let _ = writeln!(out, "- **{unit}**: {}", i.t(why));
        }
        for line in chain_lines(&n, ch) {
            let _ = writeln!(out, "- {line}");
        }
    }

    let _ = writeln!(out, "\n## {}\n", i.t("report-hand-offs"));
    for (jid, _) in &s.journeys {
        let mine: Vec<_> = ins.hand_offs.iter().filter(|h| h.journey == *jid).collect();
        let undeclared = mine.iter().filter(|h| h.undeclared).count();
        let _ = writeln!(
            out,
            "- **{}**: {} ({})",
            Names::get(&n.journeys, *jid),
            i.n("report-hand-off-count", "count", mine.len() as i64),
            i.n("report-undeclared-count", "count", undeclared as i64)
        );
        for h in mine.iter().filter(|h| h.undeclared) {
            let at = Names::get(&n.touchpoints, h.to_touchpoint);
            let _ = writeln!(
                out,
                "  - {} → {} ({}: {})",
                n.party(h.from),
                n.party(h.to),
                i.t("report-at"),
                at
            );
        }
    }
    let _ = writeln!(
        out,
        "\n| {} | {} | {} |\n|---|---|---|",
        i.t("report-from"),
        i.t("report-to"),
        i.t("report-count")
    );
    for (a, b, k) in &ins.hand_off_matrix {
        let _ = writeln!(out, "| {} | {} | {k} |", n.party(*a), n.party(*b));
    }

    let _ = writeln!(out, "\n## {}\n", i.t("report-interfaces"));
    for g in &ins.interfaces {
        let label = g
            .kind
            .map(|k: InterfaceKind| i.enum_label("interface", k.as_str()))
            .unwrap_or_else(|| i.t("report-no-interface"));
        let owners: std::collections::BTreeSet<String> = g
            .touchpoints
            .iter()
            .filter_map(|(_, o)| o.map(|p| n.party(p)))
            .collect();
        let _ = writeln!(
            out,
            "- **{label}**: {} — {}",
            i.n("touchpoint-count", "count", g.touchpoints.len() as i64),
            owners.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let _ = writeln!(
        out,
        "- {}: {}",
        i.t("report-interface-gaps"),
        none_or(i, Names::list(&n.touchpoints, &ins.interface_gaps))
    );

    let _ = writeln!(out, "\n## {}\n", i.t("report-processes"));
    let _ = writeln!(
        out,
        "- {}: {}",
        i.t("report-orphan-steps"),
        none_or(i, Names::list(&n.steps, &ins.orphan_steps))
    );
    let _ = writeln!(
        out,
        "- {}: {}",
        i.t("report-unsupported"),
        none_or(i, Names::list(&n.touchpoints, &ins.unsupported_touchpoints))
    );
    let _ = writeln!(
        out,
        "\n| {} | {} | {} | {} | {} | {} |\n|---|---|---|---|---|---|",
        i.t("col-journey"),
        i.t("report-customer-steps"),
        i.t("report-hand-offs"),
        i.t("report-channel-switches"),
        i.t("report-minutes"),
        i.t("report-labyrinth")
    );
    for l in &ins.labyrinth {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.1} |",
            Names::get(&n.journeys, l.journey),
            l.customer_steps,
            l.hand_offs,
            l.channel_switches,
            l.total_minutes,
            l.score
        );
    }

    let _ = writeln!(out, "\n## {}\n", i.t("report-packages"));
    let _ = writeln!(
        out,
        "- {}: {}",
        i.t("no-core-title"),
        none_or(i, Names::list(&n.packages, &ins.packages_without_core))
    );
    for m in &ins.missing_enablers {
        let _ = writeln!(
            out,
            "- {}: {} ({}) — {}: {}",
            i.t("report-missing-enablers"),
            Names::get(&n.touchpoints, m.touchpoint),
            Names::get(&n.elements, m.core_element),
            i.t("report-none-earlier"),
            Names::list(&n.elements, &m.missing)
        );
    }
    let _ = writeln!(
        out,
        "- {}: {}",
        i.t("report-unowned"),
        none_or(i, Names::list(&n.elements, &ins.unowned_elements))
    );
    out
}
