//! The system group (RFC 3418): what a device says it is, where, and who runs it.

use std::sync::Arc;
use std::time::Duration;

use async_snmp::{Client, ClientBuilder, Oid, Retry, oid};
use serde::Deserialize;

use crate::host::{Host, Paced};
use crate::tables::{At, Reader, Texts};
use crate::{Diagnosis, Profile, Version};
use daicho_report::text::hex;
use daicho_report::{
    RawText, SnmpAddress, SnmpCdpNeighbour, SnmpDevice, SnmpEntity, SnmpFdbEntry, SnmpInterface,
    SnmpLldpNeighbour, SnmpNeighbour, SnmpPrinter, SnmpRoute, SnmpSoftware, SnmpUps,
};

/// The tables read after the system group. All by default; a site can drop
/// heavy ones (installed software on a big server) or ones a fragile device
/// handles badly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    Interfaces,
    Addresses,
    Neighbours,
    Routes,
    Entities,
    Software,
    Devices,
    Lldp,
    /// Printer-MIB's general table: the printer's name and serial number
    /// (printers rarely have ENTITY-MIB).
    Printer,
    /// UPS-MIB's identification: maker, model, firmware.
    Ups,
    /// CISCO-CDP-MIB neighbours.
    Cdp,
    /// A switch's forwarding table (Q-BRIDGE-MIB, else BRIDGE-MIB): where
    /// each MAC is plugged in.
    Fdb,
}

impl Table {
    pub const ALL: [Table; 12] = [
        Table::Interfaces,
        Table::Addresses,
        Table::Neighbours,
        Table::Routes,
        Table::Entities,
        Table::Software,
        Table::Devices,
        Table::Lldp,
        Table::Printer,
        Table::Ups,
        Table::Cdp,
        Table::Fdb,
    ];
}

/// The scalars of the system group, as the device reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemGroup {
    pub descr: Option<String>,
    /// sysObjectID in dotted form; its enterprise number names the maker.
    pub object_id: Option<String>,
    /// sysUpTime in hundredths of a second.
    pub uptime_ticks: Option<u32>,
    pub contact: Option<String>,
    pub name: Option<String>,
    pub location: Option<String>,
    /// sysServices: the layers the device serves (bit 2, value 4: IP
    /// routing).
    pub services: Option<u8>,
}

