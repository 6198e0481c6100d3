//! SNMP failures as a hospital IT person needs them: what went wrong and what
//! to check, in English and Japanese. Never contains a secret.

use async_snmp::Error;
use async_snmp::v3::ReportStatus;

/// Why a profile did not work against a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Diagnosis {
    #[error(
        "no answer: no SNMP agent, UDP 161 filtered, or a wrong community \
         (v1/v2c agents stay silent on a wrong community) / 応答なし: SNMPエージェントがない、\
         UDP 161 が遮断されている、またはコミュニティ名の誤り"
    )]
    TimeoutCommunity,
    #[error(
        "no answer to SNMPv3: no SNMP agent, UDP 161 filtered, or v3 not enabled on the device \
         / SNMPv3 に応答なし: エージェントがない、UDP 161 が遮断されている、または v3 が無効"
    )]
    TimeoutV3,
    #[error(
        "unknown user name: the device has no SNMPv3 user of this name; check the user in the profile \
         and on the device / ユーザー名が機器に登録されていません"
    )]
    UnknownUserName,
    #[error(
        "wrong digest: wrong authentication password or protocol (e.g. SHA vs SHA-256) \
         / 認証パスワードまたは認証方式(SHA/SHA-256等)の誤り"
    )]
    WrongDigest,
    #[error(
        "decryption error: wrong privacy password or protocol (e.g. AES vs DES) \
         / 暗号化パスワードまたは暗号方式(AES/DES等)の誤り"
    )]
    DecryptionError,
    #[error(
        "not in time window: the device's SNMP engine time did not match; it usually recovers on retry, \
         otherwise the device's engine boots/time are stale / 時刻ウィンドウ外(再試行で回復することが多い)"
    )]
    NotInTimeWindow,
    #[error(
        "unsupported security level: the user exists but not at this level (noAuthNoPriv/authNoPriv/authPriv); \
         match the profile's auth/privacy to the device / セキュリティレベルが機器の設定と一致しません"
    )]
    UnsupportedSecurityLevel,
    #[error(
        "unknown engine ID reported by the device; retry, or check for a device answering for another / エンジンIDが不明"
    )]
    UnknownEngineId,
    #[error("the device refused the request: {0} / 機器が要求を拒否しました")]
    Refused(String),
    #[error("{0}")]
    Config(String),
    #[error("SNMP failure: {0}")]
    Other(String),
}

impl Diagnosis {
    /// Classifies a library error. `v3` selects the timeout wording.
    pub(crate) fn from_error(error: &Error, v3: bool) -> Diagnosis {
        match error {
            Error::Exchange { source, .. } => Diagnosis::from_error(source, v3),
            Error::SharedOperation { source } => Diagnosis::from_error(source, v3),
            Error::Timeout { .. } | Error::ConstructionTimeout { .. } if v3 => Diagnosis::TimeoutV3,
            Error::Timeout { .. } | Error::ConstructionTimeout { .. } => {
                Diagnosis::TimeoutCommunity
            }
            Error::Report { status, .. } => match status.as_ref() {
                ReportStatus::UnknownUserName { .. } => Diagnosis::UnknownUserName,
                ReportStatus::WrongDigest { .. } => Diagnosis::WrongDigest,
                ReportStatus::DecryptionError { .. } => Diagnosis::DecryptionError,
                ReportStatus::NotInTimeWindow { .. } => Diagnosis::NotInTimeWindow,
                ReportStatus::UnsupportedSecurityLevel { .. } => {
                    Diagnosis::UnsupportedSecurityLevel
                }
                ReportStatus::UnknownEngineId { .. } => Diagnosis::UnknownEngineId,
                other => Diagnosis::Other(other.to_string()),
            },
            // The response failed our own authentication check: the device
            // keyed it with another password.
            Error::Auth { .. } => Diagnosis::WrongDigest,
            Error::Snmp { status, .. } => Diagnosis::Refused(status.to_string()),
            other => Diagnosis::Other(other.to_string()),
        }
    }
}
