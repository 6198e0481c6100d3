//! The inspection's checklist items 2-①, 2-② and 2-③ answered from the
//! data: the reconciled ledger, the remote-maintenance register, the
//! makers' MDS/SDS status and the sign-offs. Plain functions over what
//! [`load`] reads, so the rules are tested without a database.

use std::collections::{BTreeMap, BTreeSet};

use daicho_ledger::{
    ChecklistAnswer, DisclosureLine, Field, Inspection, ItemKind, Question, RegisterEntry,
    RegisterLine, SignOffLine,
};
use daicho_report::{Says, Text};
use daicho_store::{Disclosure, SignOff, Store};

use crate::reconcile::Reconciliation;

/// What the store holds for the inspection.
#[derive(Debug, Clone, Default)]
pub struct Records {
    pub register: Vec<(String, BTreeMap<String, String>)>,
    pub disclosures: Vec<Disclosure>,
    pub sign_offs: Vec<SignOff>,
}

pub async fn load(store: &Store) -> anyhow::Result<Records> {
    Ok(Records {
        register: store.register().await?,
        disclosures: store.disclosures().await?,
        sign_offs: store.sign_offs().await?,
    })
}

/// The inspection of a reconciliation, from what the store holds.
pub async fn inspected(store: &Store, state: &Reconciliation) -> anyhow::Result<Inspection> {
    Ok(inspection(state, &load(store).await?))
}

/// The checklist items people write target dates for.
pub const ITEMS: [(&str, &str); 3] = [("2-1", "2-①"), ("2-2", "2-②"), ("2-3", "2-③")];

/// The register: every device maintained remotely — declared 有 in the
/// ledger, or a flag settled as sanctioned — and any other device with
/// answers recorded. What the ledger and the settlement already say (the
/// row's 保守事業者, the sanctioned vendor and method) fills the answers
/// nobody recorded yet.
pub fn register(state: &Reconciliation, records: &Records) -> Vec<RegisterLine> {
    let mut lines: Vec<RegisterLine> = Vec::new();
    let mut add = |device: String, because: Says, known: Vec<(Question, String)>| {
        if lines.iter().any(|l| l.entry.device == device) {
            return;
        }
        let answers = known
            .into_iter()
            .filter(|(_, a)| !a.trim().is_empty())
            .collect();
        lines.push(RegisterLine {
            entry: RegisterEntry { device, answers },
            because,
        });
    };
    for item in &state.diff.sanctioned {
        let device = item
            .row_label
            .clone()
            .or(item.device.map(|d| format!("#{d}")))
            .unwrap_or_else(|| item.id.clone());
        let known = item
            .settlement
            .as_ref()
            .and_then(|s| s.maintenance.as_ref())
            .map(|m| {
                vec![
                    (Question::Maintainer, m.maintainer.clone()),
                    (Question::Method, m.method.label(daicho_ledger::Lang::Ja)),
                ]
            })
            .unwrap_or_default();
        add(
            device,
            Says::of(Text::RegisterSanctioned).with("item", item.id.as_str()),
            known,
        );
    }
    for row in &state.ledger.devices {
        if row.remote_maintenance() == Some(true) {
            let known = row
                .get(Field::Maintainer)
                .map(|m| vec![(Question::Maintainer, m.to_owned())])
                .unwrap_or_default();
            add(row.label(), Says::of(Text::RegisterDeclared), known);
        }
    }
    for (device, _) in &records.register {
        add(device.clone(), Says::of(Text::RegisterRecorded), Vec::new());
    }
    for line in &mut lines {
        let stored = records
            .register
            .iter()
            .find(|(device, _)| *device == line.entry.device);
        for (question, answer) in stored.into_iter().flat_map(|(_, answers)| answers) {
            if let Some(q) = Question::from_id(question)
                && !answer.trim().is_empty()
            {
                line.entry.answers.insert(q, answer.clone());
            }
        }
    }
    lines
}

