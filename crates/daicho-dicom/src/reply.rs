//! The PDUs a DICOM peer sends back to the probe (PS3.8 9.3), read by a
//! checked parser of daicho's own: a zero-copy [`Packet`] view over one
//! whole PDU and a plain [`Reply`] with only what the probe uses.
//!
//! Why not `dicom-ul`'s reader, which writes our requests: fuzzing found
//! that it panics on untrusted bytes (an item length smaller than the
//! lengths inside it underflows in its SOP Class Extended Negotiation
//! sub-item). Here every length is checked against what is left before it
//! is used, and a reply that does not fit is an error, never a panic.

/// A PDU's fixed header: type, reserved, a u32 big-endian length.
pub const HEADER_LEN: usize = 6;

const ASSOCIATE_AC: u8 = 0x02;
const ASSOCIATE_RJ: u8 = 0x03;
const DATA_TF: u8 = 0x04;
const RELEASE_RP: u8 = 0x06;
const ABORT: u8 = 0x07;

/// The A-ASSOCIATE-AC's fixed fields before its items: protocol version,
/// reserved, the two AE titles (16 each), 32 reserved bytes.
const ASSOCIATE_AC_FIXED: usize = 2 + 2 + 16 + 16 + 32;
const ITEM_PRESENTATION_CONTEXT: u8 = 0x21;
const ITEM_USER_INFORMATION: u8 = 0x50;
const SUB_ITEM_MAX_LENGTH: u8 = 0x51;
const SUB_ITEM_IMPLEMENTATION_CLASS_UID: u8 = 0x52;
const SUB_ITEM_IMPLEMENTATION_VERSION_NAME: u8 = 0x55;

/// Why bytes are not a PDU the probe can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a malformed PDU: {0}")]
pub struct Malformed(pub &'static str);

/// One whole PDU, its length checked against the buffer.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// The buffer as a PDU if it holds the header and exactly the body the
    /// header announces.
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        let bytes = buffer.as_ref();
        if bytes.len() < HEADER_LEN {
            return Err(Malformed("shorter than the PDU header"));
        }
        let packet = Packet { buffer };
        if packet.length() as usize != packet.buffer.as_ref().len() - HEADER_LEN {
            return Err(Malformed("the PDU length does not match its bytes"));
        }
        Ok(packet)
    }

    pub fn pdu_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// The body's length as the header says it.
    pub fn length(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([b[2], b[3], b[4], b[5]])
    }

    pub fn body(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

/// What a peer answered, as far as the probe reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A-ASSOCIATE-AC.
    Accepted(Acceptance),
    /// A-ASSOCIATE-RJ with its result, source and reason codes.
    Rejected(Rejection),
    /// P-DATA-TF: its presentation data values.
    Data(Vec<DataValue>),
    /// A-RELEASE-RP.
    Released,
    /// A-ABORT with its source and reason codes.
    Aborted { source: u8, reason: u8 },
    /// Any other PDU type (a peer has no business sending a request).
    Other(u8),
}

/// What an A-ASSOCIATE-AC says that the ledger wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acceptance {
    /// (presentation context id, result) — result 0 is acceptance.
    pub contexts: Vec<(u8, u8)>,
    pub max_pdu_length: Option<u32>,
    pub implementation_class_uid: Option<String>,
    pub implementation_version_name: Option<String>,
}

/// An A-ASSOCIATE-RJ's codes (PS3.8 Table 9-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    pub result: u8,
    pub source: u8,
    pub reason: u8,
}

impl Rejection {
    /// The rejection in the standard's terms, e.g. "rejected permanently
    /// by the service user: called AE title not recognized".
    pub fn describe(&self) -> String {
        let lasting = match self.result {
            1 => "permanently",
            2 => "for now",
            _ => "(unknown result)",
        };
        let (by, why) = match (self.source, self.reason) {
            (1, 1) => ("the service user", "no reason given"),
            (1, 2) => ("the service user", "application context name not supported"),
            (1, 3) => ("the service user", "calling AE title not recognized"),
            (1, 7) => ("the service user", "called AE title not recognized"),
            (1, _) => ("the service user", "reason not in the standard"),
            (2, 1) => ("the ACSE service provider", "no reason given"),
            (2, 2) => (
                "the ACSE service provider",
                "protocol version not supported",
            ),
            (2, _) => ("the ACSE service provider", "reason not in the standard"),
            (3, 1) => ("the presentation service provider", "temporary congestion"),
            (3, 2) => ("the presentation service provider", "local limit exceeded"),
            (3, _) => (
                "the presentation service provider",
                "reason not in the standard",
            ),
            _ => ("an unknown source", "reason not in the standard"),
        };
        format!("rejected {lasting} by {by}: {why}")
    }
}

