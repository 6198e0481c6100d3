//! SSDP messages (HTTP over UDP): the M-SEARCH we send, and the answers and
//! NOTIFYs we read.

/// Largest datagram read; SSDP messages are a few hundred bytes.
pub const MAX_MESSAGE: usize = 8 * 1024;
const MAX_HEADERS: usize = 64;

pub const MULTICAST: std::net::Ipv4Addr = std::net::Ipv4Addr::new(239, 255, 255, 250);
pub const PORT: u16 = 1900;

/// An M-SEARCH for `target` (`ssdp:all`), answers spread over `mx` seconds.
pub fn msearch(target: &str, mx: u8) -> Vec<u8> {
    format!(
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n\
         MX: {mx}\r\nST: {target}\r\nUSER-AGENT: daicho-agent UPnP/1.1\r\n\r\n"
    )
    .into_bytes()
}

/// What kind of message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An answer to our M-SEARCH.
    Response,
    /// An unsolicited announcement (`ssdp:alive` or `ssdp:byebye`).
    Notify,
}

/// The headers that matter, cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    pub location: Option<String>,
    pub server: Option<String>,
    pub usn: Option<String>,
    /// ST of a response, NT of a NOTIFY.
    pub target: Option<String>,
    /// NTS of a NOTIFY: `ssdp:alive` or `ssdp:byebye`.
    pub sub_type: Option<String>,
}

/// Why bytes are not an SSDP message we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    TooLong,
    NotSsdp,
}

fn clean(value: &str) -> String {
    daicho_report::text::clean_text(value, daicho_report::text::MAX_LINE)
}

impl Message {
    pub fn parse(bytes: &[u8]) -> Result<Message, Error> {
        if bytes.len() > MAX_MESSAGE {
            return Err(Error::TooLong);
        }
        let text = String::from_utf8_lossy(bytes);
        let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
        let first = lines.next().ok_or(Error::NotSsdp)?.trim();
        let kind = if first.starts_with("HTTP/1.") && first.contains(" 200") {
            Kind::Response
        } else if first.eq_ignore_ascii_case("NOTIFY * HTTP/1.1") {
            Kind::Notify
        } else {
            return Err(Error::NotSsdp);
        };
        let mut message = Message {
            kind,
            location: None,
            server: None,
            usn: None,
            target: None,
            sub_type: None,
        };
        for line in lines.take(MAX_HEADERS) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let slot = match name.trim().to_ascii_uppercase().as_str() {
                "LOCATION" => &mut message.location,
                "SERVER" => &mut message.server,
                "USN" => &mut message.usn,
                "ST" | "NT" => &mut message.target,
                "NTS" => &mut message.sub_type,
                _ => continue,
            };
            slot.get_or_insert_with(|| clean(value));
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer of miniupnpd 2.3.1 (Debian) in the lab.
    const MINIUPNPD: &str = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n\
        ST: urn:schemas-upnp-org:service:WANPPPConnection:1\r\n\
        USN: uuid:3d3cec3a-8cf0-11e0-98ee-001a6baa6b03::urn:schemas-upnp-org:service:WANPPPConnection:1\r\n\
        EXT:\r\nSERVER: Debian/6.18.44-fc-v669 UPnP/1.1 MiniUPnPd/2.3.1\r\n\
        LOCATION: http://198.18.9.1:5000/rootDesc.xml\r\n\
        OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n01-NLS: 1795854856\r\n\
        BOOTID.UPNP.ORG: 179585485\r\n\r\n";

    #[test]
    fn a_miniupnpd_answer() {
        let m = Message::parse(MINIUPNPD.as_bytes()).unwrap();
        assert_eq!(m.kind, Kind::Response);
        assert_eq!(
            m.location.as_deref(),
            Some("http://198.18.9.1:5000/rootDesc.xml")
        );
        assert_eq!(
            m.server.as_deref(),
            Some("Debian/6.18.44-fc-v669 UPnP/1.1 MiniUPnPd/2.3.1")
        );
        assert!(m.usn.unwrap().starts_with("uuid:3d3cec3a"));
        assert_eq!(
            m.target.as_deref(),
            Some("urn:schemas-upnp-org:service:WANPPPConnection:1")
        );
    }

    #[test]
    fn notifies_searches_and_junk() {
        let notify =
            "NOTIFY * HTTP/1.1\nNT: upnp:rootdevice\nNTS: ssdp:alive\nLOCATION: http://x/\n";
        let m = Message::parse(notify.as_bytes()).unwrap();
        assert_eq!(
            (m.kind, m.sub_type.as_deref()),
            (Kind::Notify, Some("ssdp:alive"))
        );
        // Our own M-SEARCH, heard back on the group, is not an answer.
        assert_eq!(Message::parse(&msearch("ssdp:all", 1)), Err(Error::NotSsdp));
        assert_eq!(Message::parse(&[0u8; MAX_MESSAGE + 1]), Err(Error::TooLong));
        assert_eq!(Message::parse(b""), Err(Error::NotSsdp));
        let hostile = "HTTP/1.1 200 OK\r\nSERVER: \x1b[31m<script>\r\n";
        assert_eq!(
            Message::parse(hostile.as_bytes())
                .unwrap()
                .server
                .as_deref(),
            Some("[31m<script>")
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = Message::parse(&bytes);
        }
    }
}
