//! Whatever an SSH server sends before encryption: framing, KEXINIT and the
//! ECDH reply must parse or fail, never panic.
#![no_main]
use daicho_ssh::wire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(field) = data.get(..4)
        && wire::packet_length(field.try_into().unwrap()).is_ok()
        && let Ok(payload) = wire::payload(&data[4..])
    {
        let _ = wire::KexInit::parse(payload);
        if let Ok(blob) = wire::ecdh_reply_host_key(payload) {
            let _ = wire::key_type(&blob);
            let _ = daicho_ssh::fingerprint(&blob);
        }
    }
});