/// One presentation data value of a P-DATA-TF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataValue {
    pub context_id: u8,
    /// A command set (not a data set).
    pub is_command: bool,
    /// The last fragment of its message.
    pub is_last: bool,
    pub data: Vec<u8>,
}

impl Reply {
    /// Reads one whole PDU.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Reply, Malformed> {
        let mut body = Cursor(packet.body());
        Ok(match packet.pdu_type() {
            ASSOCIATE_AC => Reply::Accepted(acceptance(body)?),
            ASSOCIATE_RJ => {
                body.take(1)?;
                Reply::Rejected(Rejection {
                    result: body.u8()?,
                    source: body.u8()?,
                    reason: body.u8()?,
                })
            }
            DATA_TF => {
                let mut values = Vec::new();
                while !body.is_empty() {
                    let length = body.u32()? as usize;
                    let mut value = Cursor(body.take(length)?);
                    let context_id = value.u8()?;
                    let control = value.u8()?;
                    values.push(DataValue {
                        context_id,
                        is_command: control & 0x01 != 0,
                        is_last: control & 0x02 != 0,
                        data: value.0.to_vec(),
                    });
                }
                Reply::Data(values)
            }
            RELEASE_RP => Reply::Released,
            ABORT => {
                body.take(2)?;
                Reply::Aborted {
                    source: body.u8()?,
                    reason: body.u8()?,
                }
            }
            other => Reply::Other(other),
        })
    }
}

fn acceptance(mut body: Cursor<'_>) -> Result<Acceptance, Malformed> {
    body.take(ASSOCIATE_AC_FIXED)?;
    let mut acceptance = Acceptance::default();
    while !body.is_empty() {
        let (item, mut value) = body.item()?;
        match item {
            ITEM_PRESENTATION_CONTEXT => {
                let id = value.u8()?;
                value.take(1)?;
                let result = value.u8()?;
                acceptance.contexts.push((id, result));
            }
            ITEM_USER_INFORMATION => {
                while !value.is_empty() {
                    let (sub_item, mut sub_value) = value.item()?;
                    match sub_item {
                        SUB_ITEM_MAX_LENGTH => acceptance.max_pdu_length = Some(sub_value.u32()?),
                        SUB_ITEM_IMPLEMENTATION_CLASS_UID => {
                            acceptance.implementation_class_uid = Some(text(sub_value.0));
                        }
                        SUB_ITEM_IMPLEMENTATION_VERSION_NAME => {
                            acceptance.implementation_version_name = Some(text(sub_value.0));
                        }
                        _ => {}
                    }
                }
            }
            // Application context and anything newer: not needed.
            _ => {}
        }
    }
    Ok(acceptance)
}

