//! The NBSTAT exchange (RFC 1002 §4.2.17–4.2.18): a NAME QUERY for the name
//! `*` with question type NBSTAT, and the NODE STATUS RESPONSE that lists the
//! names a node registered plus a statistics block starting with its MAC.

/// Why bytes are not a node status answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("packet too short: {0} bytes")]
    Truncated(usize),
    #[error("not a response")]
    NotResponse,
    #[error("the node answered with error code {0}")]
    Refused(u8),
    #[error("no answer record")]
    NoAnswer,
    #[error("malformed name in the answer")]
    BadName,
    #[error("answer record is not of type NBSTAT")]
    NotNodeStatus,
}

/// NBSTAT question and record type.
const TYPE_NBSTAT: u16 = 0x0021;
const CLASS_IN: u16 = 0x0001;
const HEADER_LEN: usize = 12;
/// Each name in the table: 15 characters, a suffix byte, two flag bytes.
const NAME_ENTRY_LEN: usize = 18;
/// The name `*` (0x2A, then 15 NULs), first-level encoded (RFC 1001 §14.1).
const WILDCARD_NAME: [u8; 34] = *b"\x20CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00";

/// A read-only view over a NetBIOS name service packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps bytes without checking them; accessors may then panic.
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps bytes after checking that the header is there.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let len = buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated(len));
        }
        Ok(Packet { buffer })
    }

    fn u16_at(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    pub fn transaction_id(&self) -> u16 {
        self.u16_at(0)
    }

    pub fn is_response(&self) -> bool {
        self.u16_at(2) & 0x8000 != 0
    }

    /// The response code (0 = no error).
    pub fn rcode(&self) -> u8 {
        (self.u16_at(2) & 0x000f) as u8
    }

    pub fn question_count(&self) -> u16 {
        self.u16_at(4)
    }

    pub fn answer_count(&self) -> u16 {
        self.u16_at(6)
    }

    /// Everything after the 12-byte header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

/// The question "which names do you hold?" sent to one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeStatusQuery {
    pub transaction_id: u16,
}

impl NodeStatusQuery {
    /// Length of the emitted packet.
    pub const LEN: usize = HEADER_LEN + WILDCARD_NAME.len() + 4;

    /// Writes the query into `buffer`, which must be at least [`Self::LEN`] long.
    pub fn emit(&self, buffer: &mut [u8]) {
        let buffer = &mut buffer[..Self::LEN];
        buffer[..2].copy_from_slice(&self.transaction_id.to_be_bytes());
        // Flags 0 (a unicast query), one question, no records.
        buffer[2..HEADER_LEN].copy_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        let name_end = HEADER_LEN + WILDCARD_NAME.len();
        buffer[HEADER_LEN..name_end].copy_from_slice(&WILDCARD_NAME);
        buffer[name_end..name_end + 2].copy_from_slice(&TYPE_NBSTAT.to_be_bytes());
        buffer[name_end + 2..].copy_from_slice(&CLASS_IN.to_be_bytes());
    }

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut bytes = [0; Self::LEN];
        self.emit(&mut bytes);
        bytes
    }
}

/// One registered name: 15 characters and the suffix byte that says what it
/// is (`<00>` workstation or workgroup, `<20>` file server, `<03>` messenger,
/// `<1B>`/`<1C>` domain roles, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameEntry {
    pub name: String,
    pub suffix: u8,
    /// A group name (a workgroup or domain), not a unique one.
    pub group: bool,
    /// The name is registered and active (not being released or in conflict).
    pub active: bool,
    /// The name's bytes when they were not ASCII (then read as CP932).
    pub raw: Option<Vec<u8>>,
}

/// A node status answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    pub transaction_id: u16,
    pub names: Vec<NameEntry>,
    /// The unit ID of the statistics block: Windows puts the adapter's MAC
    /// there; Samba leaves zeros (then `None`).
    pub mac: Option<[u8; 6]>,
}

