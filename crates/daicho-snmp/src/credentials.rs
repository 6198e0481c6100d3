//! Credential profiles as `agent.toml` lists them (`[[snmp.profile]]`), tried in
//! order per host. Secrets are held in [`Secret`] (`daicho-process`), which
//! never prints its value.

use daicho_process::Secret;
use serde::Deserialize;

/// SNMP version of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Version {
    #[serde(rename = "1")]
    V1,
    #[serde(rename = "2c")]
    V2c,
    #[serde(rename = "3")]
    V3,
}

/// SNMPv3 authentication protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthProtocol {
    Md5,
    /// SHA-1 (`SHA` in net-snmp).
    Sha,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// SNMPv3 privacy (encryption) protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrivProtocol {
    Des,
    /// AES-128 (`AES` in net-snmp).
    Aes,
    /// AES-192 with Blumenthal key extension (net-snmp's `AES-192`).
    Aes192,
    /// AES-256 with Blumenthal key extension (net-snmp's `AES-256`).
    Aes256,
    /// AES-192 with Reeder key extension (Cisco's `aes 192`).
    Aes192c,
    /// AES-256 with Reeder key extension (Cisco's `aes 256`).
    Aes256c,
}

/// One way to talk to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A name for people and for `--profile`; never the secret itself.
    pub name: String,
    pub version: Version,
    /// v1/v2c.
    pub community: Option<Secret>,
    /// v3: USM user name.
    pub user: Option<String>,
    pub auth: Option<AuthProtocol>,
    pub auth_password: Option<Secret>,
    pub privacy: Option<PrivProtocol>,
    pub priv_password: Option<Secret>,
    /// How this profile's devices write strings that are not UTF-8, when
    /// not as the site (`[snmp] charset`, CP932 by default): e.g. `gbk`,
    /// `windows-1251`.
    #[serde(default)]
    pub charset: Option<daicho_report::text::Charset>,
    /// v1/v2c: read a switch's forwarding table once per VLAN with the
    /// community `community@VLAN` (community string indexing, as Cisco IOS
    /// keeps one bridge table per VLAN), the VLANs from CISCO-VTP-MIB.
    #[serde(default)]
    pub vlan_communities: bool,
}

impl Profile {
    /// Checks that the fields fit the version and the security level; the
    /// message names the profile and the missing or extra field.
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        match self.version {
            Version::V1 | Version::V2c => {
                if self.community.is_none() {
                    return Err(format!("SNMP profile {name:?}: v1/v2c needs community"));
                }
                if self
                    .community
                    .as_ref()
                    .is_some_and(|c| c.expose().contains('@'))
                    && self.vlan_communities
                {
                    return Err(format!(
                        "SNMP profile {name:?}: with vlan_communities the community is the base one, without @VLAN"
                    ));
                }
                if self.user.is_some() || self.auth.is_some() || self.privacy.is_some() {
                    return Err(format!(
                        "SNMP profile {name:?}: user/auth/privacy are SNMPv3 settings; set version = \"3\""
                    ));
                }
            }
            Version::V3 => {
                if self.vlan_communities {
                    return Err(format!(
                        "SNMP profile {name:?}: vlan_communities is community string indexing, for v1/v2c only (v3 uses contexts)"
                    ));
                }
                if self.user.is_none() {
                    return Err(format!("SNMP profile {name:?}: v3 needs user"));
                }
                if self.auth.is_some() != self.auth_password.is_some() {
                    return Err(format!(
                        "SNMP profile {name:?}: auth and auth_password go together"
                    ));
                }
                if self.privacy.is_some() != self.priv_password.is_some() {
                    return Err(format!(
                        "SNMP profile {name:?}: privacy and priv_password go together"
                    ));
                }
                if self.privacy.is_some() && self.auth.is_none() {
                    return Err(format!(
                        "SNMP profile {name:?}: privacy needs auth too (there is no noAuthPriv level in SNMPv3)"
                    ));
                }
            }
        }
        Ok(())
    }

    /// True when any of the profile's secrets is written in the configuration
    /// file itself, which must then be readable by the agent's user only.
    pub fn has_inline_secret(&self) -> bool {
        [&self.community, &self.auth_password, &self.priv_password]
            .into_iter()
            .flatten()
            .any(Secret::is_inline)
    }

    /// `v2c`, or the v3 security level (`noAuthNoPriv`, `authNoPriv`, `authPriv`).
    pub fn security_level(&self) -> &'static str {
        match (self.version, self.auth.is_some(), self.privacy.is_some()) {
            (Version::V1, ..) => "v1",
            (Version::V2c, ..) => "v2c",
            (Version::V3, false, _) => "noAuthNoPriv",
            (Version::V3, true, false) => "authNoPriv",
            (Version::V3, true, true) => "authPriv",
        }
    }

    /// The library's credentials for this profile.
    pub(crate) fn to_auth(&self) -> Result<async_snmp::Auth, String> {
        self.auth_for(None)
    }

    /// The credentials for VLAN `vlan`'s bridge table: `community@vlan`.
    pub(crate) fn vlan_auth(&self, vlan: u16) -> Result<async_snmp::Auth, String> {
        self.auth_for(Some(vlan))
    }

    fn auth_for(&self, vlan: Option<u16>) -> Result<async_snmp::Auth, String> {
        self.validate()?;
        let community = || {
            let base = self
                .community
                .as_ref()
                .map(Secret::expose)
                .unwrap_or_default();
            match vlan {
                Some(vlan) => format!("{base}@{vlan}"),
                None => base.to_owned(),
            }
        };
        Ok(match self.version {
            Version::V1 => async_snmp::Auth::v1(community()),
            Version::V2c => async_snmp::Auth::v2c(community()),
            Version::V3 => {
                let user = async_snmp::UsmConfig::new(self.user.clone().unwrap_or_default());
                let auth_password = self
                    .auth_password
                    .as_ref()
                    .map(Secret::expose)
                    .unwrap_or_default();
                let priv_password = self
                    .priv_password
                    .as_ref()
                    .map(Secret::expose)
                    .unwrap_or_default();
                let user = match (self.auth, self.privacy) {
                    (Some(auth), Some(privacy)) => user.auth_priv(
                        auth_protocol(auth),
                        auth_password,
                        priv_protocol(privacy),
                        priv_password,
                    ),
                    (Some(auth), None) => user.auth(auth_protocol(auth), auth_password),
                    (None, _) => Ok(user),
                }
                // The library's message names the rule broken (e.g. a password
                // too short), never the password.
                .map_err(|e| format!("SNMP profile {:?}: {e}", self.name))?;
                user.into()
            }
        })
    }
}

