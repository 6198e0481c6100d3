//! The few SSH transport messages the host-key probe exchanges before any
//! encryption (RFC 4253 §6–7, RFC 5656 §4): packet framing, KEXINIT, and the
//! ECDH init and reply. Readers check every length against what is there.

pub const MSG_KEXINIT: u8 = 20;
pub const MSG_KEX_ECDH_INIT: u8 = 30;
pub const MSG_KEX_ECDH_REPLY: u8 = 31;

/// RFC 4253 §6.1: implementations must accept packets up to 35000 bytes.
const MAX_PACKET: usize = 35_000;

/// Why bytes are not the expected message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketError {
    TooLong(usize),
    TooShort,
    BadPadding,
    Truncated,
    UnexpectedMessage(u8),
    NotText,
}

impl std::fmt::Display for PacketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PacketError::TooLong(n) => write!(f, "packet of {n} bytes is too long"),
            PacketError::TooShort => write!(f, "packet too short"),
            PacketError::BadPadding => write!(f, "bad padding length"),
            PacketError::Truncated => write!(f, "message cut short"),
            PacketError::UnexpectedMessage(m) => write!(f, "unexpected message {m}"),
            PacketError::NotText => write!(f, "a name is not printable ASCII"),
        }
    }
}

/// Frames a payload as an unencrypted binary packet: length, padding length,
/// payload, at least 4 bytes of padding to a multiple of 8.
pub fn packet(payload: &[u8]) -> Vec<u8> {
    let unpadded = 4 + 1 + payload.len();
    let mut padding = 8 - unpadded % 8;
    if padding < 4 {
        padding += 8;
    }
    let length = 1 + payload.len() + padding;
    let mut bytes = Vec::with_capacity(4 + length);
    bytes.extend_from_slice(&(length as u32).to_be_bytes());
    bytes.push(padding as u8);
    bytes.extend_from_slice(payload);
    bytes.resize(4 + length, 0);
    bytes
}

/// Checks a packet's length field; returns the bytes that follow it.
pub fn packet_length(field: [u8; 4]) -> Result<usize, PacketError> {
    let length = u32::from_be_bytes(field) as usize;
    if length > MAX_PACKET {
        return Err(PacketError::TooLong(length));
    }
    if length < 5 {
        return Err(PacketError::TooShort);
    }
    Ok(length)
}

/// The payload of a packet body (what follows the length field).
pub fn payload(body: &[u8]) -> Result<&[u8], PacketError> {
    let (&padding, rest) = body.split_first().ok_or(PacketError::TooShort)?;
    let end = rest
        .len()
        .checked_sub(usize::from(padding))
        .ok_or(PacketError::BadPadding)?;
    Ok(&rest[..end])
}

/// A bounded reader over a message.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PacketError> {
        if self.bytes.len() < n {
            return Err(PacketError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, PacketError> {
        Ok(self.take(1)?[0])
    }

    fn string(&mut self) -> Result<&'a [u8], PacketError> {
        let length = u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")) as usize;
        self.take(length)
    }

    fn name_list(&mut self) -> Result<Vec<String>, PacketError> {
        let text = self.string()?;
        if !text.iter().all(|b| b.is_ascii_graphic()) {
            return Err(PacketError::NotText);
        }
        let text = std::str::from_utf8(text).map_err(|_| PacketError::NotText)?;
        Ok(text
            .split(',')
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Key exchanges the probe can start without any secret of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kex {
    Curve25519,
    Curve25519Libssh,
    NistP256,
}

impl Kex {
    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Kex::Curve25519 => "curve25519-sha256",
            Kex::Curve25519Libssh => "curve25519-sha256@libssh.org",
            Kex::NistP256 => "ecdh-sha2-nistp256",
        }
    }
}

const OUR_KEX: [Kex; 3] = [Kex::Curve25519, Kex::Curve25519Libssh, Kex::NistP256];
const HOST_KEY_ALGORITHMS: &str = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,\
ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa";
/// Offered so the server accepts the KEXINIT; never used.
const CIPHERS: &str = "aes128-ctr,aes256-ctr,chacha20-poly1305@openssh.com,aes128-gcm@openssh.com";
const MACS: &str = "hmac-sha2-256,hmac-sha1";

/// The algorithm lists of a KEXINIT that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KexInit {
    pub kex: Vec<String>,
    pub host_key: Vec<String>,
}

impl KexInit {
    pub fn ours() -> KexInit {
        KexInit {
            kex: OUR_KEX.iter().map(|k| k.name().to_owned()).collect(),
            host_key: HOST_KEY_ALGORITHMS.split(',').map(str::to_owned).collect(),
        }
    }

    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![MSG_KEXINIT];
        // The cookie is for the exchange's hash, which is never computed.
        out.extend_from_slice(&[0x5a; 16]);
        for list in [
            self.kex.join(","),
            self.host_key.join(","),
            CIPHERS.into(),
            CIPHERS.into(),
            MACS.into(),
            MACS.into(),
            "none".into(),
            "none".into(),
            String::new(),
            String::new(),
        ] {
            put_string(&mut out, list.as_bytes());
        }
        out.push(0); // first_kex_packet_follows
        out.extend_from_slice(&[0; 4]);
        out
    }

    pub fn parse(payload: &[u8]) -> Result<KexInit, PacketError> {
        let mut reader = Reader { bytes: payload };
        match reader.byte()? {
            MSG_KEXINIT => {}
            other => return Err(PacketError::UnexpectedMessage(other)),
        }
        reader.take(16)?;
        let kex = reader.name_list()?;
        let host_key = reader.name_list()?;
        Ok(KexInit { kex, host_key })
    }

    /// The client's first choice the server also offers (RFC 4253 §7.1).
    pub fn agree(&self, server: &KexInit) -> Option<Kex> {
        OUR_KEX.into_iter().find(|k| {
            self.kex.iter().any(|n| n == k.name()) && server.kex.iter().any(|n| n == k.name())
        })
    }
}

