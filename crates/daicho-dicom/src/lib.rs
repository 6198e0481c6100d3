//! The DICOM probe (opt-in): one association to a host's DICOM port that
//! proposes only the Verification SOP class, one C-ECHO if it is accepted,
//! then a proper A-RELEASE (an A-ABORT on anything unexpected) — the least a
//! modality or a PACS can be asked. What the peer says about itself
//! (Implementation Class UID and Version Name, maximum PDU length) and
//! whether it accepted us are what the ledger wants: a rejection because of
//! the called AE title still proves a DICOM node.
//!
//! Our requests are written by `dicom-ul` (dicom-rs); the peer's replies,
//! untrusted bytes, are read by [`reply`]'s checked parser, fuzzed
//! (`fuzz/fuzz_targets/dicom_pdu.rs`). The C-ECHO
//! command set is a handful of implicit-VR little-endian elements, encoded
//! and read by [`command`].

pub mod command;
pub mod reply;

use std::net::SocketAddr;
use std::time::Duration;

use dicom_ul::pdu::{
    AbortRQSource, AssociationRQ, PDataValue, PDataValueType, Pdu, PresentationContextProposed,
    UserVariableItem, write_pdu,
};
use reply::{Packet, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The Verification SOP class (C-ECHO), the only one proposed.
pub const VERIFICATION: &str = "1.2.840.10008.1.1";
/// Implicit VR little endian: the transfer syntax every node accepts.
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
/// The DICOM application context.
const APPLICATION_CONTEXT: &str = "1.2.840.10008.3.1.1.1";
/// daicho's Implementation Class UID: a UUID-derived UID (2.25, PS3.5 B.2).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.176140442546478458427637563390736392523";
pub const IMPLEMENTATION_VERSION: &str = "DAICHO_0_1";
/// The largest PDU accepted from a peer: an A-ASSOCIATE-AC or a C-ECHO
/// response is a few hundred bytes.
const MAX_PDU: u32 = 64 * 1024;

/// Who we are and whom we ask for.
#[derive(Debug, Clone)]
pub struct Titles {
    /// Our AE title (at most 16 characters).
    pub calling: String,
    /// The peer's AE title as we ask for it; many nodes accept any.
    pub called: String,
}

/// What one DICOM port said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// The association was accepted with the Verification context.
    pub accepted: bool,
    /// Why it was rejected or aborted, as the peer said.
    pub rejected: Option<String>,
    pub implementation_class_uid: Option<String>,
    pub implementation_version_name: Option<String>,
    pub max_pdu_length: Option<u32>,
    /// The C-ECHO response's status (0 is success).
    pub echo_status: Option<u16>,
    /// The peer released the association properly.
    pub released: bool,
}

/// Why a port gave no DICOM answer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("no connection: {0}")]
    Connect(std::io::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("not DICOM: {0}")]
    NotDicom(String),
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Associates with `target`, echoes once if accepted, and releases.
pub async fn verify(
    target: SocketAddr,
    titles: &Titles,
    timeout: Duration,
) -> Result<Answer, ProbeError> {
    let mut stream = tokio::time::timeout(timeout, TcpStream::connect(target))
        .await
        .map_err(|_| ProbeError::Timeout(timeout))?
        .map_err(ProbeError::Connect)?;
    send(&mut stream, &association_request(titles)).await?;
    let reply = tokio::time::timeout(timeout, receive(&mut stream))
        .await
        .map_err(|_| ProbeError::Timeout(timeout))??;
    let mut answer = Answer::default();
    match reply {
        Reply::Accepted(ac) => {
            answer.max_pdu_length = ac.max_pdu_length;
            answer.implementation_class_uid = ac.implementation_class_uid.as_deref().map(clean);
            answer.implementation_version_name =
                ac.implementation_version_name.as_deref().map(clean);
            // Result 0 of our only context (id 1) is acceptance.
            answer.accepted = ac.contexts.contains(&(1, 0));
            if !answer.accepted {
                answer.rejected = Some("the Verification SOP class was not accepted".into());
            } else {
                send(&mut stream, &echo_request()).await?;
                match tokio::time::timeout(timeout, receive(&mut stream)).await {
                    Ok(Ok(Reply::Data(values))) => {
                        answer.echo_status = values
                            .iter()
                            .filter(|v| v.is_command)
                            .find_map(|v| command::status(&v.data));
                    }
                    Ok(Ok(Reply::Aborted { .. })) => {
                        answer.rejected = Some("aborted after the C-ECHO".into());
                        return Ok(answer);
                    }
                    _ => {
                        abort(&mut stream).await;
                        return Ok(answer);
                    }
                }
            }
            send(&mut stream, &Pdu::ReleaseRQ).await?;
            answer.released = matches!(
                tokio::time::timeout(timeout, receive(&mut stream)).await,
                Ok(Ok(Reply::Released))
            );
            if !answer.released {
                abort(&mut stream).await;
            }
        }
        Reply::Rejected(rejection) => answer.rejected = Some(rejection.describe()),
        Reply::Aborted { .. } => {
            answer.rejected = Some("aborted the association request".into());
        }
        Reply::Data(_) | Reply::Released | Reply::Other(_) => {
            abort(&mut stream).await;
            return Err(ProbeError::NotDicom(
                "answered an association request with a PDU other than A-ASSOCIATE-AC/RJ or A-ABORT"
                    .into(),
            ));
        }
    }
    Ok(answer)
}

