//! Any text as a device's banner through every built-in fingerprint
//! database (Recog's patterns on fancy-regex, with a backtracking limit):
//! no panic, and a bounded time per text (libFuzzer's timeout catches a
//! runaway pattern).
#![no_main]
use std::sync::Arc;

use daicho_report::{Observation, Source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut o = Observation::new(Source::Ssh, Arc::from("eth0"), None);
    o.ssh = Some(Box::new(daicho_report::SshFacts {
        port: 22,
        banner: text.clone(),
        ..Default::default()
    }));
    o.http = Some(Box::new(daicho_report::HttpFacts {
        banners: vec![daicho_report::HttpBanner {
            port: 80,
            server: Some(text.clone()),
            title: Some(text.clone()),
            ..Default::default()
        }],
        ..Default::default()
    }));
    o.snmp = Some(Box::new(daicho_report::SnmpFacts {
        sys_descr: Some(text.clone()),
        sys_object_id: Some(text),
        ..Default::default()
    }));
    let _ = daicho_identify::identify(&[&o], &daicho_identify::Tables::builtin());
});
