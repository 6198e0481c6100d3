//! The identity a TLS certificate carries: a fingerprint that stays the same
//! on every address the device answers from, its names, and the addresses it
//! lists (an address of another network in a SAN is a second leg).

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// A server certificate as seen, trusted or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Certificate {
    /// SHA-256 of the DER bytes, lower-case hex.
    pub sha256: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    pub san_dns: Vec<String>,
    pub san_ip: Vec<IpAddr>,
    /// RFC 3339 times.
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub self_signed: bool,
}

/// Bounds on what a hostile certificate can make us keep.
const MAX_NAMES: usize = 64;

impl Certificate {
    /// Reads a DER certificate. The fingerprint needs no parsing, so a
    /// certificate too odd to parse still gives it.
    pub fn from_der(der: &[u8]) -> Result<Certificate, String> {
        let sha256 = daicho_report::text::hex(&Sha256::digest(der));
        let mut certificate = Certificate {
            sha256,
            ..Certificate::default()
        };
        let (_, parsed) = match X509Certificate::from_der(der) {
            Ok(parsed) => parsed,
            Err(_) => return Ok(certificate),
        };
        let common_name = |name: &x509_parser::x509::X509Name<'_>| {
            name.iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map(crate::text::clean)
        };
        certificate.subject_cn = common_name(parsed.subject());
        certificate.issuer_cn = common_name(parsed.issuer());
        certificate.self_signed = parsed.subject() == parsed.issuer();
        let time = |t: x509_parser::time::ASN1Time| {
            jiff::Timestamp::from_second(t.timestamp())
                .ok()
                .map(|t| t.to_string())
        };
        certificate.not_before = time(parsed.validity().not_before);
        certificate.not_after = time(parsed.validity().not_after);
        if let Ok(Some(san)) = parsed.subject_alternative_name() {
            for name in san.value.general_names.iter().take(MAX_NAMES) {
                match name {
                    GeneralName::DNSName(dns) => certificate.san_dns.push(crate::text::clean(dns)),
                    GeneralName::IPAddress(bytes) => {
                        let ip = match bytes.len() {
                            4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                            16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                            _ => None,
                        };
                        certificate.san_ip.extend(ip);
                    }
                    _ => {}
                }
            }
        }
        Ok(certificate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_still_has_a_fingerprint() {
        let c = Certificate::from_der(b"not a certificate").unwrap();
        assert_eq!(c.sha256.len(), 64);
        assert_eq!(c.subject_cn, None);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(der in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = Certificate::from_der(&der);
        }
    }
}
