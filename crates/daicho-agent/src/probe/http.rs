//! The HTTP/TLS probe: one `GET /` per configured port that the scan's
//! port check found open, on every host the ARP sweep found in scope (never
//! an excluded one, nor one listed in `[http] exclude`), a bounded number
//! of hosts at a time, ports one after another per host, each request
//! holding one of the host's connection slots.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use daicho_http::{Banner, BannerConfig, Fetcher};
use daicho_report::{HttpBanner, HttpFacts, Observation, ProbeRun, Source, TlsCertificate};
use daicho_scope::ScopeError;
use ipnet::IpNet;
use jiff::Timestamp;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Context, Kind, Outcome, Probe, Running, Section, SegmentTargets, each_segment};
use crate::duration::duration_text;

/// `[http]`: one `GET /` per port to each host found.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub enabled: bool,
    /// Plain HTTP ports.
    pub ports: Vec<u16>,
    /// HTTPS ports.
    pub tls_ports: Vec<u16>,
    #[serde(deserialize_with = "duration_text")]
    pub timeout: Duration,
    /// Bytes of a page read at most.
    pub body_cap: usize,
    /// Also hash `/favicon.ico` of a server that answered.
    pub favicon: bool,
    /// Hosts asked at the same time on a segment.
    pub concurrency: usize,
    /// Hosts that get no HTTP request, on top of the global exclusions.
    #[serde(deserialize_with = "daicho_scope::deserialize_exclusions")]
    pub exclude: Vec<IpNet>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let banner = BannerConfig::default();
        HttpConfig {
            enabled: true,
            ports: vec![80, 8080],
            tls_ports: vec![443, 8443],
            timeout: banner.timeout,
            body_cap: banner.body_cap,
            favicon: banner.favicon,
            concurrency: 16,
            exclude: Vec::new(),
        }
    }
}

impl HttpConfig {
    /// Raw print ports would print the request on paper: refused.
    pub fn validate(&self) -> Result<(), String> {
        match self
            .ports
            .iter()
            .chain(&self.tls_ports)
            .find(|p| daicho_http::NEVER_PORTS.contains(p))
        {
            Some(port) => Err(format!(
                "http: port {port} is a raw print port (JetDirect/LPD): a request sent there \
                 is printed on paper; remove it / ポート {port} は印刷用ポートのため指定できません"
            )),
            None => Ok(()),
        }
    }
}

impl Section for HttpConfig {
    fn kind(&self) -> Kind {
        Kind::Http
    }

    fn probe(&self, _: &Context<'_>) -> Result<Option<Arc<dyn Probe>>, ScopeError> {
        Ok(self.enabled.then(|| {
            Arc::new(HttpProbe {
                config: BannerConfig {
                    timeout: self.timeout,
                    body_cap: self.body_cap,
                    favicon: self.favicon,
                },
                ports: self.ports.clone(),
                tls_ports: self.tls_ports.clone(),
                concurrency: self.concurrency,
                exclude: self.exclude.clone(),
            }) as Arc<dyn Probe>
        }))
    }
}

/// What the HTTP probe needs.
#[derive(Debug, Clone)]
pub struct HttpProbe {
    pub config: BannerConfig,
    /// Plain HTTP ports, then TLS ports.
    pub ports: Vec<u16>,
    pub tls_ports: Vec<u16>,
    /// Hosts asked at the same time, per segment.
    pub concurrency: usize,
    /// Hosts that get no HTTP request (fragile devices whose web server hangs).
    pub exclude: Vec<IpNet>,
}

impl Probe for HttpProbe {
    fn kind(&self) -> Kind {
        Kind::Http
    }

    fn spared(&self) -> &[IpNet] {
        &self.exclude
    }

    fn tcp_ports(&self) -> Vec<u16> {
        self.ports.iter().chain(&self.tls_ports).copied().collect()
    }

    /// One observation per host whose web server answered (a TLS failure
    /// counts: the port is open), one run per segment.
    fn run(self: Arc<Self>, segments: Vec<SegmentTargets>) -> Running {
        Box::pin(each_segment(segments, move |segment| {
            Arc::clone(&self).asked(segment)
        }))
    }
}

impl HttpProbe {
    async fn asked(self: Arc<Self>, segment: SegmentTargets) -> Outcome {
        let ports: Arc<[(u16, bool)]> = self
            .ports
            .iter()
            .map(|p| (*p, false))
            .chain(self.tls_ports.iter().map(|p| (*p, true)))
            .collect();
        let started_at = Timestamp::now();
        let mut run = ProbeRun::new(Source::Http, &segment.interface, started_at);
        if segment.targets.is_empty() {
            // No open web port: no client (and its TLS set-up) to build.
            run.notes
                .push("no host found has an HTTP/TLS port open".to_owned());
            return (Vec::new(), vec![run]);
        }
        let fetcher = match Fetcher::new(self.config, Some(segment.source.into())) {
            Ok(fetcher) => Arc::new(fetcher),
            Err(e) => {
                run.notes.push(format!("HTTP step skipped: {e}"));
                return (Vec::new(), vec![run]);
            }
        };
        let limit = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        for ip in segment.targets.iter().copied() {
            let open: Vec<(u16, bool)> = ports
                .iter()
                .copied()
                .filter(|(port, _)| segment.open.is_open(ip.into(), *port))
                .collect();
            let (fetcher, limit, budget) = (
                Arc::clone(&fetcher),
                Arc::clone(&limit),
                Arc::clone(&segment.budget),
            );
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await.expect("never closed");
                let mut banners = Vec::new();
                for (port, tls) in open {
                    let _slot = budget.connection(ip.into()).await;
                    banners.push(fetcher.fetch(IpAddr::V4(ip), port, tls).await);
                }
                (ip, banners)
            });
        }
        let mut observations = Vec::new();
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
            "{} of {} hosts with an open port answered HTTP/TLS on ports {:?}",
            observations.len(),
            segment.targets.len(),
            ports.iter().map(|(p, _)| *p).collect::<Vec<_>>()
        ));
        (observations, vec![run])
    }
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
        favicon_md5: banner.favicon_md5,
        error: banner.error,
    }
}
