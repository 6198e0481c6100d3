//! The ledger's devices as one documented, stable, machine-readable view
//! (`daicho-collector devices --format json`, `GET /api/v1/inventory`):
//! each physical device with its interfaces, its identities (those that
//! join nothing marked as shared), its links to devices it is probably the
//! same host as, its findings (one per kind, with every piece of evidence)
//! and the declared row it matches. Fields are only ever added; `schema`
//! changes if one is renamed or removed.

use std::collections::BTreeMap;

use daicho_store::{LinkState, Store};
use serde::Serialize;

use crate::reconcile::Reconciliation;

/// The view's version: consumers check it.
pub const SCHEMA: &str = "daicho-inventory/1";

#[derive(Debug, Serialize)]
pub struct Inventory {
    pub schema: &'static str,
    pub devices: Vec<DeviceView>,
}

#[derive(Debug, Serialize)]
pub struct DeviceView {
    pub id: i64,
    pub name: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub maker: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os: Option<String>,
    /// 種別 (`server`, `workstation`, `switch`, `printer`, `medical_imaging`
    /// … see README) and the ledger's word for it (`端末PC`).
    pub kind: Option<String>,
    pub ledger_kind: Option<String>,
    /// How each value was found: `{kind, maker, model, os, software}`, each
    /// `{value, source, confidence}`.
    pub identity: Option<serde_json::Value>,
    /// Every address it was seen at, newest first.
    pub interfaces: Vec<InterfaceView>,
    pub identities: Vec<IdentityView>,
    pub links: Vec<LinkView>,
    /// One per kind (dual_homed, mobile_router, remote_access, rogue_dhcp).
    pub findings: Vec<daicho_ledger::Flag>,
    /// The declared row it matches (管理番号, else computer name), and how.
    pub declared: Option<DeclaredView>,
    /// The switch port it is plugged into (switch device id and names,
    /// bridge port, ifIndex, ifName, ifAlias, VLAN, MACs on the port,
    /// `shared`, `also_on`), from the switches' forwarding tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<daicho_place::Placement>,
    /// The ports of its other interfaces (a dual-homed host's other legs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_ports: Vec<daicho_place::Placement>,
    /// The room the site's rooms file maps that port to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// The room, else the port, as one text: the suggested 設置場所.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_location: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InterfaceView {
    pub ip: String,
    pub mac: Option<String>,
    /// "agent interface" that saw it.
    pub segment: String,
    pub last_seen: String,
}

#[derive(Debug, Serialize)]
pub struct IdentityView {
    /// ssh_host_key, tls_certificate, snmp_engine_id, serial_number,
    /// upnp_udn, mac, netbios_name, mdns_host, snmp_sys_name.
    pub kind: String,
    pub value: String,
    /// Set when the identity joins nothing: why (`placeholder`, `shared`)
    /// and the table's source or the segment it was shared on.
    pub shared: Option<SharedView>,
}

#[derive(Debug, Serialize)]
pub struct SharedView {
    pub why: String,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct LinkView {
    /// `L3-7`, as `links confirm` takes it.
    pub id: String,
    pub with: i64,
    pub confidence: String,
    pub state: LinkState,
    pub evidence: Vec<daicho_report::Says>,
}

#[derive(Debug, Serialize)]
pub struct DeclaredView {
    pub row: String,
    pub matched_by: daicho_ledger::MatchedBy,
}

/// The view of every device, from the store and a reconciliation.
pub async fn inventory(store: &Store, state: &Reconciliation) -> anyhow::Result<Inventory> {
    let facts = store.device_facts().await?;
    let mut shared: BTreeMap<i64, Vec<daicho_store::SharedIdentity>> = BTreeMap::new();
    for identity in store.shared_identities().await? {
        shared.entry(identity.device).or_default().push(identity);
    }
    let links = store.links().await?;
    let discovered: BTreeMap<i64, &daicho_ledger::Discovered> =
        state.discovered.iter().map(|d| (d.id, d)).collect();
    let mut declared: BTreeMap<i64, DeclaredView> = state
        .diff
        .matches
        .iter()
        .map(|(row, device, how)| {
            let view = DeclaredView {
                row: state.ledger.devices[*row].label(),
                matched_by: *how,
            };
            (*device, view)
        })
        .collect();
    let devices =
        facts
            .into_iter()
            .map(|d| {
                let found = discovered.get(&d.id).copied();
                let mut identities: Vec<IdentityView> = d
                    .keys
                    .into_iter()
                    .map(|(kind, value)| IdentityView {
                        kind,
                        value,
                        shared: None,
                    })
                    .collect();
                identities.extend(shared.remove(&d.id).into_iter().flatten().map(|s| {
                    IdentityView {
                        kind: s.kind,
                        value: s.value,
                        shared: Some(SharedView {
                            why: s.why,
                            detail: s.detail,
                        }),
                    }
                }));
                DeviceView {
                    interfaces: d
                        .interfaces
                        .into_iter()
                        .map(|a| InterfaceView {
                            segment: format!("{} {}", a.agent, a.interface),
                            ip: a.ip,
                            mac: a.mac,
                            last_seen: a.last_seen,
                        })
                        .collect(),
                    identities,
                    links: links
                        .iter()
                        .filter(|l| l.involves(d.id))
                        .map(|l| LinkView {
                            id: l.id(),
                            with: if l.older == d.id { l.newer } else { l.older },
                            confidence: l.confidence.clone(),
                            state: l.state,
                            evidence: l.evidence.clone(),
                        })
                        .collect(),
                    findings: found.map(|f| f.flags.clone()).unwrap_or_default(),
                    port: found.and_then(|f| f.port.clone()),
                    other_ports: found.map(|f| f.other_ports.clone()).unwrap_or_default(),
                    room: found.and_then(|f| f.room.clone()),
                    suggested_location: found.and_then(|f| f.suggested_location()),
                    declared: declared.remove(&d.id),
                    id: d.id,
                    name: d.name,
                    first_seen: d.first_seen,
                    last_seen: d.last_seen,
                    maker: d.maker,
                    model: d.model,
                    serial: d.serial,
                    os: d.os,
                    ledger_kind: d
                        .kind
                        .as_deref()
                        .and_then(daicho_identify::Kind::from_name)
                        .map(|k| k.ledger_kind().to_owned()),
                    kind: d.kind,
                    identity: d.identity.and_then(|j| serde_json::from_str(&j).ok()),
                }
            })
            .collect();
    Ok(Inventory {
        schema: SCHEMA,
        devices,
    })
}
