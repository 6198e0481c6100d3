//! What each device is, for the ledger's columns: 種別 (kind), maker,
//! model, OS and software, each value with where it came from and how
//! sure it is — from everything the probes saw, as plain functions over
//! data ([`identify`]). Rapid7 Recog's fingerprint databases ([`recog`])
//! match the banners (SNMP sysDescr and sysObjectID, HTTP Server, page
//! titles and favicon hashes, SSH, TLS subjects and issuers, mDNS device-info); daicho's own
//! tables ([`tables`], data files with sources that a site extends) add
//! makers of medical devices, printers and network equipment by their
//! registry names, and kinds by sysObjectID prefix.

pub mod recog;
pub mod tables;

use std::sync::OnceLock;

use daicho_report::Observation;
use serde::{Deserialize, Serialize};

pub use tables::{Kind, Tables};

/// One identified value, where it came from (`recog:snmp_sysdescr`,
/// `upnp`, `oui`, `enterprise`, `printer-mib` …) and how sure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim<T> {
    pub value: T,
    pub source: String,
    pub confidence: f32,
}

/// An operating system or firmware.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Os {
    /// `Windows`, `Linux`, `IOS`, `FortiOS` …
    pub family: String,
    pub vendor: Option<String>,
    pub version: Option<String>,
}

impl Os {
    /// As the ledger's OS column writes it: "Windows 11", "FortiOS 7.2.5".
    pub fn label(&self) -> String {
        match &self.version {
            Some(version) if !self.family.is_empty() => format!("{} {version}", self.family),
            _ => self.family.clone(),
        }
    }
}

/// A notable piece of software (a web or SSH server, a DICOM toolkit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    pub vendor: Option<String>,
    pub product: String,
    pub version: Option<String>,
}

/// What a device is, as far as the network shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub kind: Option<Claim<Kind>>,
    pub maker: Option<Claim<String>>,
    pub model: Option<Claim<String>>,
    pub os: Option<Claim<Os>>,
    pub software: Vec<Claim<Software>>,
}

impl Identity {
    /// Keeps `claim` if it is surer than what is there.
    fn offer<T>(slot: &mut Option<Claim<T>>, claim: Claim<T>) {
        if slot
            .as_ref()
            .is_none_or(|c| claim.confidence > c.confidence)
        {
            *slot = Some(claim);
        }
    }
}

/// daicho's own fingerprints in Recog's format (`data/daicho/`), tried
/// before Recog's file of the same name: what Recog lacks (Windows 10 and
/// 11 by build number).
const OWN: &[(&str, &str)] = &[(
    "snmp_sysdescr",
    include_str!("../data/daicho/snmp_sysdescr.xml"),
)];

/// The Recog databases daicho has input for, built in: (file, the banner
/// it matches, how much a match says).
const BUILT_IN: &[(&str, &str, f32)] = &[
    (
        "snmp_sysdescr",
        include_str!("../data/recog/snmp_sysdescr.xml"),
        0.85,
    ),
    (
        "snmp_sysobjid",
        include_str!("../data/recog/snmp_sysobjid.xml"),
        0.8,
    ),
    (
        "http_servers",
        include_str!("../data/recog/http_servers.xml"),
        0.5,
    ),
    (
        "http_wwwauth",
        include_str!("../data/recog/http_wwwauth.xml"),
        0.6,
    ),
    (
        "html_title",
        include_str!("../data/recog/html_title.xml"),
        0.6,
    ),
    ("favicons", include_str!("../data/recog/favicons.xml"), 0.6),
    (
        "ssh_banners",
        include_str!("../data/recog/ssh_banners.xml"),
        0.6,
    ),
    (
        "x509_subjects",
        include_str!("../data/recog/x509_subjects.xml"),
        0.65,
    ),
    (
        "x509_issuers",
        include_str!("../data/recog/x509_issuers.xml"),
        0.55,
    ),
    (
        "mdns_device-info_txt",
        include_str!("../data/recog/mdns_device-info_txt.xml"),
        0.8,
    ),
    (
        "dhcp_vendor_class",
        include_str!("../data/recog/dhcp_vendor_class.xml"),
        0.7,
    ),
];