/// The system group's scalars, then ipForwarding.0 and snmpEngineID.0,
/// with the labels raw-text records use.
fn system_oids() -> [(Oid, &'static str); 9] {
    [
        (oid!(1, 3, 6, 1, 2, 1, 1, 1, 0), "sysDescr"),
        (oid!(1, 3, 6, 1, 2, 1, 1, 2, 0), "sysObjectID"),
        (oid!(1, 3, 6, 1, 2, 1, 1, 3, 0), "sysUpTime"),
        (oid!(1, 3, 6, 1, 2, 1, 1, 4, 0), "sysContact"),
        (oid!(1, 3, 6, 1, 2, 1, 1, 5, 0), "sysName"),
        (oid!(1, 3, 6, 1, 2, 1, 1, 6, 0), "sysLocation"),
        (oid!(1, 3, 6, 1, 2, 1, 1, 7, 0), "sysServices"),
        (oid!(1, 3, 6, 1, 2, 1, 4, 1, 0), "ipForwarding"),
        (oid!(1, 3, 6, 1, 6, 3, 10, 2, 1, 1, 0), "snmpEngineID"),
    ]
}

/// GETs `oids`. In SNMPv1 one OID the agent lacks fails the whole request
/// (noSuchName, at its position): it is asked again without that one, as
/// v1 managers do — a v1-only agent has no snmpEngineID, many devices no
/// ipForwarding.
async fn get_present(
    client: &Client<Paced>,
    oids: &[Oid],
    v1: bool,
) -> async_snmp::Result<Vec<async_snmp::VarBind>> {
    let mut asked = oids.to_vec();
    loop {
        match client.get_many(&asked).await {
            Ok(answer) => return Ok(answer.varbinds),
            Err(e) if v1 => match missing_at(&e) {
                Some(at) if at < asked.len() => {
                    asked.remove(at);
                    // The agent answered, and has none of them (a bridge
                    // that serves only BRIDGE-MIB): as v2c's noSuchObject.
                    if asked.is_empty() {
                        return Ok(Vec::new());
                    }
                }
                _ => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
}

/// The position (0-based) of the varbind a v1 noSuchName names.
pub(crate) fn missing_at(error: &async_snmp::Error) -> Option<usize> {
    match error {
        async_snmp::Error::Exchange { source, .. } => missing_at(source),
        async_snmp::Error::SharedOperation { source } => missing_at(source),
        async_snmp::Error::Snmp {
            status: async_snmp::ErrorStatus::NoSuchName,
            index,
            ..
        } => usize::try_from(*index).ok()?.checked_sub(1),
        _ => None,
    }
}

fn client(host: &Host, auth: async_snmp::Auth) -> async_snmp::Result<Client<Paced>> {
    let options = host.options;
    let retry = Retry::fixed(options.retries, Duration::ZERO).unwrap_or_else(|_| Retry::none());
    ClientBuilder::new(auth)
        .request_timeout(options.timeout)
        .retry(retry)
        .engine_cache(Arc::clone(&host.engines))
        .build_with_transport(host.transport.clone())
}

async fn get(
    host: &Host,
    auth: async_snmp::Auth,
    oids: &[Oid],
) -> async_snmp::Result<async_snmp::FixedCardinalityResponse> {
    let answer = client(host, auth)?.get_many(oids).await;
    host.note_engine_id();
    answer
}

/// An SNMPv3 agent reports a wrong user, digest or key in an *unauthenticated*
/// Report, which the client rightly ignores on an authenticated session (it
/// could be forged), so such failures look like silence. Two cheaper questions
/// tell them apart: does the agent answer the user at noAuthNoPriv (it then
/// reports "unknown user" or "unsupported security level"), and does it answer
/// an authenticated request without privacy (then the auth key is right and the
/// privacy key must be wrong)?
async fn explain_v3_silence(host: &Host, profile: &Profile) -> Diagnosis {
    let probe = [oid!(1, 3, 6, 1, 2, 1, 1, 5, 0)];
    let user = profile.user.clone().unwrap_or_default();
    let no_auth = async_snmp::Auth::usm(user.as_bytes());
    // Success or "unsupported security level" both mean the user exists, so
    // the profile's keys are what is wrong: go on.
    if let Err(e) = get(host, no_auth, &probe).await {
        let diagnosis = Diagnosis::from_error(&e, true);
        if matches!(diagnosis, Diagnosis::UnknownUserName | Diagnosis::TimeoutV3) {
            return diagnosis;
        }
    }
    if profile.auth.is_none() {
        return Diagnosis::UnsupportedSecurityLevel;
    }
    let mut auth_only = profile.clone();
    auth_only.privacy = None;
    auth_only.priv_password = None;
    let Ok(auth) = auth_only.to_auth() else {
        return Diagnosis::TimeoutV3;
    };
    match get(host, auth, &probe).await {
        // Silence again: the agent's wrong-digest Report was unauthenticated.
        Err(e) if Diagnosis::from_error(&e, true) == Diagnosis::TimeoutV3 => Diagnosis::WrongDigest,
        // An authenticated answer (data, or a refusal for the missing privacy).
        _ if profile.privacy.is_some() => Diagnosis::DecryptionError,
        _ => Diagnosis::WrongDigest,
    }
}

/// Most VLANs whose bridge tables are read one community each: every
/// VLAN costs a walk, and the per-host rate holds across them.
pub const MAX_VLAN_COMMUNITIES: usize = 64;

/// The bridge table of each VLAN CISCO-VTP-MIB lists, read with
/// `community@vlan`, each entry with its VLAN. Failures become notes.
async fn vlan_fdbs(
    host: &Host,
    profile: &Profile,
    reader: &mut Reader<Paced>,
) -> Vec<daicho_report::SnmpFdbEntry> {
    let vlans = reader.vtp_vlans().await;
    if vlans.len() > MAX_VLAN_COMMUNITIES {
        reader.notes.push(format!(
            "vlan_communities: {} VLANs, only the first {MAX_VLAN_COMMUNITIES} read",
            vlans.len()
        ));
    }
    let mut entries = Vec::new();
    for vlan in vlans.into_iter().take(MAX_VLAN_COMMUNITIES) {
        let opened = profile
            .vlan_auth(vlan)
            .and_then(|auth| client(host, auth).map_err(|e| e.to_string()));
        let client = match opened {
            Ok(client) => client,
            Err(e) => {
                reader.notes.push(format!("VLAN {vlan}: {e}"));
                continue;
            }
        };
        let mut in_vlan = Reader {
            client,
            v1: reader.v1,
            budget: reader.budget,
            notes: Vec::new(),
            texts: Texts {
                charset: reader.texts.charset,
                ..Texts::default()
            },
        };
        let found = in_vlan.fdb().await;
        reader.notes.extend(
            in_vlan
                .notes
                .into_iter()
                .map(|n| format!("VLAN {vlan}: {n}")),
        );
        entries.extend(found.into_iter().map(|e| daicho_report::SnmpFdbEntry {
            vlan: Some(u32::from(vlan)),
            ..e
        }));
    }
    entries
}

/// Everything one profile got from a device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub system: SystemGroup,
    pub interfaces: Vec<SnmpInterface>,
    pub addresses: Vec<SnmpAddress>,
    /// ipForwarding: true for a router (or a host routing between its NICs).
    pub ip_forwarding: Option<bool>,
    /// snmpEngineID in hex: stable across address changes and reboots.
    pub engine_id: Option<String>,
    pub neighbours: Vec<SnmpNeighbour>,
    pub routes: Vec<SnmpRoute>,
    /// ENTITY-MIB: chassis and modules with model and serial number.
    pub entities: Vec<SnmpEntity>,
    pub software: Vec<SnmpSoftware>,
    pub devices: Vec<SnmpDevice>,
    pub lldp: Vec<SnmpLldpNeighbour>,
    pub cdp: Vec<SnmpCdpNeighbour>,
    pub fdb: Vec<SnmpFdbEntry>,
    pub printer: Option<SnmpPrinter>,
    pub ups: Option<SnmpUps>,
    /// Tables that failed or were cut; the system group still counts.
    pub notes: Vec<String>,
    /// Strings that were not UTF-8: how each was read, and its bytes.
    pub raw_text: Vec<RawText>,
}

/// Asks `host` with one profile: the system group decides whether the
/// profile works (its failure is the diagnosis); then the tables in `read`,
/// whose failures only add notes.
pub async fn interrogate(
    host: &Host,
    profile: &Profile,
    read: &[Table],
) -> Result<DeviceInfo, Diagnosis> {
    let v3 = profile.version == Version::V3;
    let v1 = profile.version == Version::V1;
    let auth = profile.to_auth().map_err(Diagnosis::Config)?;
    let system_oids = system_oids();
    let oids: Vec<Oid> = system_oids.iter().map(|(oid, _)| oid.clone()).collect();
    let fail = |e: Box<async_snmp::Error>| Diagnosis::from_error(&e, v3);
    let answer = match client(host, auth) {
        Ok(client) => get_present(&client, &oids, v1)
            .await
            .map(|r| (client, r))
            .map_err(fail),
        Err(e) => Err(fail(e)),
    };
    host.note_engine_id();
    let (client, varbinds) = match answer {
        Ok(answer) => answer,
        Err(Diagnosis::TimeoutV3) => return Err(explain_v3_silence(host, profile).await),
        Err(diagnosis) => return Err(diagnosis),
    };
    let texts = Texts {
        charset: profile.charset.unwrap_or(host.options.charset),
        ..Texts::default()
    };
    let mut device = DeviceInfo::default();
    let mut system = SystemGroup::default();
    for varbind in &varbinds {
        let value = &varbind.value;
        let Some(n) = system_oids.iter().position(|(o, _)| *o == varbind.oid) else {
            continue;
        };
        let at = At {
            texts: &texts,
            label: system_oids[n].1,
            index: &[0],
        };
        match n {
            0 => system.descr = at.text(value),
            1 => system.object_id = value.as_oid().map(ToString::to_string),
            2 => system.uptime_ticks = value.as_u32(),
            3 => system.contact = at.text(value),
            4 => system.name = at.text(value),
            5 => system.location = at.text(value),
            6 => system.services = value.as_i32().and_then(|v| u8::try_from(v).ok()),
            7 => device.ip_forwarding = value.as_i32().map(|f| f == 1),
            8 => device.engine_id = value.as_bytes().filter(|b| !b.is_empty()).map(hex),
            _ => {}
        }
    }
    device.system = system;
    let mut reader = Reader {
        client,
        v1,
        budget: crate::walk::VARBINDS_PER_REQUEST,
        notes: Vec::new(),
        texts,
    };
    for table in read {
        match table {
            Table::Interfaces => device.interfaces = reader.interfaces().await,
            Table::Addresses => device.addresses = reader.addresses().await,
            Table::Neighbours => device.neighbours = reader.neighbours().await,
            Table::Routes => device.routes = reader.routes().await,
            Table::Entities => device.entities = reader.entities().await,
            Table::Software => device.software = reader.software().await,
            Table::Devices => device.devices = reader.devices().await,
            Table::Lldp => device.lldp = reader.lldp().await,
            Table::Printer => device.printer = reader.printer().await,
            Table::Ups => device.ups = reader.ups().await,
            Table::Cdp => device.cdp = reader.cdp().await,
            Table::Fdb => device.fdb = reader.fdb().await,
        }
    }
    if profile.vlan_communities
        && read.contains(&Table::Fdb)
        && device.fdb.iter().all(|e| e.vlan.is_none())
    {
        let per_vlan = vlan_fdbs(host, profile, &mut reader).await;
        if !per_vlan.is_empty() {
            device.fdb = per_vlan;
        }
    }
    device.notes = reader.notes;
    device.raw_text = reader.texts.raw.into_inner();
    Ok(device)
}
