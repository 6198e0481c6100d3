//! Texts for people, stored as what they say — a kind of text and its
//! values — and rendered in the reader's language when shown. Findings,
//! their evidence, merge reasons, diff items and audit entries are kept
//! this way, so a Japanese page never shows an English sentence stored
//! at scan time, and a better translation reaches old records too.
//!
//! The sentences are data: `texts.toml` beside this crate holds each kind
//! in English and Japanese, with `{name}` where a value goes. A value is
//! plain (an address, a name a device sent), another text (rendered in the
//! same language), or a list of values.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The language a person reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    /// `ja` or `en` (and their regional forms, `ja_JP.UTF-8`, `en-US`).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        let primary = tag.split(['_', '-', '.', '@']).next().unwrap_or_default();
        match primary {
            "ja" => Some(Lang::Ja),
            "en" | "c" | "posix" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of the process's locale (LC_ALL, LC_MESSAGES, LANG, in
    /// POSIX's order); English when none is set or it names another one.
    pub fn from_environment() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|value| !value.is_empty())
            .and_then(|value| Lang::from_tag(&value))
            .unwrap_or(Lang::En)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
}

macro_rules! texts {
    ($($variant:ident => $name:literal,)*) => {
        /// Every kind of text daicho writes for people; each has an English
        /// and a Japanese sentence in `texts.toml`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Text { $($variant,)* }

        impl Text {
            pub const ALL: &'static [Text] = &[$(Text::$variant,)*];

            /// The text of this name, if this build knows it.
            pub fn named(name: &str) -> Option<Text> {
                Text::ALL.iter().copied().find(|t| t.name() == name)
            }

            /// The name stored in records and used in `texts.toml`.
            pub fn name(self) -> &'static str {
                match self { $(Text::$variant => $name,)* }
            }
        }
    };
}