/// The built-in databases, each read (its patterns compiled) the first
/// time a text of its kind comes: for each Recog file, daicho's own file of
/// that name first if there is one.
/// Returns its index in [`BUILT_IN`] (the memo's key) too.
fn database(name: &str) -> Option<(usize, &'static [recog::Database], f32)> {
    static DATABASES: [OnceLock<Vec<recog::Database>>; BUILT_IN.len()] =
        [const { OnceLock::new() }; BUILT_IN.len()];
    let index = BUILT_IN.iter().position(|(n, _, _)| *n == name)?;
    let (name, xml, weight) = BUILT_IN[index];
    let files = DATABASES[index].get_or_init(|| {
        let parse = |name: &str, xml: &str| {
            recog::Database::parse(name, xml)
                .unwrap_or_else(|e| panic!("built-in fingerprint file {name}: {e}"))
        };
        let own = OWN.iter().filter(|(n, _)| *n == name);
        let mut files: Vec<recog::Database> = own.map(|(n, xml)| parse(n, xml)).collect();
        files.push(parse(name, xml));
        files
    });
    Some((index, files, weight))
}

/// The tables a site installed at start ([`install_tables`]).
static SITE_TABLES: OnceLock<Tables> = OnceLock::new();

/// The tables identification uses: the site's if it installed them, else
/// the built-in ones.
pub fn tables() -> &'static Tables {
    static BUILT_IN_TABLES: OnceLock<Tables> = OnceLock::new();
    SITE_TABLES
        .get()
        .unwrap_or_else(|| BUILT_IN_TABLES.get_or_init(Tables::builtin))
}

/// Installs a site's tables (the built-in ones with its file's rows) for
/// the rest of the process; false if tables were already installed.
pub fn install_tables(tables: Tables) -> bool {
    SITE_TABLES.set(tables).is_ok()
}

/// Compiles every built-in database now rather than on the first device
/// that needs it (a benchmark measures matching, not compiling).
pub fn warm_up() {
    for (name, _, _) in BUILT_IN {
        database(name);
    }
}

/// Whether an enterprise number names agent software or an OS rather than
/// a maker (data/platform-enterprises.tsv): net-snmp answers for a
/// Teltonika as for a NAS.
pub fn is_platform_enterprise(number: u32) -> bool {
    static NUMBERS: OnceLock<Vec<u32>> = OnceLock::new();
    NUMBERS
        .get_or_init(|| {
            include_str!("../data/platform-enterprises.tsv")
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split('\t').next()?.parse::<u32>().ok())
                .collect()
        })
        .contains(&number)
}