/// A peer's UID or name: ASCII by the standard, taken lossily.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What is left of a PDU; every read checks it first.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.0.len() < n {
            return Err(Malformed("a field runs past the end of the PDU"));
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(taken)
    }

    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, Malformed> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Malformed> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An item or sub-item: type, reserved, u16 length, its value.
    fn item(&mut self) -> Result<(u8, Cursor<'a>), Malformed> {
        let item = self.u8()?;
        self.take(1)?;
        let length = self.u16()? as usize;
        Ok((item, Cursor(self.take(length)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_ul::pdu::{
        AssociationAC, AssociationRJ, AssociationRJResult, AssociationRJServiceUserReason,
        AssociationRJSource, PDataValue, PDataValueType, Pdu, PresentationContextResult,
        PresentationContextResultReason, UserVariableItem, write_pdu,
    };

    /// A PDU as dicom-ul, another implementation, writes it.
    fn written(pdu: Pdu) -> Vec<u8> {
        let mut bytes = Vec::new();
        write_pdu(&mut bytes, &pdu).unwrap();
        bytes
    }

    fn read(bytes: &[u8]) -> Result<Reply, Malformed> {
        Reply::parse(&Packet::new_checked(bytes)?)
    }

    fn acceptance_pdu() -> Vec<u8> {
        written(
            AssociationAC {
                protocol_version: 1,
                calling_ae_title: "DAICHO".into(),
                called_ae_title: "ANY-SCP".into(),
                application_context_name: "1.2.840.10008.3.1.1.1".into(),
                presentation_contexts: vec![PresentationContextResult {
                    id: 1,
                    reason: PresentationContextResultReason::Acceptance,
                    transfer_syntax: "1.2.840.10008.1.2".into(),
                }],
                user_variables: vec![
                    UserVariableItem::MaxLength(16384),
                    UserVariableItem::ImplementationClassUID("1.2.276.0.7230010.3.0.3.6.7".into()),
                    UserVariableItem::ImplementationVersionName("OFFIS_DCMTK_367".into()),
                ],
            }
            .into(),
        )
    }

    #[test]
    fn an_acceptance_written_by_dicom_ul_is_read() {
        let Reply::Accepted(ac) = read(&acceptance_pdu()).unwrap() else {
            panic!("not an acceptance");
        };
        assert_eq!(ac.contexts, vec![(1, 0)]);
        assert_eq!(ac.max_pdu_length, Some(16384));
        assert_eq!(
            ac.implementation_class_uid.as_deref(),
            Some("1.2.276.0.7230010.3.0.3.6.7")
        );
        assert_eq!(
            ac.implementation_version_name.as_deref(),
            Some("OFFIS_DCMTK_367")
        );
    }

    #[test]
    fn a_rejection_says_why_in_the_standards_terms() {
        let rj = written(Pdu::AssociationRJ(AssociationRJ {
            result: AssociationRJResult::Permanent,
            source: AssociationRJSource::ServiceUser(
                AssociationRJServiceUserReason::CalledAETitleNotRecognized,
            ),
        }));
        let Reply::Rejected(rejection) = read(&rj).unwrap() else {
            panic!("not a rejection");
        };
        assert_eq!(
            rejection.describe(),
            "rejected permanently by the service user: called AE title not recognized"
        );
    }

    #[test]
    fn data_release_and_abort_are_read() {
        let data = written(Pdu::PData {
            data: vec![PDataValue {
                presentation_context_id: 1,
                value_type: PDataValueType::Command,
                is_last: true,
                data: vec![1, 2, 3],
            }],
        });
        assert_eq!(
            read(&data).unwrap(),
            Reply::Data(vec![DataValue {
                context_id: 1,
                is_command: true,
                is_last: true,
                data: vec![1, 2, 3],
            }])
        );
        assert_eq!(read(&written(Pdu::ReleaseRP)).unwrap(), Reply::Released);
        assert!(matches!(
            read(&written(Pdu::AbortRQ {
                source: dicom_ul::pdu::AbortRQSource::ServiceUser
            }))
            .unwrap(),
            Reply::Aborted { source: 0, .. }
        ));
        assert_eq!(read(&written(Pdu::ReleaseRQ)).unwrap(), Reply::Other(0x05));
    }

    /// The input that made dicom-ul's reader panic under the fuzzer: a user
    /// information sub-item 0x56 whose length (1) is smaller than the UID
    /// length field it holds.
    #[test]
    fn lying_lengths_and_every_truncation_are_errors_not_panics() {
        let mut ac = vec![ASSOCIATE_AC, 0, 0, 0, 0, 0];
        ac.extend_from_slice(&[0; ASSOCIATE_AC_FIXED]);
        ac.extend_from_slice(&[ITEM_USER_INFORMATION, 0, 0, 5, 0x56, 0, 0, 1, 0]);
        let length = (ac.len() - HEADER_LEN) as u32;
        ac[2..6].copy_from_slice(&length.to_be_bytes());
        assert!(matches!(read(&ac), Ok(Reply::Accepted(_))));
        let mut lying = ac.clone();
        // The user information item claims more than the PDU holds.
        lying[HEADER_LEN + ASSOCIATE_AC_FIXED + 3] = 200;
        assert!(read(&lying).is_err());

        let good = acceptance_pdu();
        for cut in 0..good.len() {
            let mut short = good[..cut].to_vec();
            if short.len() >= HEADER_LEN {
                let body = (short.len() - HEADER_LEN) as u32;
                short[2..6].copy_from_slice(&body.to_be_bytes());
            }
            // The header made to agree: the items inside must still fit.
            let _ = read(&short);
        }
        assert!(Packet::new_checked(&good[..good.len() - 1]).is_err());
    }
}
