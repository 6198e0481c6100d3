//! Careful HTTP/TLS banners for the daicho agent: one `GET /` per configured
//! port, with a short timeout and a capped body, never credentials, never a
//! redirect followed. It records the status, `Server`, the
//! `WWW-Authenticate` realm and the HTML `<title>` (a router's admin page
//! names its model there), the MD5 of `/favicon.ico` (one more GET, only to
//! a server that answered, and only if configured), and for TLS the
//! certificate's SHA-256 fingerprint,
//! subject, issuer, SANs and validity — addresses in SANs are evidence of
//! other networks.
//!
//! Client: `reqwest` (requested) over rustls, accepting any certificate for
//! fingerprinting only. rustls speaks TLS 1.2/1.3 only; an old device's
//! handshake failure is recorded as such rather than adding OpenSSL. The
//! parsers of what devices send ([`html_title`], [`auth_realm`],
//! [`Certificate::from_der`]) are pure, fuzzed and never panic.

mod certificate;
mod text;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use certificate::Certificate;
pub use text::{auth_realm, html_title};

/// Ports that must never get an HTTP request: raw printing (JetDirect
/// 9100–9102) and LPD print a request's bytes as a job on paper.
pub const NEVER_PORTS: &[u16] = &[515, 9100, 9101, 9102];

/// How patient and how greedy to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BannerConfig {
    /// Connecting, the handshake and the answer together.
    pub timeout: Duration,
    /// Bytes of body read at most (the title is near the top; a favicon
    /// larger than this is not hashed).
    pub body_cap: usize,
    /// Also `GET /favicon.ico` from a server that answered `GET /`.
    pub favicon: bool,
}

impl Default for BannerConfig {
    fn default() -> Self {
        BannerConfig {
            timeout: Duration::from_secs(3),
            body_cap: 64 * 1024,
            favicon: true,
        }
    }
}

/// What one port said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Banner {
    pub port: u16,
    pub tls: bool,
    pub status: Option<u16>,
    pub server: Option<String>,
    pub realm: Option<String>,
    pub title: Option<String>,
    /// Where a redirect points (not followed).
    pub location: Option<String>,
    pub certificate: Option<Certificate>,
    /// MD5 of `/favicon.ico` (lower-case hex), as Recog's favicons.xml
    /// keys them.
    pub favicon_md5: Option<String>,
    /// Why nothing (or only part) came back.
    pub error: Option<String>,
    /// Header values that were not UTF-8 (decoded as CP932): how, and
    /// their bytes.
    pub raw_text: Vec<daicho_report::RawText>,
}

/// Asks hosts for banners; one client for the whole scan.
pub struct Fetcher {
    client: reqwest::Client,
    config: BannerConfig,
}

impl Fetcher {
    /// `local` is the segment's own address: requests leave from it.
    pub fn new(config: BannerConfig, local: Option<IpAddr>) -> Result<Fetcher, String> {
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "daicho-agent/",
                env!("CARGO_PKG_VERSION"),
                " (inventory)"
            ))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .no_proxy()
            .pool_max_idle_per_host(0)
            .http1_only()
            .local_address(local)
            .tls_danger_accept_invalid_certs(true)
            .tls_danger_accept_invalid_hostnames(true)
            .tls_info(true)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Fetcher { client, config })
    }

    /// One `GET /` to `ip:port`, over TLS when `tls`.
    pub async fn fetch(&self, ip: IpAddr, port: u16, tls: bool) -> Banner {
        let mut banner = Banner {
            port,
            tls,
            ..Banner::default()
        };
        if NEVER_PORTS.contains(&port) {
            banner.error = Some("port refused: raw print port".into());
            return banner;
        }
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://{}/", SocketAddr::new(ip, port));
        let mut response = match self.client.get(&url).send().await {
            Ok(response) => response,
            Err(e) => {
                banner.error = Some(describe(&e, tls));
                return banner;
            }
        };
        banner.status = Some(response.status().as_u16());
        let mut raw_text = Vec::new();
        let mut header = |name: reqwest::header::HeaderName| {
            let bytes = response.headers().get(&name)?.as_bytes();
            let decoded = daicho_report::text::decode(bytes, Default::default());
            let field = || format!("port {port} {name}");
            raw_text.extend(daicho_report::text::raw_record(field, bytes, &decoded));
            Some(text::clean(&decoded.text))
        };
        banner.server = header(reqwest::header::SERVER);
        banner.location = header(reqwest::header::LOCATION);
        banner.realm = header(reqwest::header::WWW_AUTHENTICATE).and_then(|h| auth_realm(&h));
        let content_type = header(reqwest::header::CONTENT_TYPE);
        banner.raw_text = raw_text;
        banner.certificate = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate())
            .and_then(|der| Certificate::from_der(der).ok());
        let (body, cut) = read_capped(&mut response, self.config.body_cap).await;
        banner.error = cut;
        banner.title = html_title(&body, content_type.as_deref());
        if self.config.favicon {
            banner.favicon_md5 = self.favicon_md5(&url).await;
        }
        banner
    }

    /// The MD5 of `/favicon.ico` if the server gives a whole one: a 200
    /// with a body of at least one byte and less than the cap (a cut one
    /// would hash to nothing anyone knows). A failure here costs nothing
    /// but the hash.
    async fn favicon_md5(&self, root: &str) -> Option<String> {
        use md5::{Digest, Md5};
        let mut response = self
            .client
            .get(format!("{root}favicon.ico"))
            .send()
            .await
            .ok()?;
        if response.status() != reqwest::StatusCode::OK {
            return None;
        }
        let (body, cut) = read_capped(&mut response, self.config.body_cap).await;
        if cut.is_some() || body.is_empty() || body.len() >= self.config.body_cap {
            return None;
        }
        Some(daicho_report::text::hex(&Md5::digest(&body)))
    }
}

/// Reads at most `cap` bytes of a body; a transfer that breaks off keeps
/// what came and says why.
pub async fn read_capped(
    response: &mut reqwest::Response,
    cap: usize,
) -> (Vec<u8>, Option<String>) {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = cap - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= cap {
                    return (body, None);
                }
            }
            Ok(None) => return (body, None),
            Err(e) => return (body, Some(format!("body cut short: {}", chain(&e)))),
        }
    }
}

/// The error and its causes in one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Says what failed in the words a person needs; an old device's TLS is
/// named as such.
fn describe(error: &reqwest::Error, tls: bool) -> String {
    let text = chain(error);
    let lower = text.to_lowercase();
    if tls && (lower.contains("protocolversion") || lower.contains("protocol version")) {
        return "TLS handshake failed: protocol version (the device offers only TLS 1.0/1.1 \
                or older; its certificate cannot be read without weakening TLS)"
            .into();
    }
    if tls && lower.contains("handshake") {
        return format!("TLS handshake failed: {text}");
    }
    if error.is_timeout() {
        return "no answer in time".into();
    }
    if error.is_connect() {
        return "connection refused or unreachable".into();
    }
    text
}