texts! {
    Verbatim => "verbatim",
    ADevice => "a_device",
    AnInterface => "an_interface",
    Unknown => "unknown",
    Interface => "interface",
    InterfaceIndex => "interface_index",
    Place => "place",
    IdentityKey => "identity_key",
    KeySshHostKey => "key_ssh_host_key",
    KeyTlsCertificate => "key_tls_certificate",
    KeySnmpEngineId => "key_snmp_engine_id",
    KeySerialNumber => "key_serial_number",
    KeyUpnpUdn => "key_upnp_udn",
    KeyMac => "key_mac",
    KeyNetbiosName => "key_netbios_name",
    KeyMdnsHost => "key_mdns_host",
    KeySnmpSysName => "key_snmp_sys_name",
    BannerPageTitle => "banner_page_title",
    BannerServerHeader => "banner_server_header",
    BannerRealm => "banner_realm",
    BannerCertificateSubject => "banner_certificate_subject",
    BannerCertificateIssuer => "banner_certificate_issuer",
    MoreSigns => "more_signs",
    // Findings, and their kinds.
    KindIpConflict => "kind_ip_conflict",
    KindProxyArp => "kind_proxy_arp",
    KindDualHomed => "kind_dual_homed",
    KindMobileRouter => "kind_mobile_router",
    KindRemoteAccess => "kind_remote_access",
    KindRogueDhcp => "kind_rogue_dhcp",
    KindUnknown => "kind_unknown",
    IpConflict => "ip_conflict",
    ProxyArp => "proxy_arp",
    DualHomedAddressTable => "dual_homed_address_table",
    DualHomedArpFlux => "dual_homed_arp_flux",
    DualHomedSharedIdentity => "dual_homed_shared_identity",
    MobileRouter => "mobile_router",
    RemoteAccess => "remote_access",
    RogueDhcpServer => "rogue_dhcp_server",
    RogueIpv6Router => "rogue_ipv6_router",
    // Evidence.
    IpConflictFrames => "ip_conflict_frames",
    ProxyArpRange => "proxy_arp_range",
    AddressTableLeg => "address_table_leg",
    ForwardingUnknown => "forwarding_unknown",
    ArpFluxAnswer => "arp_flux_answer",
    ArpFluxAnswerFrom => "arp_flux_answer_from",
    IdentityAnsweredAt => "identity_answered_at",
    AdjacentMacs => "adjacent_macs",
    Eui64LinkLocal => "eui64_link_local",
    CellularMac => "cellular_mac",
    CellularBanner => "cellular_banner",
    Pref64 => "pref64",
    GatewayUplinkPublic => "gateway_uplink_public",
    GatewayUplinkCarrierNat => "gateway_uplink_carrier_nat",
    WwanInterface => "wwan_interface",
    WwanInterfaceDefaultRoute => "wwan_interface_default_route",
    CellularLinkName => "cellular_link_name",
    CellularLinkNameDefaultRoute => "cellular_link_name_default_route",
    UsbLinkName => "usb_link_name",
    UsbLinkNameDefaultRoute => "usb_link_name_default_route",
    ModemModule => "modem_module",
    CellularSysDescr => "cellular_sys_descr",
    CellularEnterprise => "cellular_enterprise",
    RemoteAccessBanner => "remote_access_banner",
    RemoteAccessEnterprise => "remote_access_enterprise",
    DhcpOfferAnswered => "dhcp_offer_answered",
    DhcpOfferHeard => "dhcp_offer_heard",
    DhcpServerNotSanctioned => "dhcp_server_not_sanctioned",
    DhcpGatewayNotSanctioned => "dhcp_gateway_not_sanctioned",
    DhcpSeveralServers => "dhcp_several_servers",
    Ipv6AdvertNoneSanctioned => "ipv6_advert_none_sanctioned",
    Ipv6AdvertNotSanctioned => "ipv6_advert_not_sanctioned",
    Ipv6AdvertPrefixes => "ipv6_advert_prefixes",
    // Merge reasons.
    KeyUnusable => "key_unusable",
    UnusablePlaceholder => "unusable_placeholder",
    UnusableShared => "unusable_shared",
    KeyMatches => "key_matches",
    ConflictKeys => "conflict_keys",
    ConflictSameHost => "conflict_same_host",
    SameHostAs => "same_host_as",
    NamesAgree => "names_agree",
    NameAlone => "name_alone",
    NewDeviceNoIdentity => "new_device_no_identity",
    NewDeviceIdentifiedBy => "new_device_identified_by",
    ExistingDevice => "existing_device",
    NewDeviceOfReport => "new_device_of_report",
    ClaimedAddress => "claimed_address",
    SeenAtClaimedAddress => "seen_at_claimed_address",
    ClaimArpFlux => "claim_arp_flux",
    ClaimSnmpAddressTable => "claim_snmp_address_table",
    ClaimMdnsAddress => "claim_mdns_address",
    ClaimTlsSan => "claim_tls_san",
    LinkSameName => "link_same_name",
    LinkAdjacentMac => "link_adjacent_mac",
    // Diff items.
    DiffUndeclared => "diff_undeclared",
    NoName => "no_name",
    DiffChanged => "diff_changed",
    DiffOtherLeg => "diff_other_leg",
    DiffFlagDeclared => "diff_flag_declared",
    DiffFlagNotDeclared => "diff_flag_not_declared",
    DiffFlagUnsaid => "diff_flag_unsaid",
    DiffMissing => "diff_missing",
    DiffNeverSeen => "diff_never_seen",
    DiffLastSeen => "diff_last_seen",
    DiffMatchedByIp => "diff_matched_by_ip",
    // The inspection: MDS/SDS status, the checklist's answers.
    DisclosureSubmitted => "disclosure_submitted",
    DisclosureRequested => "disclosure_requested",
    DisclosureMissing => "disclosure_missing",
    Checklist21 => "checklist_2_1",
    Checklist22 => "checklist_2_2",
    Checklist23 => "checklist_2_3",
    Evidence21 => "evidence_2_1",
    Evidence22 => "evidence_2_2",
    Evidence23 => "evidence_2_3",
    RegisterDeclared => "register_declared",
    RegisterSanctioned => "register_sanctioned",
    RegisterRecorded => "register_recorded",
    // Audit entries.
    AuditMaintenance => "audit_maintenance",
    MethodVpn => "method_vpn",
    MethodLeasedLine => "method_leased_line",
    MethodMobileRouter => "method_mobile_router",
    MethodOther => "method_other",
    AuditIngest => "audit_ingest",
    AuditLedgerVersion => "audit_ledger_version",
    AuditSettle => "audit_settle",
    AuditSettleNewVersion => "audit_settle_new_version",
    AuditLinkConfirm => "audit_link_confirm",
    AuditLinkReject => "audit_link_reject",
    AuditNameRole => "audit_name_role",
    AuditName => "audit_name",
    AuditSignedIn => "audit_signed_in",
    AuditBlockedName => "audit_blocked_name",
    AuditBlockedAddress => "audit_blocked_address",
    AuditRegister => "audit_register",
    AuditDisclosure => "audit_disclosure",
    AuditSignOff => "audit_sign_off",
    ActionIngest => "action_ingest",
    ActionLedgerImport => "action_ledger_import",
    ActionLedgerEdit => "action_ledger_edit",
    ActionDiffSettle => "action_diff_settle",
    ActionLinkConfirm => "action_link_confirm",
    ActionLinkReject => "action_link_reject",
    ActionClientAdd => "action_client_add",
    ActionClientRemove => "action_client_remove",
    ActionUserAdd => "action_user_add",
    ActionUserRemove => "action_user_remove",
    ActionWebSignIn => "action_web_sign_in",
    ActionWebSignInBlocked => "action_web_sign_in_blocked",
    ActionRegisterEdit => "action_register_edit",
    ActionRegisterImport => "action_register_import",
    ActionDisclosureEdit => "action_disclosure_edit",
    ActionSignOff => "action_sign_off",
    SettleAccept => "settle_accept",
    SettleIgnore => "settle_ignore",
    SettleSanctioned => "settle_sanctioned",
    SettleRemoved => "settle_removed",
    SettleFalseFinding => "settle_false_finding",
}