impl NodeStatus {
    /// Parses a node status response. Names are decoded as ASCII or, failing
    /// that, as CP932 (the OEM code page of Japanese Windows), and stripped
    /// of padding and control characters.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<NodeStatus, Error> {
        if !packet.is_response() {
            return Err(Error::NotResponse);
        }
        if packet.rcode() != 0 {
            return Err(Error::Refused(packet.rcode()));
        }
        if packet.answer_count() == 0 {
            return Err(Error::NoAnswer);
        }
        let mut rest = packet.payload();
        // Skip any echoed questions (name, type, class).
        for _ in 0..packet.question_count().min(4) {
            rest = skip_name(rest)?;
            rest = rest.get(4..).ok_or(Error::Truncated(rest.len()))?;
        }
        rest = skip_name(rest)?;
        let fixed = rest.get(..10).ok_or(Error::Truncated(rest.len()))?;
        if u16::from_be_bytes([fixed[0], fixed[1]]) != TYPE_NBSTAT {
            return Err(Error::NotNodeStatus);
        }
        let rdlength = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        let rdata = &rest[10..];
        // Some stacks miscount RDLENGTH; read what is really there.
        let rdata = &rdata[..rdlength.min(rdata.len())];
        let (&count, table) = rdata.split_first().ok_or(Error::Truncated(0))?;
        let table_len = usize::from(count) * NAME_ENTRY_LEN;
        let entries = table
            .get(..table_len)
            .ok_or(Error::Truncated(table.len()))?;
        let names = entries
            .chunks_exact(NAME_ENTRY_LEN)
            .map(|entry| {
                let flags = u16::from_be_bytes([entry[16], entry[17]]);
                NameEntry {
                    name: decode_name(&entry[..15]),
                    suffix: entry[15],
                    group: flags & 0x8000 != 0,
                    active: flags & 0x0400 != 0,
                    raw: (!entry[..15].is_ascii()).then(|| entry[..15].to_vec()),
                }
            })
            .collect();
        let mac = table
            .get(table_len..table_len + 6)
            .and_then(|unit| <[u8; 6]>::try_from(unit).ok())
            .filter(|mac| mac.iter().any(|b| *b != 0));
        Ok(NodeStatus {
            transaction_id: packet.transaction_id(),
            names,
            mac,
        })
    }

    /// The computer name: the unique `<00>` name.
    pub fn computer_name(&self) -> Option<&str> {
        self.first(0x00, false)
    }

    /// The workgroup or domain: the group `<00>` name.
    pub fn workgroup(&self) -> Option<&str> {
        self.first(0x00, true)
    }

    fn first(&self, suffix: u8, group: bool) -> Option<&str> {
        self.names
            .iter()
            .find(|n| n.suffix == suffix && n.group == group && !n.name.is_empty())
            .map(|n| n.name.as_str())
    }
}

/// Skips an encoded name: a pointer (two bytes) or labels up to a zero byte.
fn skip_name(bytes: &[u8]) -> Result<&[u8], Error> {
    let mut at = 0;
    // A NetBIOS name has one label and perhaps a scope; 64 bounds the loop.
    for _ in 0..64 {
        let len = *bytes.get(at).ok_or(Error::BadName)?;
        match len {
            0 => return Ok(&bytes[at + 1..]),
            l if l & 0xc0 == 0xc0 => return bytes.get(at + 2..).ok_or(Error::BadName),
            l if l & 0xc0 != 0 => return Err(Error::BadName),
            l => at += 1 + usize::from(l),
        }
    }
    Err(Error::BadName)
}

