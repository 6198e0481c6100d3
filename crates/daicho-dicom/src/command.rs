//! DIMSE command sets as the C-ECHO needs them: group 0000 elements in
//! implicit VR little endian (PS3.7 E.1): tag (group, element: u16 LE), a
//! u32 LE length, the value. A C-ECHO-RQ is written; only the Status
//! (0000,0900) of a response is read back, without trusting any length.

const COMMAND_GROUP_LENGTH: u16 = 0x0000;
const AFFECTED_SOP_CLASS: u16 = 0x0002;
const COMMAND_FIELD: u16 = 0x0100;
const MESSAGE_ID: u16 = 0x0110;
const DATA_SET_TYPE: u16 = 0x0800;
const STATUS: u16 = 0x0900;
/// C-ECHO-RQ's command field.
const C_ECHO_RQ: u16 = 0x0030;
/// "No data set follows".
const NO_DATA_SET: u16 = 0x0101;

fn element(out: &mut Vec<u8>, element: u16, value: &[u8]) {
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(value);
}

/// The command set of a C-ECHO-RQ with this message id.
pub fn echo_request(message_id: u16) -> Vec<u8> {
    // A UID is padded with NUL to an even length.
    let mut sop = super::VERIFICATION.as_bytes().to_vec();
    if sop.len() % 2 == 1 {
        sop.push(0);
    }
    let mut body = Vec::new();
    element(&mut body, AFFECTED_SOP_CLASS, &sop);
    element(&mut body, COMMAND_FIELD, &C_ECHO_RQ.to_le_bytes());
    element(&mut body, MESSAGE_ID, &message_id.to_le_bytes());
    element(&mut body, DATA_SET_TYPE, &NO_DATA_SET.to_le_bytes());
    let mut out = Vec::with_capacity(body.len() + 12);
    element(
        &mut out,
        COMMAND_GROUP_LENGTH,
        &(body.len() as u32).to_le_bytes(),
    );
    out.extend_from_slice(&body);
    out
}

/// The Status of a response's command set, if it has a well-formed one.
pub fn status(command: &[u8]) -> Option<u16> {
    let mut rest = command;
    while rest.len() >= 8 {
        let group = u16::from_le_bytes([rest[0], rest[1]]);
        let tag = u16::from_le_bytes([rest[2], rest[3]]);
        let length = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let value = rest.get(8..8usize.checked_add(length)?)?;
        if group == 0 && tag == STATUS && length == 2 {
            return Some(u16::from_le_bytes([value[0], value[1]]));
        }
        rest = &rest[8 + length..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echo_request_is_a_well_formed_command_set() {
        let rq = echo_request(7);
        // Group length, then the four elements; the group length counts
        // what follows it.
        let group_length = u32::from_le_bytes([rq[8], rq[9], rq[10], rq[11]]) as usize;
        assert_eq!(group_length, rq.len() - 12);
        assert!(rq.windows(17).any(|w| w == b"1.2.840.10008.1.1"));
        assert_eq!(status(&rq), None, "a request carries no status");
    }

    #[test]
    fn the_status_is_read_from_a_response_and_lies_about_lengths_are_no_panic() {
        let mut rsp = Vec::new();
        element(&mut rsp, COMMAND_FIELD, &0x8030u16.to_le_bytes());
        element(&mut rsp, STATUS, &0u16.to_le_bytes());
        assert_eq!(status(&rsp), Some(0));
        let mut lying = Vec::new();
        lying.extend_from_slice(&[0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff, 1, 2]);
        assert_eq!(status(&lying), None);
        for cut in 0..rsp.len() {
            let _ = status(&rsp[..cut]);
        }
    }
}
