//! Whatever a web server sends: title, realm and certificate parsing must not
//! panic, and what they keep is bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(&data[..data.len().min(200)]);
    if let Some(title) = daicho_http::html_title(data, Some(&header)) {
        assert!(title.chars().count() <= 256);
    }
    let _ = daicho_http::auth_realm(&header);
    let certificate = daicho_http::Certificate::from_der(data).unwrap();
    assert!(certificate.san_ip.len() + certificate.san_dns.len() <= 64);
});
