//! Fingerprint tables as data: the built-in file under `config/fingerprints/`
//! (versioned, each row with its source), plus a site's own file loaded at
//! run time without recompiling.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The built-in files, with the names used in messages.
const BUILTIN: &[(&str, &str)] = &[
    (
        "cellular-routers.toml",
        include_str!("../../../config/fingerprints/cellular-routers.toml"),
    ),
    (
        "remote-access.toml",
        include_str!("../../../config/fingerprints/remote-access.toml"),
    ),
    (
        "scoring.toml",
        include_str!("../../../config/fingerprints/scoring.toml"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    /// Cellular-router makers.
    #[serde(default)]
    enterprise: Vec<EnterpriseRow>,
    /// Cellular-router and module makers' MAC prefixes.
    #[serde(default)]
    oui: Vec<OuiRow>,
    /// Cellular routers' admin-page banners.
    #[serde(default)]
    banner: Vec<BannerRow>,
    /// Cellular makers by the IEEE registry's organisation name.
    #[serde(default)]
    oui_maker: Vec<OuiMakerRow>,
    /// Interface names of cellular (or USB) links.
    #[serde(default)]
    interface: Vec<InterfaceRow>,
    /// Interface names that a WWAN ifType does not make cellular.
    #[serde(default)]
    not_cellular: Vec<PrefixRow>,
    /// Text (sysDescr, module names) that says cellular.
    #[serde(default)]
    cellular_text: Vec<BannerRow>,
    #[serde(default)]
    remote_access: RemoteAccessRows,
    scores: Option<ScoreOverrides>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoteAccessRows {
    #[serde(default)]
    banner: Vec<BannerRow>,
    #[serde(default)]
    enterprise: Vec<EnterpriseRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OuiRow {
    prefix: String,
    maker: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OuiMakerRow {
    pattern: String,
    maker: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InterfaceRow {
    prefix: String,
    kind: LinkKind,
    source: String,
}

/// What an interface name says its link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A cellular data link.
    Cellular,
    /// A USB network link: a cellular dongle, or a BMC's virtual NIC.
    Usb,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrefixRow {
    prefix: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BannerRow {
    pattern: String,
    product: String,
    source: String,
}

/// How much each sign counts (config/fingerprints/scoring.toml).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Signs about one device must add up to this, or be two or more.
    pub threshold: f32,
    pub wwan_interface: f32,
    pub gateway_uplink: f32,
    pub cellular_enterprise: f32,
    pub cellular_oui: f32,
    pub cellular_banner: f32,
    pub cellular_interface_name: f32,
    pub usb_interface_name: f32,
    pub cellular_text: f32,
    pub modem_entity: f32,
    pub pref64: f32,
    pub unsanctioned_ipv6_router: f32,
    pub remote_access_banner: f32,
    pub remote_access_enterprise: f32,
}

/// A file's [scores]: any subset.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreOverrides {
    threshold: Option<f32>,
    wwan_interface: Option<f32>,
    gateway_uplink: Option<f32>,
    cellular_enterprise: Option<f32>,
    cellular_oui: Option<f32>,
    cellular_banner: Option<f32>,
    cellular_interface_name: Option<f32>,
    usb_interface_name: Option<f32>,
    cellular_text: Option<f32>,
    modem_entity: Option<f32>,
    pref64: Option<f32>,
    unsanctioned_ipv6_router: Option<f32>,
    remote_access_banner: Option<f32>,
    remote_access_enterprise: Option<f32>,
}

impl Default for Scores {
    /// Zero everywhere until the built-in scoring.toml is read.
    fn default() -> Self {
        Scores {
            threshold: 1.0,
            wwan_interface: 0.0,
            gateway_uplink: 0.0,
            cellular_enterprise: 0.0,
            cellular_oui: 0.0,
            cellular_banner: 0.0,
            cellular_interface_name: 0.0,
            usb_interface_name: 0.0,
            cellular_text: 0.0,
            modem_entity: 0.0,
            pref64: 0.0,
            unsanctioned_ipv6_router: 0.0,
            remote_access_banner: 0.0,
            remote_access_enterprise: 0.0,
        }
    }
}

impl ScoreOverrides {
    fn apply(self, scores: &mut Scores) {
        let ScoreOverrides {
            threshold,
            wwan_interface,
            gateway_uplink,
            cellular_enterprise,
            cellular_oui,
            cellular_banner,
            cellular_interface_name,
            usb_interface_name,
            cellular_text,
            modem_entity,
            pref64,
            unsanctioned_ipv6_router,
            remote_access_banner,
            remote_access_enterprise,
        } = self;
        for (value, slot) in [
            (threshold, &mut scores.threshold),
            (wwan_interface, &mut scores.wwan_interface),
            (gateway_uplink, &mut scores.gateway_uplink),
            (cellular_enterprise, &mut scores.cellular_enterprise),
            (cellular_oui, &mut scores.cellular_oui),
            (cellular_banner, &mut scores.cellular_banner),
            (cellular_interface_name, &mut scores.cellular_interface_name),
            (usb_interface_name, &mut scores.usb_interface_name),
            (cellular_text, &mut scores.cellular_text),
            (modem_entity, &mut scores.modem_entity),
            (pref64, &mut scores.pref64),
            (
                unsanctioned_ipv6_router,
                &mut scores.unsanctioned_ipv6_router,
            ),
            (remote_access_banner, &mut scores.remote_access_banner),
            (
                remote_access_enterprise,
                &mut scores.remote_access_enterprise,
            ),
        ] {
            if let Some(value) = value {
                *slot = value;
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnterpriseRow {
    number: u32,
    maker: String,
    source: String,
}

/// Why a fingerprint file could not be used (names the file and what to fix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FingerprintError(pub String);

/// The tables detection reads.
#[derive(Debug, Clone, Default)]
pub struct Fingerprints {
    cellular: BTreeMap<u32, String>,
    cellular_ouis: BTreeMap<[u8; 3], String>,
    /// (lower-case pattern, product).
    cellular_banners: Vec<(String, String)>,
    remote_access_makers: BTreeMap<u32, String>,
    /// (lower-case pattern, product).
    remote_access_banners: Vec<(String, String)>,
    /// (lower-case part of an IEEE organisation name, maker).
    cellular_oui_makers: Vec<(String, String)>,
    /// (lower-case name prefix, what the link is).
    link_names: Vec<(String, LinkKind)>,
    /// Lower-case name prefixes a WWAN ifType does not make cellular.
    not_cellular: Vec<String>,
    /// (case-insensitive expression, product).
    cellular_texts: Vec<(regex::Regex, String)>,
    pub scores: Scores,
}

impl Fingerprints {
    /// The tables shipped with daicho.
    pub fn builtin() -> Fingerprints {
        let mut tables = Fingerprints::default();
        for (name, text) in BUILTIN {
            tables
                .add(text, &format!("the built-in {name}"))
                .expect("the built-in fingerprint files are valid");
        }
        tables
    }

    /// The built-in tables plus a site's own file.
    pub fn with_file(path: &Path) -> Result<Fingerprints, FingerprintError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            FingerprintError(format!(
                "cannot read the fingerprint file {}: {e} / 指紋ファイルを読めません",
                path.display()
            ))
        })?;
        let mut tables = Fingerprints::builtin();
        tables.add(&text, &path.display().to_string())?;
        Ok(tables)
    }

    fn add(&mut self, text: &str, name: &str) -> Result<(), FingerprintError> {
        let file: File = toml::from_str(text)
            .map_err(|e| FingerprintError(format!("fingerprint file {name} is not valid: {e}")))?;
        if file.version != 1 {
            return Err(FingerprintError(format!(
                "fingerprint file {name} has version {}; this daicho reads version 1",
                file.version
            )));
        }
        let unsourced = |what: String| {
            FingerprintError(format!(
                "fingerprint file {name}: {what} has no source; say where the row comes from"
            ))
        };
        for (rows, table) in [
            (file.enterprise, &mut self.cellular),
            (
                file.remote_access.enterprise,
                &mut self.remote_access_makers,
            ),
        ] {
            for row in rows {
                if row.source.trim().is_empty() {
                    return Err(unsourced(format!("enterprise {}", row.number)));
                }
                table.insert(row.number, row.maker);
            }
        }
        for (rows, table) in [
            (file.banner, &mut self.cellular_banners),
            (file.remote_access.banner, &mut self.remote_access_banners),
        ] {
            for row in rows {
                if row.source.trim().is_empty() {
                    return Err(unsourced(format!("banner {:?}", row.pattern)));
                }
                if row.pattern.trim().len() < 4 {
                    return Err(FingerprintError(format!(
                        "fingerprint file {name}: banner pattern {:?} is too short to be specific",
                        row.pattern
                    )));
                }
                table.push((row.pattern.to_lowercase(), row.product));
            }
        }
        for row in file.oui_maker {
            if row.source.trim().is_empty() {
                return Err(unsourced(format!("oui_maker {:?}", row.pattern)));
            }
            self.cellular_oui_makers
                .push((row.pattern.to_lowercase(), row.maker));
        }
        for row in file.interface {
            if row.source.trim().is_empty() {
                return Err(unsourced(format!("interface {:?}", row.prefix)));
            }
            self.link_names.push((row.prefix.to_lowercase(), row.kind));
        }
        for row in file.not_cellular {
            if row.source.trim().is_empty() {
                return Err(unsourced(format!("not_cellular {:?}", row.prefix)));
            }
            self.not_cellular.push(row.prefix.to_lowercase());
        }
        for row in file.cellular_text {
            if row.source.trim().is_empty() {
                return Err(unsourced(format!("cellular_text {:?}", row.pattern)));
            }
            let expression = regex::RegexBuilder::new(&row.pattern)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| {
                    FingerprintError(format!(
                        "fingerprint file {name}: cellular_text {:?} is not a valid expression: {e}",
                        row.pattern
                    ))
                })?;
            self.cellular_texts.push((expression, row.product));
        }
        for row in file.oui {
            if row.source.trim().is_empty() {
                return Err(unsourced(format!("oui {:?}", row.prefix)));
            }
            let bytes: Vec<u8> = row
                .prefix
                .split([':', '-'])
                .filter_map(|b| u8::from_str_radix(b, 16).ok())
                .collect();
            let [a, b, c] = bytes[..] else {
                return Err(FingerprintError(format!(
                    "fingerprint file {name}: oui {:?} is not three bytes like \"00:1E:42\"",
                    row.prefix
                )));
            };
            self.cellular_ouis.insert([a, b, c], row.maker);
        }
        if let Some(scores) = file.scores {
            scores.apply(&mut self.scores);
        }
        Ok(())
    }

    /// The VPN/remote-access maker an enterprise number belongs to, if listed.
    pub fn remote_access_maker(&self, enterprise: u32) -> Option<&str> {
        self.remote_access_makers
            .get(&enterprise)
            .map(String::as_str)
    }

    /// The remote-access product a banner text names, if any.
    pub fn remote_access_product(&self, text: &str) -> Option<&str> {
        product(&self.remote_access_banners, text)
    }

    /// The cellular router a banner text names, if any.
    pub fn cellular_product(&self, text: &str) -> Option<&str> {
        product(&self.cellular_banners, text)
    }

    /// The cellular-router or module maker a MAC belongs to: by its prefix,
    /// or by the organisation the IEEE registry names for it (`vendor`).
    pub fn cellular_oui_maker(&self, mac: [u8; 6], vendor: Option<&str>) -> Option<&str> {
        if let Some(maker) = self.cellular_ouis.get(&[mac[0], mac[1], mac[2]]) {
            return Some(maker);
        }
        let vendor = vendor?.to_lowercase();
        self.cellular_oui_makers
            .iter()
            .find(|(pattern, _)| vendor.contains(pattern.as_str()))
            .map(|(_, maker)| maker.as_str())
    }

    /// What an interface's name says its link is, if anything.
    pub fn link_kind(&self, name: &str) -> Option<LinkKind> {
        let name = name.trim().to_lowercase();
        self.link_names
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix.as_str()))
            .map(|(_, kind)| *kind)
    }

    /// Whether a WWAN ifType on an interface of this name is something else.
    pub fn not_cellular(&self, name: &str) -> bool {
        let name = name.trim().to_lowercase();
        self.not_cellular
            .iter()
            .any(|p| name.starts_with(p.as_str()))
    }

    /// The cellular product a text (sysDescr, a module's name) names.
    pub fn cellular_text(&self, text: &str) -> Option<&str> {
        self.cellular_texts
            .iter()
            .find(|(expression, _)| expression.is_match(text))
            .map(|(_, product)| product.as_str())
    }

    /// The cellular-router maker an enterprise number belongs to, if listed.
    pub fn cellular_maker(&self, enterprise: u32) -> Option<&str> {
        self.cellular.get(&enterprise).map(String::as_str)
    }
}

/// The product of the first pattern `text` contains (case aside).
fn product<'a>(banners: &'a [(String, String)], text: &str) -> Option<&'a str> {
    let text = text.to_lowercase();
    banners
        .iter()
        .find(|(pattern, _)| text.contains(pattern.as_str()))
        .map(|(_, product)| product.as_str())
}
