//! Any bytes as a DICOM peer's PDU (daicho's checked reply parser, which
//! replaced dicom-ul's reader after this target crashed it) and as a
//! command set: no panic, whatever they say.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = daicho_dicom::parse(data);
    let _ = daicho_dicom::command::status(data);
});