/// A peer's text (AE titles and version names are space padded).
fn clean(text: &str) -> String {
    text.trim_matches(|c: char| c == ' ' || c == '\0')
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect()
}

fn association_request(titles: &Titles) -> Pdu {
    let title = |t: &str| t.chars().take(16).collect::<String>();
    AssociationRQ {
        protocol_version: 1,
        calling_ae_title: title(&titles.calling),
        called_ae_title: title(&titles.called),
        application_context_name: APPLICATION_CONTEXT.into(),
        presentation_contexts: vec![PresentationContextProposed {
            id: 1,
            abstract_syntax: VERIFICATION.into(),
            transfer_syntaxes: vec![IMPLICIT_VR_LE.into()],
        }],
        user_variables: vec![
            UserVariableItem::MaxLength(MAX_PDU),
            UserVariableItem::ImplementationClassUID(IMPLEMENTATION_CLASS_UID.into()),
            UserVariableItem::ImplementationVersionName(IMPLEMENTATION_VERSION.into()),
        ],
    }
    .into()
}

fn echo_request() -> Pdu {
    Pdu::PData {
        data: vec![PDataValue {
            presentation_context_id: 1,
            value_type: PDataValueType::Command,
            is_last: true,
            data: command::echo_request(1),
        }],
    }
}

async fn send(stream: &mut TcpStream, pdu: &Pdu) -> Result<(), ProbeError> {
    let mut bytes = Vec::new();
    write_pdu(&mut bytes, pdu).map_err(|e| ProbeError::NotDicom(e.to_string()))?;
    stream.write_all(&bytes).await?;
    Ok(())
}

/// One whole PDU: its 6-byte header, its length checked, then its body.
async fn receive(stream: &mut TcpStream) -> Result<Reply, ProbeError> {
    let mut header = [0u8; reply::HEADER_LEN];
    stream.read_exact(&mut header).await?;
    let length = u32::from_be_bytes([header[2], header[3], header[4], header[5]]);
    if length > MAX_PDU {
        return Err(ProbeError::NotDicom(format!(
            "a PDU of {length} bytes (more than {MAX_PDU})"
        )));
    }
    let mut pdu = header.to_vec();
    pdu.resize(reply::HEADER_LEN + length as usize, 0);
    stream.read_exact(&mut pdu[reply::HEADER_LEN..]).await?;
    parse(&pdu)
}

/// A whole PDU's bytes as a reply (the fuzz target's entry).
pub fn parse(bytes: &[u8]) -> Result<Reply, ProbeError> {
    let packet = Packet::new_checked(bytes).map_err(|e| ProbeError::NotDicom(e.to_string()))?;
    Reply::parse(&packet).map_err(|e| ProbeError::NotDicom(e.to_string()))
}

async fn abort(stream: &mut TcpStream) {
    let _ = send(
        stream,
        &Pdu::AbortRQ {
            source: AbortRQSource::ServiceUser,
        },
    )
    .await;
}