/// What `observations` (one device's, from every probe) say it is.
pub fn identify(observations: &[&Observation], tables: &Tables) -> Identity {
    let mut identity = Identity::default();
    for o in observations {
        if let Some(vendor) = &o.vendor {
            maker_from_registry(&mut identity, tables, vendor, "oui", 0.3);
        }
        if let Some(snmp) = o.snmp.as_deref() {
            if let Some(name) = &snmp.enterprise_name
                && !snmp.enterprise.is_some_and(is_platform_enterprise)
            {
                maker_from_registry(&mut identity, tables, name, "enterprise", 0.45);
            }
            if let Some(oid) = &snmp.sys_object_id {
                if let Some(kind) = tables.kind_of_object_id(oid) {
                    Identity::offer(&mut identity.kind, claim(kind, "sysobjectid", 0.7));
                }
                recog_match(&mut identity, tables, "snmp_sysobjid", oid);
            }
            if let Some(descr) = &snmp.sys_descr {
                recog_match(&mut identity, tables, "snmp_sysdescr", descr);
            }
            if snmp.printer.is_some() {
                Identity::offer(&mut identity.kind, claim(Kind::Printer, "printer-mib", 0.9));
            }
            if snmp.ups.is_some() {
                Identity::offer(&mut identity.kind, claim(Kind::Other, "ups-mib", 0.8));
            }
            if let Some(entity) = snmp.entities.iter().find(|e| e.model.is_some()) {
                let model = entity.model.clone().unwrap_or_default();
                Identity::offer(&mut identity.model, claim(model, "entity-mib", 0.8));
            }
        }
        if let Some(ssdp) = o.ssdp.as_deref() {
            for device in ssdp.devices.iter().filter(|d| d.depth == 0) {
                if let Some(maker) = &device.manufacturer {
                    Identity::offer(&mut identity.maker, claim(maker.clone(), "upnp", 0.8));
                }
                if let Some(model) = device.model_name.as_ref().or(device.model_number.as_ref()) {
                    Identity::offer(&mut identity.model, claim(model.clone(), "upnp", 0.8));
                }
                if let Some(kind) = device
                    .device_type
                    .as_deref()
                    .and_then(|t| tables.kind_of_upnp_type(t))
                {
                    Identity::offer(&mut identity.kind, claim(kind, "upnp", 0.6));
                }
            }
        }
        if let Some(http) = o.http.as_deref() {
            for banner in &http.banners {
                if let Some(server) = &banner.server {
                    recog_match(&mut identity, tables, "http_servers", server);
                }
                if let Some(realm) = &banner.realm {
                    recog_match(&mut identity, tables, "http_wwwauth", realm);
                }
                if let Some(title) = &banner.title {
                    recog_match(&mut identity, tables, "html_title", title);
                }
                if let Some(md5) = &banner.favicon_md5 {
                    recog_match(&mut identity, tables, "favicons", md5);
                }
                if let Some(certificate) = &banner.certificate {
                    if let Some(cn) = &certificate.subject_cn {
                        recog_match(&mut identity, tables, "x509_subjects", &format!("CN={cn}"));
                    }
                    if let Some(cn) = &certificate.issuer_cn {
                        recog_match(&mut identity, tables, "x509_issuers", &format!("CN={cn}"));
                    }
                }
            }
        }
        if let Some(ssh) = o.ssh.as_deref() {
            // Recog matches what follows "SSH-2.0-".
            let software = ssh.banner.splitn(3, '-').nth(2).unwrap_or(&ssh.banner);
            recog_match(&mut identity, tables, "ssh_banners", software.trim());
        }
        // A DICOM node — accepted or not, it answered as one — is imaging
        // equipment (a modality, a PACS, a viewing workstation); its
        // implementation says which toolkit it runs.
        if let Some(dicom) = o.dicom.as_deref() {
            Identity::offer(
                &mut identity.kind,
                claim(Kind::MedicalImaging, "dicom", 0.75),
            );
            if let Some(name) = &dicom.implementation_version_name {
                let software = Software {
                    vendor: None,
                    product: name.clone(),
                    version: None,
                };
                if !identity.software.iter().any(|s| s.value == software) {
                    identity.software.push(claim(software, "dicom", 0.9));
                }
            }
        }
        // A DHCP client: its vendor class names its OS or maker (Recog);
        // the options it asks for, in its order, are its DHCP stack's.
        if let Some(client) = o.dhcp_client.as_deref() {
            if let Some(class) = &client.vendor_class {
                recog_match(&mut identity, tables, "dhcp_vendor_class", class);
            }
            if let Some(stack) = tables.dhcp_stack(&client.parameter_list) {
                let os = Os {
                    family: stack.os.clone(),
                    vendor: None,
                    version: None,
                };
                Identity::offer(&mut identity.os, claim(os, "dhcp-options", 0.5));
                if let Some(kind) = stack.kind {
                    Identity::offer(&mut identity.kind, claim(kind, "dhcp-options", 0.4));
                }
            }
        }
        // An HL7 MLLP listener: an HIS/LIS interface engine, a server.
        if o.hl7.is_some() {
            Identity::offer(&mut identity.kind, claim(Kind::Server, "hl7", 0.45));
        }
        // A computer name over NetBIOS is mostly a Windows PC's (also
        // Samba servers', NASes' and some printers': a weak sign, beaten by
        // anything surer).
        if o.netbios
            .as_deref()
            .is_some_and(|n| n.computer_name.is_some())
        {
            Identity::offer(
                &mut identity.kind,
                claim(Kind::Workstation, "netbios", 0.35),
            );
        }
        if let Some(mdns) = o.mdns.as_deref() {
            for service in &mdns.services {
                if let Some(kind) = tables.kind_of_mdns_service(&service.service_type) {
                    Identity::offer(&mut identity.kind, claim(kind, "mdns", 0.6));
                }
                if service.service_type.starts_with("_device-info.") {
                    for (key, value) in &service.txt {
                        recog_match(
                            &mut identity,
                            tables,
                            "mdns_device-info_txt",
                            &format!("{key}={value}"),
                        );
                    }
                }
            }
        }
    }
    if let Some(os) = &identity.os {
        let family = os.value.family.to_lowercase();
        let product = os.value.version.as_deref().unwrap_or("").to_lowercase();
        let server = family.contains("server") || product.contains("server");
        let kind = match family.as_str() {
            f if f.starts_with("windows") && server => Some(Kind::Server),
            f if f.starts_with("windows") || f.starts_with("mac os") || f == "macos" => {
                Some(Kind::Workstation)
            }
            _ => None,
        };
        if let Some(kind) = kind {
            Identity::offer(&mut identity.kind, claim(kind, &os.source, 0.4));
        }
    }
    identity
}