/// The checklist answers, the register, the MDS/SDS status and the
/// sign-offs, as the report and the pages show them.
pub fn inspection(state: &Reconciliation, records: &Records) -> Inspection {
    let register = register(state, records);
    let makers: BTreeMap<String, usize> =
        state
            .ledger
            .devices
            .iter()
            .fold(BTreeMap::new(), |mut makers, row| {
                if let Some(maker) = row
                    .get(Field::Maker)
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                {
                    *makers.entry(maker.to_owned()).or_default() += 1;
                }
                makers
            });
    let recorded: BTreeSet<&str> = records
        .disclosures
        .iter()
        .map(|d| d.maker.as_str())
        .collect();
    let makers_without: Vec<String> = makers
        .keys()
        .filter(|m| !recorded.contains(m.as_str()))
        .cloned()
        .collect();
    let status_count = |status: &str| {
        records
            .disclosures
            .iter()
            .filter(|d| d.status == status)
            .count()
    };
    let latest_targets = records
        .sign_offs
        .last()
        .map(|s| s.targets.clone())
        .unwrap_or_default();
    let target = |item: &str| latest_targets.get(item).cloned();

    let rows = state.ledger.devices.len();
    let open = |kind| state.diff.open(kind);
    let (undeclared, missing) = (open(ItemKind::Undeclared), open(ItemKind::Missing));
    let undocumented = register
        .iter()
        .filter(|l| {
            l.entry.answer(Question::Maintainer).is_none()
                || l.entry.answer(Question::Method).is_none()
        })
        .count();
    let unanswered: usize = register.iter().map(|l| l.entry.unanswered().len()).sum();
    let flags = open(ItemKind::Flagged);
    let [submitted, requested, not_submitted] = daicho_store::DISCLOSURE_STATUSES.map(status_count);
    let answers = vec![
        ChecklistAnswer {
            item: ITEMS[0].1,
            question: Says::of(Text::Checklist21),
            yes: rows > 0 && undeclared == 0 && missing == 0,
            evidence: Says::of(Text::Evidence21)
                .value("rows", rows)
                .value("undeclared", undeclared)
                .value("missing", missing)
                .value("changed", open(ItemKind::Changed)),
            target: target(ITEMS[0].0),
        },
        // The seed: "まずは、有無が確認でき文書化していれば「はい」" — every
        // remote path known (no flag open) and each one's vendor and method
        // written down; the other questions are counted, not required.
        ChecklistAnswer {
            item: ITEMS[1].1,
            question: Says::of(Text::Checklist22),
            yes: flags == 0 && undocumented == 0,
            evidence: Says::of(Text::Evidence22)
                .value("devices", register.len())
                .value("undocumented", undocumented)
                .value("unanswered", unanswered)
                .value("flags", flags),
            target: target(ITEMS[1].0),
        },
        ChecklistAnswer {
            item: ITEMS[2].1,
            question: Says::of(Text::Checklist23),
            yes: !records.disclosures.is_empty() && submitted == records.disclosures.len(),
            evidence: Says::of(Text::Evidence23)
                .value("submitted", submitted)
                .value("requested", requested)
                .value("missing", not_submitted)
                .value("without", makers_without.len()),
            target: target(ITEMS[2].0),
        },
    ];
    let disclosures = records
        .disclosures
        .iter()
        .map(|d| DisclosureLine {
            maker: d.maker.clone(),
            status: Says::named("disclosure", &d.status),
            version: d.version.clone(),
            received: d.received.clone(),
            file: d.file.clone(),
            note: d.note.clone(),
            devices: makers.get(&d.maker).copied().unwrap_or_default(),
        })
        .collect();
    let sign_offs = records
        .sign_offs
        .iter()
        .map(|s| SignOffLine {
            reviewer: s.reviewer.clone(),
            day: s.day.clone(),
            note: s.note.clone(),
            targets: s
                .targets
                .iter()
                .map(|(item, day)| {
                    let shown = ITEMS
                        .iter()
                        .find(|(id, _)| id == item)
                        .map_or(item.as_str(), |(_, shown)| shown);
                    format!("{shown}: {day}")
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let by_kind = state
        .ledger
        .devices
        .iter()
        .fold(BTreeMap::<String, usize>::new(), |mut kinds, row| {
            let kind = row.get(Field::Kind).map(str::trim).unwrap_or_default();
            let kind = if kind.is_empty() { "-" } else { kind };
            *kinds.entry(kind.to_owned()).or_default() += 1;
            kinds
        })
        .into_iter()
        .collect();
    Inspection {
        answers,
        register,
        disclosures,
        makers_without,
        sign_offs,
        by_kind,
    }
}

/// The ledger workbook as the hospital files it: the reconciled ledger with
/// what the network shows filled in and marked, the cloud services and the
/// 2-② register.
pub fn workbook(
    state: &Reconciliation,
    inspection: &Inspection,
) -> Result<Vec<u8>, daicho_ledger::ExportError> {
    let register: Vec<RegisterEntry> = inspection
        .register
        .iter()
        .map(|line| line.entry.clone())
        .collect();
    let found = daicho_ledger::found_cells(&state.ledger, &state.diff, &state.discovered);
    daicho_ledger::to_workbook(&state.ledger, &register, &found)
}