fn auth_protocol(auth: AuthProtocol) -> async_snmp::AuthProtocol {
    match auth {
        AuthProtocol::Md5 => async_snmp::AuthProtocol::Md5,
        AuthProtocol::Sha => async_snmp::AuthProtocol::Sha1,
        AuthProtocol::Sha224 => async_snmp::AuthProtocol::Sha224,
        AuthProtocol::Sha256 => async_snmp::AuthProtocol::Sha256,
        AuthProtocol::Sha384 => async_snmp::AuthProtocol::Sha384,
        AuthProtocol::Sha512 => async_snmp::AuthProtocol::Sha512,
    }
}

fn priv_protocol(privacy: PrivProtocol) -> async_snmp::PrivProtocol {
    match privacy {
        PrivProtocol::Des => async_snmp::PrivProtocol::Des,
        PrivProtocol::Aes => async_snmp::PrivProtocol::Aes128,
        PrivProtocol::Aes192 => async_snmp::PrivProtocol::Aes192Blumenthal,
        PrivProtocol::Aes256 => async_snmp::PrivProtocol::Aes256Blumenthal,
        PrivProtocol::Aes192c => async_snmp::PrivProtocol::Aes192Reeder,
        PrivProtocol::Aes256c => async_snmp::PrivProtocol::Aes256Reeder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        profile: Vec<Profile>,
    }

    fn parse(text: &str) -> Vec<Profile> {
        toml::from_str::<File>(text).unwrap().profile
    }

    #[test]
    fn profiles_and_levels() {
        let profiles = parse(
            r#"
            [[profile]]
            name = "ro"
            version = "2c"
            community = "hospital-ro"
            [[profile]]
            name = "v3"
            version = "3"
            user = "daicho"
            auth = "sha256"
            auth_password = "auth-pass-1"
            privacy = "aes"
            priv_password = "priv-pass-1"
            "#,
        );
        assert_eq!(profiles[0].security_level(), "v2c");
        assert_eq!(profiles[1].security_level(), "authPriv");
        for p in &profiles {
            p.validate().unwrap();
            p.to_auth().unwrap();
        }
    }

    #[test]
    fn secrets_never_print() {
        let profiles = parse(
            "[[profile]]\nname = \"ro\"\nversion = \"2c\"\ncommunity = \"s3cret-community\"\n",
        );
        let shown = format!("{:?}", profiles[0]);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn inconsistent_profiles_are_refused_by_name() {
        let cases = [
            ("version = \"2c\"", "needs community"),
            (
                "version = \"3\"\nuser = \"u\"\nvlan_communities = true",
                "for v1/v2c only",
            ),
            (
                "version = \"2c\"\ncommunity = \"ro@10\"\nvlan_communities = true",
                "without @VLAN",
            ),
            (
                "version = \"2c\"\ncommunity = \"x\"\nuser = \"u\"",
                "SNMPv3 settings",
            ),
            ("version = \"3\"", "needs user"),
            (
                "version = \"3\"\nuser = \"u\"\nauth = \"sha\"",
                "go together",
            ),
            (
                "version = \"3\"\nuser = \"u\"\nprivacy = \"aes\"\npriv_password = \"12345678\"",
                "needs auth too",
            ),
        ];
        for (body, expected) in cases {
            let profiles = parse(&format!("[[profile]]\nname = \"bad\"\n{body}\n"));
            let err = profiles[0].validate().unwrap_err();
            assert!(err.contains("\"bad\"") && err.contains(expected), "{err}");
        }
    }
}