fn decode_name(raw: &[u8]) -> String {
    let trimmed = raw
        .iter()
        .rposition(|b| *b != b' ' && *b != 0)
        .map_or(&raw[..0], |end| &raw[..=end]);
    let text = if trimmed.is_ascii() {
        String::from_utf8_lossy(trimmed).into_owned()
    } else {
        encoding_rs::SHIFT_JIS
            .decode_without_bom_handling(trimmed)
            .0
            .into_owned()
    };
    daicho_report::text::clean_text(&text, daicho_report::text::MAX_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `nmblookup -A` against Samba 4.17's nmbd in the lab (netbios name
    /// PC-3F-NURSE, workgroup HOSPITAL), captured with tcpdump.
    const SAMBA_QUERY: &str = "5ee90000000100000000000020434b4141414141414141414141414141414141414141414141414141414141410000210001";
    const SAMBA_ANSWER: &str = "5ee98400000000010000000020434b41414141414141414141414141414141414141414141414141414141414100002100010000000000890550432d33462d4e555253452020202000040050432d33462d4e555253452020202003040050432d33462d4e5552534520202020200400484f53504954414c20202020202020008400484f53504954414c202020202020201e840000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn our_query_is_byte_for_byte_what_samba_sends() {
        let query = NodeStatusQuery {
            transaction_id: 0x5ee9,
        };
        assert_eq!(query.to_bytes().to_vec(), hex(SAMBA_QUERY));
    }

    #[test]
    fn a_samba_answer_names_the_computer_and_workgroup() {
        let bytes = hex(SAMBA_ANSWER);
        let status = NodeStatus::parse(&Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        assert_eq!(status.transaction_id, 0x5ee9);
        assert_eq!(status.computer_name(), Some("PC-3F-NURSE"));
        assert_eq!(status.workgroup(), Some("HOSPITAL"));
        let table: Vec<(&str, u8, bool)> = status
            .names
            .iter()
            .map(|n| (n.name.as_str(), n.suffix, n.group))
            .collect();
        assert_eq!(
            table,
            [
                ("PC-3F-NURSE", 0x00, false),
                ("PC-3F-NURSE", 0x03, false),
                ("PC-3F-NURSE", 0x20, false),
                ("HOSPITAL", 0x00, true),
                ("HOSPITAL", 0x1e, true),
            ]
        );
        assert!(status.names.iter().all(|n| n.active));
        assert_eq!(status.mac, None, "Samba leaves the unit ID zero");
    }

    /// A Windows-style answer: a compressed answer name, a CP932 computer
    /// name (受付PC) and the adapter MAC in the statistics.
    #[test]
    fn windows_style_answers_with_a_japanese_name_and_a_mac() {
        // Header, then the answer: a name pointer, type, class, TTL.
        let mut bytes = hex("123484000000000100000000c00c0021000100000000");
        let mut rdata = vec![2u8];
        let mut name = encoding_rs::SHIFT_JIS.encode("受付PC").0.into_owned();
        name.resize(15, b' ');
        rdata.extend(&name);
        rdata.extend([0x00, 0x04, 0x00]);
        let mut group = b"HOSPITAL".to_vec();
        group.resize(15, b' ');
        rdata.extend(&group);
        rdata.extend([0x00, 0x84, 0x00]);
        rdata.extend([0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x0c]);
        rdata.extend([0; 40]);
        bytes.extend((rdata.len() as u16).to_be_bytes());
        bytes.extend(&rdata);
        let status = NodeStatus::parse(&Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        assert_eq!(status.computer_name(), Some("受付PC"));
        assert_eq!(status.workgroup(), Some("HOSPITAL"));
        assert_eq!(status.mac, Some([0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x0c]));
    }

    #[test]
    fn broken_answers_are_errors() {
        let bytes = hex(SAMBA_ANSWER);
        for len in 0..bytes.len() - 46 {
            let cut = &bytes[..len];
            let parsed = Packet::new_checked(cut).and_then(|p| NodeStatus::parse(&p));
            assert!(parsed.is_err(), "accepted {len} bytes");
        }
        let query = hex(SAMBA_QUERY);
        let p = Packet::new_checked(&query[..]).unwrap();
        assert_eq!(NodeStatus::parse(&p), Err(Error::NotResponse));
        let mut refused = bytes.clone();
        refused[3] |= 0x03;
        let p = Packet::new_checked(&refused[..]).unwrap();
        assert_eq!(NodeStatus::parse(&p), Err(Error::Refused(3)));
        let mut looping = bytes.clone();
        looping[12] = 0x40;
        let p = Packet::new_checked(&looping[..]).unwrap();
        assert_eq!(NodeStatus::parse(&p), Err(Error::BadName));
    }

    #[test]
    fn hostile_names_lose_their_control_characters() {
        assert_eq!(decode_name(b"=HYPERLINK(\x07\x1b "), "=HYPERLINK(");
        assert_eq!(decode_name(b"               "), "");
        assert_eq!(
            decode_name(b"<script>\x00\x00\x00\x00\x00\x00\x00"),
            "<script>"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_or_fail_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            if let Ok(packet) = Packet::new_checked(&bytes[..])
                && let Ok(status) = NodeStatus::parse(&packet)
            {
                proptest::prop_assert!(status.names.len() <= bytes.len() / NAME_ENTRY_LEN);
            }
        }
    }
}