/// Texts already matched, and what they gave: a fleet shows the same
/// sysDescr or Server header on hundreds of devices. Keyed by the text's
/// 64-bit hash (no copy of it per lookup). Bounded by two generations:
/// when the newer fills, it becomes the older and the oldest is dropped, so
/// a fleet's texts, found again in the older one, are carried forward
/// while texts seen once (a sysDescr with a host name in it) age out.
/// Clearing everything when full instead made the bench match every
/// fleet text again each 4,096 new texts (33 → 19 µs per device).
fn memoized(
    database: usize,
    text: &str,
    run: impl FnOnce() -> Option<recog::Values>,
) -> Option<std::sync::Arc<recog::Values>> {
    use std::hash::BuildHasher;
    type Found = Option<std::sync::Arc<recog::Values>>;
    type Memo = std::collections::HashMap<(usize, u64), Found>;
    #[derive(Default)]
    struct Generations {
        newer: Memo,
        older: Memo,
    }
    const GENERATION: usize = 8_192;
    static MEMO: OnceLock<(
        std::sync::Mutex<Generations>,
        std::collections::hash_map::RandomState,
    )> = OnceLock::new();
    let (memo, hasher) = MEMO.get_or_init(Default::default);
    let key = (database, hasher.hash_one(text));
    let remember = |memo: &mut Generations, found: Found| {
        if memo.newer.len() >= GENERATION {
            memo.older = std::mem::take(&mut memo.newer);
        }
        memo.newer.insert(key, found);
    };
    {
        let mut memo = memo.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = memo.newer.get(&key) {
            return found.clone();
        }
        if let Some(found) = memo.older.remove(&key) {
            remember(&mut memo, found.clone());
            return found;
        }
    }
    let found = run().map(std::sync::Arc::new);
    remember(
        &mut memo.lock().unwrap_or_else(|e| e.into_inner()),
        found.clone(),
    );
    found
}

fn claim<T>(value: T, source: &str, confidence: f32) -> Claim<T> {
    Claim {
        value,
        source: source.to_owned(),
        confidence,
    }
}

/// A maker from a registry's organization name: the table's canonical name
/// if it knows the maker, else the name as registered.
fn maker_from_registry(
    identity: &mut Identity,
    tables: &Tables,
    organization: &str,
    source: &str,
    confidence: f32,
) {
    let row = tables.maker(organization);
    let maker = row.map_or_else(|| organization.to_owned(), |m| m.name.clone());
    Identity::offer(&mut identity.maker, claim(maker, source, confidence));
    // A maker that makes one kind (a pump maker) says what it is, when
    // nothing surer does.
    if let Some(kind) = row.and_then(|m| m.kind) {
        Identity::offer(&mut identity.kind, claim(kind, source, 0.5));
    }
}

/// Runs one Recog database over `text` and offers what its first match
/// says.
fn recog_match(identity: &mut Identity, tables: &Tables, name: &str, text: &str) {
    let Some((index, files, weight)) = database(name) else {
        return;
    };
    let Some(values) = memoized(index, text, || {
        files
            .iter()
            .find_map(|d| d.first_match(text))
            .map(|(_, values)| values)
    }) else {
        return;
    };
    let source = format!("recog:{name}");
    let get = |key: &str| values.get(key).filter(|v| !v.is_empty()).cloned();
    if let Some(maker) = get("hw.vendor").or_else(|| get("os.vendor")) {
        Identity::offer(&mut identity.maker, claim(maker, &source, weight));
    }
    if let Some(model) = get("hw.product") {
        Identity::offer(&mut identity.model, claim(model, &source, weight));
    }
    if let Some(family) = get("os.product").or_else(|| get("os.family")) {
        let os = Os {
            family,
            vendor: get("os.vendor"),
            version: get("os.version"),
        };
        // A version makes the claim a little surer than one without.
        let sure = if os.version.is_some() {
            weight
        } else {
            weight - 0.05
        };
        Identity::offer(&mut identity.os, claim(os, &source, sure));
    }
    if let Some(device) = get("hw.device").or_else(|| get("os.device"))
        && let Some(kind) = tables.kind_of_recog_device(&device)
    {
        Identity::offer(&mut identity.kind, claim(kind, &source, weight));
    }
    if let Some(product) = get("service.product") {
        let software = Software {
            vendor: get("service.vendor"),
            product,
            version: get("service.version"),
        };
        if !identity.software.iter().any(|s| s.value == software) {
            identity.software.push(claim(software, &source, weight));
        }
    }
}

#[cfg(test)]
mod tests;
