//! daicho's own identification tables, as data files with sources
//! (`data/*.tsv`): makers by the name the IEEE and IANA registries give
//! them (medical devices, printers, Japanese network equipment), kinds by
//! sysObjectID prefix, by Recog's device names, by UPnP device type and by
//! mDNS service. A site adds or overrides rows in a TOML file
//! ([`Tables::with_site_file`]).

use serde::{Deserialize, Serialize};

/// 種別: what kind of device, in the ledger's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Server,
    Workstation,
    Switch,
    Router,
    Firewall,
    WirelessAp,
    Vpn,
    /// Other network equipment (device servers, KVMs, media gateways).
    Network,
    MobileRouter,
    Printer,
    MedicalImaging,
    MedicalMonitor,
    MedicalPump,
    MedicalAnalyzer,
    MedicalOther,
    /// IoT and everything else (cameras, phones, UPSes, building control).
    Other,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::Server,
        Kind::Workstation,
        Kind::Switch,
        Kind::Router,
        Kind::Firewall,
        Kind::WirelessAp,
        Kind::Vpn,
        Kind::Network,
        Kind::MobileRouter,
        Kind::Printer,
        Kind::MedicalImaging,
        Kind::MedicalMonitor,
        Kind::MedicalPump,
        Kind::MedicalAnalyzer,
        Kind::MedicalOther,
        Kind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Server => "server",
            Kind::Workstation => "workstation",
            Kind::Switch => "switch",
            Kind::Router => "router",
            Kind::Firewall => "firewall",
            Kind::WirelessAp => "wireless_ap",
            Kind::Vpn => "vpn",
            Kind::Network => "network",
            Kind::MobileRouter => "mobile_router",
            Kind::Printer => "printer",
            Kind::MedicalImaging => "medical_imaging",
            Kind::MedicalMonitor => "medical_monitor",
            Kind::MedicalPump => "medical_pump",
            Kind::MedicalAnalyzer => "medical_analyzer",
            Kind::MedicalOther => "medical_other",
            Kind::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name.trim())
    }

    /// The ledger's 種別 column (as hospitals write it).
    pub fn ledger_kind(self) -> &'static str {
        match self {
            Kind::Server => "サーバ",
            Kind::Workstation => "端末PC",
            Kind::Switch
            | Kind::Router
            | Kind::Firewall
            | Kind::WirelessAp
            | Kind::Vpn
            | Kind::Network => "ネットワーク機器",
            Kind::MobileRouter => "モバイルルータ",
            Kind::Printer => "プリンタ",
            Kind::MedicalImaging
            | Kind::MedicalMonitor
            | Kind::MedicalPump
            | Kind::MedicalAnalyzer
            | Kind::MedicalOther => "医療機器",
            Kind::Other => "その他",
        }
    }

    /// The finer kind, in Japanese.
    pub fn japanese(self) -> &'static str {
        match self {
            Kind::Server => "サーバ",
            Kind::Workstation => "端末PC",
            Kind::Switch => "ネットワーク機器（スイッチ）",
            Kind::Router => "ネットワーク機器（ルータ）",
            Kind::Firewall => "ネットワーク機器（ファイアウォール）",
            Kind::WirelessAp => "ネットワーク機器（無線アクセスポイント）",
            Kind::Vpn => "ネットワーク機器（VPN 装置）",
            Kind::Network => "ネットワーク機器（その他）",
            Kind::MobileRouter => "モバイルルータ",
            Kind::Printer => "プリンタ・複合機",
            Kind::MedicalImaging => "医療機器（画像診断装置）",
            Kind::MedicalMonitor => "医療機器（生体情報モニタ）",
            Kind::MedicalPump => "医療機器（輸液・シリンジポンプ）",
            Kind::MedicalAnalyzer => "医療機器（検体検査装置）",
            Kind::MedicalOther => "医療機器（その他）",
            Kind::Other => "その他（IoT 等）",
        }
    }

    pub fn english(self) -> &'static str {
        match self {
            Kind::Server => "server",
            Kind::Workstation => "PC / workstation",
            Kind::Switch => "network equipment (switch)",
            Kind::Router => "network equipment (router)",
            Kind::Firewall => "network equipment (firewall)",
            Kind::WirelessAp => "network equipment (wireless AP)",
            Kind::Vpn => "network equipment (VPN)",
            Kind::Network => "network equipment (other)",
            Kind::MobileRouter => "mobile router",
            Kind::Printer => "printer / MFP",
            Kind::MedicalImaging => "medical device (imaging modality)",
            Kind::MedicalMonitor => "medical device (patient monitor)",
            Kind::MedicalPump => "medical device (infusion pump)",
            Kind::MedicalAnalyzer => "medical device (analyzer)",
            Kind::MedicalOther => "medical device (other)",
            Kind::Other => "IoT / other",
        }
    }
}

/// A maker as the registries name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maker {
    /// Lower case; matched as a substring of the registry's name.
    #[serde(rename = "match")]
    pub pattern: String,
    /// How the ledger writes the maker.
    pub name: String,
    /// What it makes, when that is one kind.
    pub kind: Option<Kind>,
}

/// Every table, built in and from the site's file.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    makers: Vec<Maker>,
    /// (sysObjectID prefix with a trailing '.', kind), longest first.
    object_ids: Vec<(String, Kind)>,
    /// Recog's device name in lower case → kind.
    recog_devices: std::collections::HashMap<String, Kind>,
    /// (UPnP device type substring, kind).
    upnp_types: Vec<(String, Kind)>,
    /// (DNS-SD service type prefix, kind).
    mdns_services: Vec<(String, Kind)>,
    /// DHCP clients by the options they ask for.
    dhcp_stacks: Vec<DhcpStack>,
}

