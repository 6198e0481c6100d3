//! The SSH host key of a device, without logging in: the strongest identity
//! of a Linux-based appliance, the same on every address it answers from.
//!
//! Only the first half of the key exchange (RFC 4253 §7, RFC 5656, RFC 8731)
//! is needed: the server sends its host key in its first key-exchange reply,
//! before any secret is agreed. So the probe sends its banner, a KEXINIT, and
//! a KEX_ECDH_INIT whose public value is the curve's base point (a valid
//! point whose private key is known to all — nothing is ever encrypted with
//! it), reads the reply's host key blob, and closes: what `ssh-keyscan`
//! prints, as `SHA256:` + unpadded base64. A client library (`russh`) would
//! bring a full crypto stack to finish an exchange this probe never needs.
//! Wire parsing lives in [`wire`]: checked, bounded, never panics.

pub mod wire;

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use wire::{KexInit, MSG_KEX_ECDH_REPLY, MSG_KEXINIT, PacketError};

/// What a server showed of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// The server's identification line, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`.
    pub banner: String,
    /// e.g. `ssh-ed25519`
    pub key_type: String,
    /// `SHA256:` + unpadded base64 of the key blob, as OpenSSH prints it.
    pub fingerprint: String,
    /// The key exchange the server agreed to.
    pub kex: String,
}

/// Why no host key came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    Connect(String),
    Timeout,
    /// The server spoke, but not SSH 2, or sent something unreadable.
    Protocol(String),
    /// No key exchange in common (the server offers only older ones);
    /// the banner is still known.
    NoCommonKex {
        banner: String,
        offered: String,
    },
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeError::Connect(e) => write!(f, "cannot connect: {e}"),
            ProbeError::Timeout => write!(f, "no answer in time"),
            ProbeError::Protocol(e) => write!(f, "not an SSH 2 server: {e}"),
            ProbeError::NoCommonKex { banner, offered } => write!(
                f,
                "{banner}: no key exchange in common (server offers {offered})"
            ),
        }
    }
}

/// The fingerprint OpenSSH shows for a host key blob.
pub fn fingerprint(key_blob: &[u8]) -> String {
    let digest = Sha256::digest(key_blob);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}

/// Asks `target` for its host key within `timeout`.
pub async fn host_key(target: SocketAddr, timeout: Duration) -> Result<HostKey, ProbeError> {
    tokio::time::timeout(timeout, exchange(target))
        .await
        .unwrap_or(Err(ProbeError::Timeout))
}

const OUR_BANNER: &[u8] = concat!("SSH-2.0-daicho_", env!("CARGO_PKG_VERSION"), "\r\n").as_bytes();

async fn exchange(target: SocketAddr) -> Result<HostKey, ProbeError> {
    let stream = TcpStream::connect(target)
        .await
        .map_err(|e| ProbeError::Connect(e.to_string()))?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let io = |e: std::io::Error| ProbeError::Protocol(e.to_string());
    write.write_all(OUR_BANNER).await.map_err(io)?;
    let banner = read_banner(&mut read).await?;
    write
        .write_all(&wire::packet(&KexInit::ours().emit()))
        .await
        .map_err(io)?;
    // The server's KEXINIT (skipping any IGNORE or DEBUG messages).
    let theirs = loop {
        let payload = read_packet(&mut read).await?;
        if payload.first() == Some(&MSG_KEXINIT) {
            break KexInit::parse(&payload).map_err(|e| ProbeError::Protocol(e.to_string()))?;
        }
    };
    let Some(kex) = KexInit::ours().agree(&theirs) else {
        return Err(ProbeError::NoCommonKex {
            banner,
            offered: theirs.kex.join(","),
        });
    };
    write
        .write_all(&wire::packet(&wire::ecdh_init(kex)))
        .await
        .map_err(io)?;
    let key_blob = loop {
        let payload = read_packet(&mut read).await?;
        if payload.first() == Some(&MSG_KEX_ECDH_REPLY) {
            break wire::ecdh_reply_host_key(&payload)
                .map_err(|e| ProbeError::Protocol(e.to_string()))?;
        }
    };
    let key_type = wire::key_type(&key_blob).map_err(|e| ProbeError::Protocol(e.to_string()))?;
    Ok(HostKey {
        banner,
        key_type,
        fingerprint: fingerprint(&key_blob),
        kex: kex.name().to_owned(),
    })
}

/// The server's identification: lines before it are allowed (RFC 4253 §4.2),
/// within bounds.
async fn read_banner<R: tokio::io::AsyncBufRead + Unpin>(
    read: &mut R,
) -> Result<String, ProbeError> {
    for _ in 0..32 {
        let mut line = Vec::new();
        let n = (&mut *read)
            .take(256)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| ProbeError::Protocol(e.to_string()))?;
        if n == 0 {
            return Err(ProbeError::Protocol("closed before its banner".into()));
        }
        let text = daicho_report::text::clean_text(
            &String::from_utf8_lossy(&line),
            daicho_report::text::MAX_LINE,
        );
        if text.starts_with("SSH-2.0-") || text.starts_with("SSH-1.99-") {
            return Ok(text);
        }
        if text.starts_with("SSH-") {
            return Err(ProbeError::Protocol(format!("old protocol: {text}")));
        }
    }
    Err(ProbeError::Protocol("no SSH banner".into()))
}

async fn read_packet<R: tokio::io::AsyncRead + Unpin>(read: &mut R) -> Result<Vec<u8>, ProbeError> {
    let mut length = [0u8; 4];
    let protocol = |e: std::io::Error| ProbeError::Protocol(e.to_string());
    read.read_exact(&mut length).await.map_err(protocol)?;
    let length = wire::packet_length(length)
        .map_err(|e: PacketError| ProbeError::Protocol(e.to_string()))?;
    let mut body = vec![0u8; length];
    read.read_exact(&mut body).await.map_err(protocol)?;
    wire::payload(&body)
        .map(<[u8]>::to_vec)
        .map_err(|e| ProbeError::Protocol(e.to_string()))
}