/// A text: its kind and the values that go into it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, JsonSchema)]
pub struct Says {
    /// The kind of text (a name in `texts.toml`).
    pub text: String,
    /// The values, by the names the sentences use.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub with: BTreeMap<String, Param>,
}

/// One value in a text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Param {
    /// Shown as it is: an address, a number, a name a device sent.
    Value(String),
    /// Another text, rendered in the same language.
    Says(Says),
    /// A name another table gives in both languages (a ledger column's
    /// header): shown in the reader's.
    Term { en: String, ja: String },
    /// Several values, joined as the language lists them.
    List(Vec<Param>),
}

impl From<String> for Param {
    fn from(value: String) -> Param {
        Param::Value(value)
    }
}

impl From<&str> for Param {
    fn from(value: &str) -> Param {
        Param::Value(value.to_owned())
    }
}

impl From<Says> for Param {
    fn from(says: Says) -> Param {
        Param::Says(says)
    }
}

impl From<Text> for Param {
    fn from(text: Text) -> Param {
        Param::Says(Says::of(text))
    }
}

impl<T: Into<Param>> From<Vec<T>> for Param {
    fn from(values: Vec<T>) -> Param {
        Param::List(values.into_iter().map(Into::into).collect())
    }
}

impl Says {
    /// A text of this kind, its values still to be given with [`Says::with`].
    pub fn of(text: Text) -> Says {
        Says {
            text: text.name().to_owned(),
            with: BTreeMap::new(),
        }
    }

    /// A sentence kept as it was written: records made before texts were
    /// stored as data (shown the same in every language).
    pub fn verbatim(text: impl Into<String>) -> Says {
        Says::of(Text::Verbatim).with("text", text.into())
    }

    /// The text named `{prefix}_{name}` for a stored name (`settle_` +
    /// `accept`), or — a name this build does not know — the name as it is.
    pub fn named(prefix: &str, name: &str) -> Says {
        Text::named(&format!("{prefix}_{}", name.replace('-', "_")))
            .map_or_else(|| Says::verbatim(name), Says::of)
    }

