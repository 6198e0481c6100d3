//! One scan: [`plan`] decides everything before the first packet,
//! [`run`] sweeps every segment at once and runs the probes, and
//! [`assemble`] turns what was heard into a report.

mod assemble;
mod plan;
mod run;

pub use assemble::{build_report, hostname};
pub use plan::{LocalInterface, Overrides, PlannedSegment, ScanPlan, local_interfaces};
pub use run::run;

#[cfg(test)]
mod tests {
    use super::*;
    use daicho_arp::{Sighting, SweepConfig, SweepOutcome};
    use daicho_report::ArpSeenAs;
    use daicho_report::{FindingKind, Flag, Report};
    use daicho_scope::{InterfaceFacts, Policy};
    use jiff::Timestamp;

    use crate::probe::Kind;
    use std::time::{Duration, SystemTime};

    fn plan() -> ScanPlan {
        let interfaces = vec![LocalInterface {
            facts: InterfaceFacts {
                name: "eth1".into(),
                addresses: vec!["198.18.1.2/24".parse().unwrap()],
                is_up: true,
            },
            mac: Some("02:00:00:00:00:01".parse().unwrap()),
        }];
        let segment = daicho_scope::parse_segment_arg("eth1=198.18.1.0/24").unwrap();
        ScanPlan::resolve(
            "test".into(),
            &[segment],
            &[daicho_scope::parse_exclude("198.18.1.9").unwrap()],
            &Policy::default(),
            &interfaces,
            SweepConfig::default(),
            false,
        )
        .unwrap()
    }

    fn interfaces() -> Vec<LocalInterface> {
        vec![LocalInterface {
            facts: InterfaceFacts {
                name: "eth1".into(),
                addresses: vec!["198.18.1.2/24".parse().unwrap()],
                is_up: true,
            },
            mac: None,
        }]
    }

    #[test]
    fn the_plan_comes_from_the_file_and_the_command_line_together() {
        let text = "[[segment]]\ninterface = \"eth1\"\nnetworks = [\"198.18.1.0/24\"]\n\
                    skip = [\"ssh\"]\n[http]\nexclude = [\"198.18.1.40\"]\n\
                    [[snmp.profile]]\nname = \"ro\"\nversion = \"2c\"\ncommunity = \"x\"\n\
                    [snmp]\ntargets = [\"198.18.9.1\"]\n";
        let config = crate::config::AgentConfig::parse(text).unwrap();
        let overrides = Overrides {
            rate: Some(50),
            excludes: vec!["198.18.1.9".into()],
            state_dir: Some(std::env::temp_dir()),
            ..Overrides::default()
        };
        let plan = ScanPlan::from_config(&config, &overrides, &interfaces()).unwrap();
        assert_eq!(plan.sweep.rate, 50);
        assert_eq!(plan.target_count(), 252);
        // Every probe the sections turn on, in their order; DHCP is opt-in.
        let kinds: Vec<Kind> = plan.probes.iter().map(|p| p.kind()).collect();
        assert_eq!(
            kinds,
            [
                Kind::Ssdp,
                Kind::Ssh,
                Kind::Http,
                Kind::Mdns,
                Kind::Netbios,
                Kind::Snmp
            ]
        );
        let http = plan.probes.iter().find(|p| p.kind() == Kind::Http).unwrap();
        assert_eq!(
            http.spared(),
            ["198.18.1.40/32".parse::<ipnet::IpNet>().unwrap()]
        );
        assert_eq!(plan.segments[0].skip, [Kind::Ssh]);
        // An explicit SNMP target the command line excludes is refused,
        // unless SNMP is skipped altogether.
        let excluded = Overrides {
            excludes: vec!["198.18.9.0/24".into()],
            ..overrides.clone()
        };
        let err = ScanPlan::from_config(&config, &excluded, &interfaces()).unwrap_err();
        assert!(err.to_string().contains("198.18.9.1"), "{err}");
        let skipped = Overrides {
            skip: vec![Kind::Snmp, Kind::Http],
            ..excluded
        };
        let plan = ScanPlan::from_config(&config, &skipped, &interfaces()).unwrap();
        assert!(
            plan.probes
                .iter()
                .all(|p| ![Kind::Snmp, Kind::Http].contains(&p.kind()))
        );
    }

    fn sighting(ip: &str, mac: &str) -> Sighting {
        Sighting {
            ip: ip.parse().unwrap(),
            mac: mac.parse().unwrap(),
            seen_as: ArpSeenAs::Reply,
            frames: 1,
            first_seen: SystemTime::now(),
            reply_after: Some(Duration::from_micros(1234)),
        }
    }

    #[test]
    fn global_exclusions_reach_every_segment() {
        let plan = plan();
        assert_eq!(plan.target_count(), 252);
        assert!(
            !plan.segments[0]
                .resolved
                .targets
                .contains(&"198.18.1.9".parse().unwrap())
        );
    }

    #[test]
    fn observations_carry_vendor_flags_and_findings() {
        let plan = plan();
        let outcome = SweepOutcome {
            sightings: vec![
                sighting("198.18.1.10", "00:00:00:00:00:0a"),
                sighting("198.18.1.10", "02:11:22:33:44:55"),
                sighting("198.18.1.11", "50:a6:d8:00:00:01"),
            ],
            stats: daicho_arp::SweepStats {
                started: SystemTime::now(),
                finished: SystemTime::now(),
                packets_sent: 506,
                frames_received: 3,
                sending: Duration::from_secs(1),
                notes: vec![],
            },
        };
        let now = Timestamp::now();
        let report = build_report(&plan, vec![outcome], now, now, false);
        let obs = &report.observations;
        assert_eq!(obs.len(), 3);
        assert_eq!(obs[0].vendor.as_deref(), Some("XEROX CORPORATION"));
        assert_eq!(obs[0].flags, vec![Flag::IpConflict]);
        assert_eq!(obs[1].vendor, None);
        assert_eq!(
            obs[1].flags,
            vec![Flag::LocallyAdministered, Flag::IpConflict]
        );
        assert_eq!(obs[2].flags, vec![]);
        assert_eq!(obs[2].arp.as_ref().unwrap().reply_ms, Some(1.2));
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].kind, FindingKind::IpConflict);
        assert!(
            report.findings[0].evidence[0]
                .text
                .render(daicho_report::Lang::En)
                .contains("02:11:22:33:44:55")
        );
        assert_eq!(report.probe_runs[0].send_rate, Some(506.0));
        assert_eq!(report.segments[0].excluded.len(), 1);
        // The report is valid against its own reader.
        let json = serde_json::to_vec(&report).unwrap();
        assert_eq!(Report::from_json(&json).unwrap(), report);
    }
}