/// X25519's base point (u = 9), a valid public value.
const X25519_BASE: [u8; 32] = {
    let mut point = [0u8; 32];
    point[0] = 9;
    point
};

/// P-256's generator G, uncompressed (SEC 2 §2.4.2).
const P256_GENERATOR: [u8; 65] = [
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
    0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2,
    0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
    0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51,
    0xf5,
];

/// KEX_ECDH_INIT with the curve's base point as our public value.
pub fn ecdh_init(kex: Kex) -> Vec<u8> {
    let mut out = vec![MSG_KEX_ECDH_INIT];
    match kex {
        Kex::Curve25519 | Kex::Curve25519Libssh => put_string(&mut out, &X25519_BASE),
        Kex::NistP256 => put_string(&mut out, &P256_GENERATOR),
    }
    out
}

/// The host key blob (K_S) of a KEX_ECDH_REPLY.
pub fn ecdh_reply_host_key(payload: &[u8]) -> Result<Vec<u8>, PacketError> {
    let mut reader = Reader { bytes: payload };
    match reader.byte()? {
        MSG_KEX_ECDH_REPLY => {}
        other => return Err(PacketError::UnexpectedMessage(other)),
    }
    Ok(reader.string()?.to_vec())
}

/// The key type named at the start of a host key blob, e.g. `ssh-ed25519`.
pub fn key_type(blob: &[u8]) -> Result<String, PacketError> {
    let name = Reader { bytes: blob }.string()?;
    if name.is_empty() || name.len() > 64 || !name.iter().all(|b| b.is_ascii_graphic()) {
        return Err(PacketError::NotText);
    }
    Ok(String::from_utf8_lossy(name).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_padded_to_blocks_and_read_back() {
        for len in 0..40 {
            let message: Vec<u8> = (0..len as u8).collect();
            let framed = packet(&message);
            assert_eq!(framed.len() % 8, 0);
            let length = packet_length(framed[..4].try_into().unwrap()).unwrap();
            assert_eq!(length, framed.len() - 4);
            assert!(framed[4] >= 4);
            assert_eq!(payload(&framed[4..]).unwrap(), &message[..]);
        }
        assert_eq!(
            packet_length([0, 1, 0, 0]),
            Err(PacketError::TooLong(65536))
        );
        assert_eq!(packet_length([0, 0, 0, 1]), Err(PacketError::TooShort));
        assert_eq!(payload(&[200, 1, 2]), Err(PacketError::BadPadding));
    }

    #[test]
    fn our_kexinit_reads_back_and_agrees_with_openssh() {
        let ours = KexInit::ours();
        assert_eq!(KexInit::parse(&ours.emit()).unwrap(), ours);
        let openssh = KexInit {
            kex: "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256"
                .split(',')
                .map(str::to_owned)
                .collect(),
            host_key: vec!["ssh-ed25519".into()],
        };
        assert_eq!(ours.agree(&openssh), Some(Kex::Curve25519));
        let old = KexInit {
            kex: vec!["diffie-hellman-group1-sha1".into()],
            host_key: vec!["ssh-rsa".into()],
        };
        assert_eq!(ours.agree(&old), None);
    }

    #[test]
    fn a_reply_gives_the_host_key() {
        let mut blob = Vec::new();
        put_string(&mut blob, b"ssh-ed25519");
        put_string(&mut blob, &[7; 32]);
        let mut reply = vec![MSG_KEX_ECDH_REPLY];
        put_string(&mut reply, &blob);
        put_string(&mut reply, &[1; 32]);
        assert_eq!(ecdh_reply_host_key(&reply).unwrap(), blob);
        assert_eq!(key_type(&blob).unwrap(), "ssh-ed25519");
        assert_eq!(
            ecdh_reply_host_key(&reply[..10]),
            Err(PacketError::Truncated)
        );
        assert_eq!(
            ecdh_reply_host_key(&[MSG_KEXINIT]),
            Err(PacketError::UnexpectedMessage(20))
        );
        assert_eq!(key_type(b"\0\0\0\x03a\nb"), Err(PacketError::NotText));
        let init = ecdh_init(Kex::NistP256);
        assert_eq!(init.len(), 1 + 4 + 65);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = KexInit::parse(&bytes);
            let _ = ecdh_reply_host_key(&bytes);
            let _ = key_type(&bytes);
            let _ = payload(&bytes);
        }
    }
}