    pub fn with(mut self, name: &str, value: impl Into<Param>) -> Says {
        self.with.insert(name.to_owned(), value.into());
        self
    }

    /// A name given in both languages (see [`Param::Term`]).
    pub fn term(self, name: &str, en: &str, ja: &str) -> Says {
        self.with(
            name,
            Param::Term {
                en: en.to_owned(),
                ja: ja.to_owned(),
            },
        )
    }

    /// A value shown as it is (`Display`).
    pub fn value(self, name: &str, value: impl std::fmt::Display) -> Says {
        self.with(name, value.to_string())
    }

    pub fn is(&self, text: Text) -> bool {
        self.text == text.name()
    }

    /// The sentence in `lang`. A kind this build does not know (a newer
    /// agent's) is shown as its name and values rather than dropped.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = String::new();
        self.render_into(lang, &mut out);
        out
    }

    fn render_into(&self, lang: Lang, out: &mut String) {
        let Some(entry) = catalog().get(&self.text) else {
            out.push_str(&self.text);
            for (name, value) in &self.with {
                out.push_str(&format!(" {name}="));
                value.render_into(lang, out);
            }
            return;
        };
        let mut rest = match lang {
            Lang::Ja => entry.ja.as_str(),
            Lang::En => entry.en.as_str(),
        };
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                return;
            };
            match self.with.get(&after[..close]) {
                Some(value) => value.render_into(lang, out),
                None => out.push('?'),
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
    }
}

impl Param {
    pub fn render(&self, lang: Lang) -> String {
        let mut out = String::new();
        self.render_into(lang, &mut out);
        out
    }

    fn render_into(&self, lang: Lang, out: &mut String) {
        match self {
            Param::Value(value) => out.push_str(value),
            Param::Says(says) => says.render_into(lang, out),
            Param::Term { en, ja } => out.push_str(match lang {
                Lang::Ja => ja,
                Lang::En => en,
            }),
            Param::List(values) => {
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        out.push_str(match lang {
                            Lang::Ja => "、",
                            Lang::En => ", ",
                        });
                    }
                    value.render_into(lang, out);
                }
            }
        }
    }
}

impl<'de> Deserialize<'de> for Says {
    /// A stored text, or — in records written before texts were data — a
    /// plain sentence, kept as [`Says::verbatim`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Says, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Sentence(String),
            Text {
                text: String,
                #[serde(default)]
                with: BTreeMap<String, Param>,
            },
        }
        Ok(match Stored::deserialize(deserializer)? {
            Stored::Sentence(sentence) => Says::verbatim(sentence),
            Stored::Text { text, with } => Says { text, with },
        })
    }
}

/// One kind of text in both languages.
#[derive(Debug, Deserialize)]
pub struct Sentences {
    pub en: String,
    pub ja: String,
}

