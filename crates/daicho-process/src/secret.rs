//! A secret named in a configuration file: the value itself, `env:NAME` or
//! `file:/path`; it never prints.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A community string or password. Written in `agent.toml` as the value itself,
/// as `env:NAME` (read from the environment) or `file:/path` (first line of a
/// file, e.g. one readable only by the agent's user). It never appears in
/// `Debug` output, logs, errors or reports.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    /// Written in the configuration itself (not `env:` or `file:`).
    inline: bool,
}

/// Why a secret reference could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set (referenced as env:{0})")]
    MissingEnv(String),
    #[error("cannot read the secret file {path}: {reason}")]
    File { path: String, reason: String },
}

impl Secret {
    /// Resolves `env:NAME`, `file:PATH` or a literal value.
    pub fn resolve(text: &str) -> Result<Secret, SecretError> {
        if let Some(name) = text.strip_prefix("env:") {
            std::env::var(name)
                .map(|value| Secret {
                    value,
                    inline: false,
                })
                .map_err(|_| SecretError::MissingEnv(name.to_owned()))
        } else if let Some(path) = text.strip_prefix("file:") {
            let content = std::fs::read_to_string(path).map_err(|e| SecretError::File {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            let value = content.lines().next().unwrap_or("").to_owned();
            Ok(Secret {
                value,
                inline: false,
            })
        } else {
            Ok(Secret {
                value: text.to_owned(),
                inline: true,
            })
        }
    }

    /// The secret's value, for the library that sends it (SNMP, HTTP).
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// True when the value was written in the configuration file itself.
    pub fn is_inline(&self) -> bool {
        self.inline
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Secret::resolve(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_from_env_and_file() {
        // SAFETY: set before any thread of this test reads the environment.
        unsafe { std::env::set_var("DAICHO_TEST_COMMUNITY", "from-env") };
        assert_eq!(
            Secret::resolve("env:DAICHO_TEST_COMMUNITY")
                .unwrap()
                .expose(),
            "from-env"
        );
        assert!(matches!(
            Secret::resolve("env:DAICHO_NOT_SET_ANYWHERE"),
            Err(SecretError::MissingEnv(_))
        ));
        let path = std::env::temp_dir().join(format!("daicho-secret-{}", std::process::id()));
        std::fs::write(&path, "from-file\n").unwrap();
        let secret = Secret::resolve(&format!("file:{}", path.display())).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(secret.expose(), "from-file");
        assert!(matches!(
            Secret::resolve("file:/nonexistent/daicho"),
            Err(SecretError::File { .. })
        ));
    }
}
