//! Fingerprint tables as data: the built-in file under `config/fingerprints/`
//! (versioned, each row with its source), plus a site's own file loaded at
//! run time without recompiling.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

const BUILTIN: &str = include_str!("../../../config/fingerprints/cellular-routers.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default)]
    enterprise: Vec<EnterpriseRow>,
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
}

impl Fingerprints {
    /// The tables shipped with daicho.
    pub fn builtin() -> Fingerprints {
        let mut tables = Fingerprints::default();
        tables
            .add(BUILTIN, "the built-in cellular-routers.toml")
            .expect("the built-in fingerprint file is valid");
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
        for row in file.enterprise {
            if row.source.trim().is_empty() {
                return Err(FingerprintError(format!(
                    "fingerprint file {name}: enterprise {} has no source; say where the row comes from",
                    row.number
                )));
            }
            self.cellular.insert(row.number, row.maker);
        }
        Ok(())
    }

    /// The cellular-router maker an enterprise number belongs to, if listed.
    pub fn cellular_maker(&self, enterprise: u32) -> Option<&str> {
        self.cellular.get(&enterprise).map(String::as_str)
    }
}