/// Every sentence, by kind, from `texts.toml`.
pub fn catalog() -> &'static BTreeMap<String, Sentences> {
    static CATALOG: OnceLock<BTreeMap<String, Sentences>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        toml::from_str(include_str!("../texts.toml"))
            .expect("texts.toml is checked by a test on every build")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `{name}`s a sentence uses.
    fn placeholders(sentence: &str) -> std::collections::BTreeSet<&str> {
        sentence
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
            .collect()
    }

    /// Words of an English sentence left in a Japanese one: three or more
    /// lowercase ASCII words in a row outside `{…}` (names such as
    /// "SNMP", "MAC" or "ENTITY-MIB" are not sentences).
    fn english_run(sentence: &str) -> Option<String> {
        let outside = outside_values(sentence);
        let mut run: Vec<&str> = Vec::new();
        // Words split at spaces: `[dhcp] sanctioned_servers` is a setting's
        // name, not English.
        let outside = outside.replace(
            ['、', '。', '（', '）', '：', ',', '.', ':', ';', '(', ')'],
            " ",
        );
        for word in outside.split_whitespace() {
            if word.chars().all(|c| c.is_ascii_lowercase()) && word.len() > 1 {
                run.push(word);
                if run.len() >= 3 {
                    return Some(run.join(" "));
                }
            } else {
                run.clear();
            }
        }
        None
    }

    /// Whether a sentence has a lowercase English word outside `{…}`.
    fn has_words(sentence: &str) -> bool {
        outside_values(sentence)
            .split(|c: char| !c.is_ascii_alphabetic())
            .any(|w| w.len() > 1 && w.chars().all(|c| c.is_ascii_lowercase()))
    }

    fn outside_values(sentence: &str) -> String {
        let mut outside = String::new();
        let mut depth = 0;
        for c in sentence.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ if depth == 0 => outside.push(c),
                _ => outside.push(' '),
            }
        }
        outside
    }

    fn is_japanese(c: char) -> bool {
        matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}')
    }

    #[test]
    fn every_kind_of_text_has_both_languages_with_the_same_values() {
        let catalog = catalog();
        for text in Text::ALL {
            let entry = catalog
                .get(text.name())
                .unwrap_or_else(|| panic!("texts.toml has no [{}]", text.name()));
            assert!(!entry.en.trim().is_empty(), "{}: no English", text.name());
            assert_eq!(
                placeholders(&entry.en),
                placeholders(&entry.ja),
                "{}: the two languages use different values",
                text.name()
            );
            if *text == Text::Verbatim {
                continue;
            }
            // Only a text of names and values alone ("{name} (ifIndex
            // {index})") may be the same in both languages.
            assert!(
                entry.ja.chars().any(is_japanese) || !has_words(&entry.ja),
                "{}: the Japanese is not Japanese: {:?}",
                text.name(),
                entry.ja
            );
            assert_eq!(
                english_run(&entry.ja),
                None,
                "{}: English left in the Japanese: {:?}",
                text.name(),
                entry.ja
            );
        }
        for name in catalog.keys() {
            assert!(
                Text::ALL.iter().any(|t| t.name() == name),
                "texts.toml has [{name}], which no code writes"
            );
        }
    }

    #[test]
    fn every_kind_renders_in_both_languages_with_every_value_filled() {
        for text in Text::ALL {
            let entry = &catalog()[text.name()];
            let mut says = Says::of(*text);
            for name in placeholders(&entry.en) {
                says = says.with(name, "198.18.1.5");
            }
            for lang in [Lang::En, Lang::Ja] {
                let shown = says.render(lang);
                assert!(!shown.contains('{'), "{shown}");
            }
        }
    }

    #[test]
    fn nested_texts_and_lists_render_in_the_readers_language() {
        let says = Says::of(Text::IdentityAnsweredAt)
            .with(
                "key",
                Says::of(Text::IdentityKey)
                    .with("kind", Text::KeySshHostKey)
                    .with("value", "SHA256:abc"),
            )
            .with("places", vec!["A", "B"]);
        let ja = says.render(Lang::Ja);
        assert!(ja.contains("SSH ホスト鍵 SHA256:abc"), "{ja}");
        assert!(ja.contains("A、B"), "{ja}");
        assert!(says.render(Lang::En).contains("SSH host key SHA256:abc"));
    }

    #[test]
    fn old_sentences_and_unknown_kinds_are_kept_not_dropped() {
        let old: Says = serde_json::from_str("\"one host answers at x\"").unwrap();
        assert_eq!(old.render(Lang::Ja), "one host answers at x");
        let newer: Says =
            serde_json::from_str(r#"{"text":"from_a_newer_agent","with":{"ip":"198.18.1.5"}}"#)
                .unwrap();
        assert_eq!(newer.render(Lang::Ja), "from_a_newer_agent ip=198.18.1.5");
        let round: Says = serde_json::from_str(&serde_json::to_string(&newer).unwrap()).unwrap();
        assert_eq!(round, newer);
    }

    #[test]
    fn locales_name_the_language() {
        assert_eq!(Lang::from_tag("ja_JP.UTF-8"), Some(Lang::Ja));
        assert_eq!(Lang::from_tag("en-US"), Some(Lang::En));
        assert_eq!(Lang::from_tag("C.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr_FR"), None);
    }
}