/// A DHCP client stack known by its parameter request list (option 55).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpStack {
    /// The options asked for, in order.
    pub options: Vec<u8>,
    /// The OS family it belongs to.
    pub os: String,
    pub kind: Option<Kind>,
}

/// A site's additions (TOML): `[[maker]] match = "acme medical"
/// name = "Acme Medical" kind = "medical_monitor"`, `[[object_id]]
/// prefix = "1.3.6.1.4.1.99999" kind = "medical_imaging"`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteFile {
    #[serde(default)]
    maker: Vec<Maker>,
    #[serde(default)]
    object_id: Vec<SiteObjectId>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteObjectId {
    prefix: String,
    kind: Kind,
}

/// A site file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "{file}: {reason}\n識別テーブルのファイル {file} を読み込めません（kind は server, workstation, switch, router, firewall, wireless_ap, vpn, network, mobile_router, printer, medical_imaging, medical_monitor, medical_pump, medical_analyzer, medical_other, other のいずれか）"
)]
pub struct SiteFileError {
    pub file: String,
    pub reason: String,
}

impl Tables {
    /// daicho's built-in tables.
    pub fn builtin() -> Tables {
        let kinds = |text: &str| -> Vec<(String, Kind)> {
            rows(text)
                .filter_map(|fields| {
                    Some((
                        fields.first()?.to_string(),
                        Kind::from_name(fields.get(1)?)?,
                    ))
                })
                .collect()
        };
        let mut tables = Tables {
            makers: rows(include_str!("../data/makers.tsv"))
                .filter_map(|fields| {
                    Some(Maker {
                        pattern: fields.first()?.to_lowercase(),
                        name: fields.get(1)?.to_string(),
                        kind: fields.get(2).and_then(|k| Kind::from_name(k)),
                    })
                })
                .collect(),
            object_ids: kinds(include_str!("../data/sysobjectid-kinds.tsv")),
            // Reversed: of two rows for a name, the first is kept.
            recog_devices: kinds(include_str!("../data/recog-device-kinds.tsv"))
                .into_iter()
                .rev()
                .map(|(name, kind)| (name.to_lowercase(), kind))
                .collect(),
            upnp_types: kinds(include_str!("../data/upnp-device-kinds.tsv")),
            mdns_services: kinds(include_str!("../data/mdns-service-kinds.tsv")),
            dhcp_stacks: rows(include_str!("../data/dhcp-parameter-lists.tsv"))
                .filter_map(|fields| {
                    let options: Option<Vec<u8>> = fields
                        .first()?
                        .split(',')
                        .map(|n| n.trim().parse().ok())
                        .collect();
                    Some(DhcpStack {
                        options: options?,
                        os: fields.get(1)?.to_string(),
                        kind: fields.get(2).and_then(|k| Kind::from_name(k)),
                    })
                })
                .collect(),
        };
        tables.sort();
        tables
    }

    /// The built-in tables with a site's rows before them (a site row wins).
    pub fn with_site_file(mut self, file: &str, text: &str) -> Result<Tables, SiteFileError> {
        let site: SiteFile = toml::from_str(text).map_err(|e| SiteFileError {
            file: file.to_owned(),
            reason: e.to_string(),
        })?;
        let mut makers: Vec<Maker> = site
            .maker
            .into_iter()
            .map(|m| Maker {
                pattern: m.pattern.to_lowercase(),
                ..m
            })
            .collect();
        makers.append(&mut self.makers);
        self.makers = makers;
        let mut ids: Vec<(String, Kind)> = site
            .object_id
            .into_iter()
            .map(|o| (o.prefix, o.kind))
            .collect();
        ids.append(&mut self.object_ids);
        self.object_ids = ids;
        self.sort();
        Ok(self)
    }

    fn sort(&mut self) {
        for (prefix, _) in &mut self.object_ids {
            let trimmed = prefix.trim().trim_start_matches('.').trim_end_matches('.');
            *prefix = format!("{trimmed}.");
        }
        // Longest prefix first; among equals, the first given (a site's).
        self.object_ids
            .sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
    }

    /// The maker a registry's organization name belongs to.
    pub fn maker(&self, organization: &str) -> Option<&Maker> {
        let name = organization.to_lowercase();
        self.makers.iter().find(|m| name.contains(&m.pattern))
    }

    pub fn kind_of_object_id(&self, oid: &str) -> Option<Kind> {
        let oid = format!("{}.", oid.trim().trim_start_matches('.'));
        self.object_ids
            .iter()
            .find(|(prefix, _)| oid.starts_with(prefix.as_str()))
            .map(|(_, kind)| *kind)
    }

    pub fn kind_of_recog_device(&self, device: &str) -> Option<Kind> {
        self.recog_devices.get(&device.to_lowercase()).copied()
    }

    pub fn kind_of_upnp_type(&self, device_type: &str) -> Option<Kind> {
        self.upnp_types
            .iter()
            .find(|(needle, _)| device_type.contains(needle.as_str()))
            .map(|(_, kind)| *kind)
    }

    /// The DHCP stack that asks for exactly these options in this order.
    pub fn dhcp_stack(&self, options: &[u8]) -> Option<&DhcpStack> {
        (!options.is_empty())
            .then(|| self.dhcp_stacks.iter().find(|s| s.options == options))
            .flatten()
    }

    pub fn kind_of_mdns_service(&self, service_type: &str) -> Option<Kind> {
        self.mdns_services
            .iter()
            .find(|(prefix, _)| service_type.starts_with(prefix.as_str()))
            .map(|(_, kind)| *kind)
    }
}

/// A data file's rows: tab-separated fields, `#` comments and blank lines
/// skipped.
fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::trim).collect())
}
