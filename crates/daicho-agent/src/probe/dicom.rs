//! The DICOM probe (opt-in, `[dicom] enabled = true`): on each host the
//! ARP sweep found in scope, each configured port (104, 11112, 4242 by
//! default) that the scan's port check found open gets one association for
//! the Verification SOP class, one C-ECHO if accepted, then A-RELEASE (see
//! `daicho-dicom`); an HL7 MLLP port (2575) the port check found open is
//! reported as it is — that check's connection, closed at once with no
//! message, was all it gets. One port of a host at a time, a bounded
//! number of hosts at once: modalities and analyzers are the fragile
//! devices of a hospital network.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use daicho_dicom::{ProbeError, Titles};
use daicho_report::{DicomFacts, Hl7Facts, Observation, ProbeRun, Source};
use daicho_scope::ScopeError;
use jiff::Timestamp;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Context, Kind, Outcome, Probe, Running, Section, SegmentTargets, each_segment};
use crate::duration::duration_text;

/// `[dicom]`: one C-ECHO per DICOM port of each host found.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DicomConfig {
    pub enabled: bool,
    pub ports: Vec<u16>,
    /// HL7 MLLP ports: connected to and closed, nothing sent.
    pub hl7_ports: Vec<u16>,
    /// Our AE title (at most 16 characters).
    pub calling_ae_title: String,
    /// The AE title asked for; nodes strict about it reject the
    /// association, which still shows they are DICOM nodes.
    pub called_ae_title: String,
    #[serde(deserialize_with = "duration_text")]
    pub timeout: Duration,
    /// Hosts asked at the same time on a segment.
    pub concurrency: usize,
}

impl Default for DicomConfig {
    fn default() -> Self {
        DicomConfig {
            enabled: false,
            ports: vec![104, 11112, 4242],
            hl7_ports: vec![2575],
            calling_ae_title: "DAICHO".into(),
            called_ae_title: "ANY-SCP".into(),
            timeout: Duration::from_secs(3),
            concurrency: 4,
        }
    }
}

impl Section for DicomConfig {
    fn kind(&self) -> Kind {
        Kind::Dicom
    }

    fn probe(&self, _: &Context<'_>) -> Result<Option<Arc<dyn Probe>>, ScopeError> {
        Ok(self.enabled.then(|| {
            Arc::new(DicomProbe {
                ports: self.ports.clone(),
                hl7_ports: self.hl7_ports.clone(),
                titles: Titles {
                    calling: self.calling_ae_title.clone(),
                    called: self.called_ae_title.clone(),
                },
                timeout: self.timeout,
                concurrency: self.concurrency,
            }) as Arc<dyn Probe>
        }))
    }
}

/// What the DICOM probe needs.
#[derive(Debug, Clone)]
pub struct DicomProbe {
    pub ports: Vec<u16>,
    pub hl7_ports: Vec<u16>,
    pub titles: Titles,
    pub timeout: Duration,
    pub concurrency: usize,
}

impl Probe for DicomProbe {
    fn kind(&self) -> Kind {
        Kind::Dicom
    }

    fn tcp_ports(&self) -> Vec<u16> {
        self.ports.iter().chain(&self.hl7_ports).copied().collect()
    }

    /// One observation per DICOM port that answered, one run per segment.
    fn run(self: Arc<Self>, segments: Vec<SegmentTargets>) -> Running {
        Box::pin(each_segment(segments, move |segment| {
            Arc::clone(&self).asked(segment)
        }))
    }
}

impl DicomProbe {
    async fn asked(self: Arc<Self>, segment: SegmentTargets) -> Outcome {
        let started_at = Timestamp::now();
        let limit = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        for ip in segment.targets.iter().copied() {
            let (limit, budget) = (Arc::clone(&limit), Arc::clone(&segment.budget));
            let probe = Arc::clone(&self);
            let (dicom_ports, hl7) = (
                segment.open_of(ip, &self.ports),
                segment.open_of(ip, &self.hl7_ports),
            );
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await.expect("never closed");
                // A host's ports one after another, never at once.
                let mut answers = Vec::new();
                for port in dicom_ports {
                    let _slot = budget.connection(ip.into()).await;
                    let target = SocketAddr::new(ip.into(), port);
                    let answer = daicho_dicom::verify(target, &probe.titles, probe.timeout).await;
                    answers.push((port, answer));
                }
                (ip, answers, hl7)
            });
        }
        let mut observations = Vec::new();
        let mut not_dicom = 0;
        while let Some(joined) = tasks.join_next().await {
            let (ip, answers, hl7) = joined.expect("a DICOM task does not panic");
            for port in hl7 {
                observations.push(Observation {
                    hl7: Some(Box::new(Hl7Facts { port })),
                    ..Observation::new(Source::Hl7, Arc::clone(&segment.interface), Some(ip.into()))
                });
            }
            for (port, answer) in answers {
                let answer = match answer {
                    Ok(answer) => answer,
                    // Something listens but does not speak DICOM.
                    Err(ProbeError::NotDicom(_)) => {
                        not_dicom += 1;
                        continue;
                    }
                    // Closed or silent: nothing to say.
                    Err(_) => continue,
                };
                let facts = DicomFacts {
                    port,
                    called_ae_title: self.titles.called.clone(),
                    accepted: answer.accepted,
                    rejected: answer.rejected,
                    implementation_class_uid: answer.implementation_class_uid,
                    implementation_version_name: answer.implementation_version_name,
                    max_pdu_length: answer.max_pdu_length,
                    echo_status: answer.echo_status,
                };
                observations.push(Observation {
                    dicom: Some(Box::new(facts)),
                    ..Observation::new(
                        Source::Dicom,
                        Arc::clone(&segment.interface),
                        Some(ip.into()),
                    )
                });
            }
        }
        let ports: Vec<String> = self.ports.iter().map(u16::to_string).collect();
        let dicom = observations.iter().filter(|o| o.dicom.is_some()).count();
        let mut notes = vec![format!(
            "{dicom} DICOM answers from {} hosts on ports {}; {} HL7 MLLP ports open",
            segment.targets.len(),
            ports.join(", "),
            observations.len() - dicom
        )];
        if not_dicom > 0 {
            notes.push(format!(
                "{not_dicom} ports accepted a connection but did not answer as DICOM"
            ));
        }
        let run = ProbeRun {
            notes,
            ..ProbeRun::new(Source::Dicom, &segment.interface, started_at)
        };
        (observations, vec![run])
    }
}
