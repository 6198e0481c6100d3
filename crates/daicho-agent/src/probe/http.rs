//! The HTTP/TLS step of a scan: one `GET /` per configured port to every host
//! the ARP sweep found in scope (never an excluded one, nor one listed in
//! `[http] exclude`), a bounded number of hosts at a time, ports one after
//! another per host.

use std::net::IpAddr;
use std::sync::Arc;

use daicho_http::{Banner, BannerConfig, Fetcher};
use daicho_report::{HttpBanner, HttpFacts, Observation, ProbeRun, Source, TlsCertificate};
use jiff::Timestamp;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::scan::SegmentTargets;

/// What the HTTP step needs.
#[derive(Debug, Clone)]
pub struct HttpPlan {
    pub config: BannerConfig,
    /// Plain HTTP ports, then TLS ports.
    pub ports: Vec<u16>,
    pub tls_ports: Vec<u16>,
    /// Hosts asked at the same time, per segment.
    pub concurrency: usize,
    /// Hosts that get no HTTP request (fragile devices whose web server hangs).
    pub exclude: Vec<ipnet::IpNet>,
}

/// Asks every segment's hosts; one observation per host whose web server
/// answered (a TLS failure counts: the port is open), one run per segment.
pub async fn interrogate(
    plan: &HttpPlan,
    segments: Vec<SegmentTargets>,
) -> (Vec<Observation>, Vec<ProbeRun>) {
    let mut observations = Vec::new();
    let mut runs = Vec::new();
    let ports: Arc<[(u16, bool)]> = plan
        .ports
        .iter()
        .map(|p| (*p, false))
        .chain(plan.tls_ports.iter().map(|p| (*p, true)))
        .collect();
    for segment in segments {
        let started_at = Timestamp::now();
        let mut run = ProbeRun::new(Source::Http, &segment.interface, started_at);
        let fetcher = match Fetcher::new(plan.config, Some(segment.source.into())) {
            Ok(fetcher) => Arc::new(fetcher),
            Err(e) => {
                run.notes.push(format!("HTTP step skipped: {e}"));
                runs.push(run);
                continue;
            }
        };
        let limit = Arc::new(Semaphore::new(plan.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        for ip in segment.targets.iter().copied() {
            let (fetcher, limit, ports) =
                (Arc::clone(&fetcher), Arc::clone(&limit), Arc::clone(&ports));
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await.expect("never closed");
                let mut banners = Vec::new();
                for (port, tls) in ports.iter() {
                    banners.push(fetcher.fetch(IpAddr::V4(ip), *port, *tls).await);
                }
                (ip, banners)
            });
        }
        let mut answered = 0;
        while let Some(joined) = tasks.join_next().await {
            let (ip, banners) = joined.expect("an HTTP task does not panic");
            let mut raw_text = Vec::new();
            let banners: Vec<HttpBanner> = banners
                .into_iter()
                .filter(answered_at_all)
                .map(|mut banner| {
                    raw_text.append(&mut banner.raw_text);
                    report_banner(banner)
                })
                .collect();
            if banners.is_empty() {
                continue;
            }
            answered += 1;
            observations.push(Observation {
                http: Some(Box::new(HttpFacts { banners, raw_text })),
                ..Observation::new(
                    Source::Http,
                    Arc::clone(&segment.interface),
                    Some(ip.into()),
                )
            });
        }
        run.finished_at = Timestamp::now();
        run.notes.push(format!(
            "{answered} of {} hosts answered HTTP/TLS on ports {:?}",
            segment.targets.len(),
            ports.iter().map(|(p, _)| *p).collect::<Vec<_>>()
        ));
        runs.push(run);
    }
    observations.sort_by(|a, b| (&a.interface, a.ip).cmp(&(&b.interface, b.ip)));
    (observations, runs)
}

/// A closed or silent port says nothing about the device.
fn answered_at_all(banner: &Banner) -> bool {
    banner.status.is_some()
        || banner.certificate.is_some()
        || banner
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("TLS handshake failed"))
}

fn report_banner(banner: Banner) -> HttpBanner {
    HttpBanner {
        port: banner.port,
        tls: banner.tls,
        status: banner.status,
        server: banner.server,
        realm: banner.realm,
        title: banner.title,
        location: banner.location,
        certificate: banner.certificate.map(|c| TlsCertificate {
            sha256: c.sha256,
            subject_cn: c.subject_cn,
            issuer_cn: c.issuer_cn,
            san_dns: c.san_dns,
            san_ip: c.san_ip,
            not_before: c.not_before,
            not_after: c.not_after,
            self_signed: c.self_signed,
        }),
        error: banner.error,
    }
}
