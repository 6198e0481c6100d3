//! What the listener heard: one [`Sighting`] per (IP, MAC) pair, and the pure
//! analysis of conflicts and proxy ARP over them.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use daicho_report::{ArpSeenAs, MacAddr};

use crate::frame::{ArpRepr, Operation};

/// One MAC seen claiming one IPv4 address.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
    pub seen_as: ArpSeenAs,
    pub frames: u32,
    pub first_seen: SystemTime,
    /// Our first request to this address until its first reply.
    pub reply_after: Option<Duration>,
}

/// Collects sightings from parsed frames.
///
/// The sightings live in a plain vector and the map only holds their indexes:
/// a /16 sweep hears 65k pairs, and a map of whole sightings (twice the size
/// while it grows) was the largest part of the agent's memory.
#[derive(Debug, Default)]
pub struct Sightings {
    all: Vec<Sighting>,
    index: HashMap<(Ipv4Addr, MacAddr), u32>,
}

impl Sightings {
    /// Records a frame heard on the segment, unless it is our own or an address
    /// probe that claims nothing. `since_request` says how long ago we first
    /// asked for the sender's address, when we did; it is called only for the
    /// first reply of a pair, and the clock is read only for a new pair, so the
    /// per-frame path stays cheap. Returns the sender's address when the frame
    /// is a reply, so the sweep can stop asking it.
    pub fn record(
        &mut self,
        repr: &ArpRepr,
        own_mac: MacAddr,
        since_request: impl FnOnce() -> Option<Duration>,
    ) -> Option<Ipv4Addr> {
        if repr.sender_mac == own_mac || repr.is_probe() || repr.sender_mac.is_multicast() {
            return None;
        }
        let seen_as = match repr.operation {
            Operation::Reply => ArpSeenAs::Reply,
            Operation::Request if repr.is_announcement() => ArpSeenAs::Announcement,
            Operation::Request => ArpSeenAs::Request,
        };
        let is_reply = seen_as == ArpSeenAs::Reply;
        let all = &mut self.all;
        let slot = *self
            .index
            .entry((repr.sender_ip, repr.sender_mac))
            .or_insert_with(|| {
                all.push(Sighting {
                    ip: repr.sender_ip,
                    mac: repr.sender_mac,
                    seen_as,
                    frames: 0,
                    first_seen: SystemTime::now(),
                    reply_after: None,
                });
                (all.len() - 1) as u32
            });
        let entry = &mut self.all[slot as usize];
        entry.frames = entry.frames.saturating_add(1);
        if strength(seen_as) > strength(entry.seen_as) {
            entry.seen_as = seen_as;
        }
        if is_reply && entry.reply_after.is_none() {
            entry.reply_after = since_request();
        }
        is_reply.then_some(repr.sender_ip)
    }

    /// All sightings, ordered by address then MAC.
    pub fn into_sorted(self) -> Vec<Sighting> {
        let mut all = self.all;
        all.sort_unstable_by_key(|s| (s.ip, s.mac));
        all
    }
}

/// How firmly a frame ties the address to the MAC: a reply answers for it, an
/// announcement states it, a request merely uses it as the sender.
fn strength(seen_as: ArpSeenAs) -> u8 {
    match seen_as {
        ArpSeenAs::Reply => 3,
        ArpSeenAs::Announcement => 2,
        ArpSeenAs::Request => 1,
        ArpSeenAs::Unknown => 0,
    }
}

/// A MAC that answers for at least this many addresses is treated as a proxy
/// (a router with proxy ARP, a firewall, a load balancer). Hosts with a few
/// aliases on one NIC stay below it.
pub const PROXY_ARP_MIN_ADDRESSES: usize = 8;

/// Conflicts and proxies among the sightings.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// Addresses claimed by two or more MACs, with those MACs.
    pub conflicts: BTreeMap<Ipv4Addr, Vec<MacAddr>>,
    /// MACs that claimed [`PROXY_ARP_MIN_ADDRESSES`] or more addresses.
    pub proxies: BTreeMap<MacAddr, Vec<Ipv4Addr>>,
}

/// Finds IP conflicts and proxy-ARP behaviour. Every sighting is a claim: the
/// sender fields of any ARP frame, request or reply, state the sender's own
/// binding (RFC 5227 conflict detection relies on this too).
pub fn analyze(sightings: &[Sighting]) -> Analysis {
    let mut by_ip: BTreeMap<Ipv4Addr, Vec<MacAddr>> = BTreeMap::new();
    let mut by_mac: BTreeMap<MacAddr, Vec<Ipv4Addr>> = BTreeMap::new();
    for s in sightings {
        by_ip.entry(s.ip).or_default().push(s.mac);
        by_mac.entry(s.mac).or_default().push(s.ip);
    }
    by_ip.retain(|_, macs| {
        macs.sort();
        macs.dedup();
        macs.len() > 1
    });
    by_mac.retain(|_, ips| {
        ips.sort();
        ips.dedup();
        ips.len() >= PROXY_ARP_MIN_ADDRESSES
    });
    Analysis {
        conflicts: by_ip,
        proxies: by_mac,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(last: u8) -> MacAddr {
        MacAddr([0x00, 0x1b, 0x21, 0, 0, last])
    }

    fn reply(ip: [u8; 4], from: MacAddr) -> ArpRepr {
        ArpRepr {
            eth_source: from,
            eth_destination: OWN,
            operation: Operation::Reply,
            sender_mac: from,
            sender_ip: ip.into(),
            target_mac: OWN,
            target_ip: [198, 18, 1, 2].into(),
        }
    }

    const OWN: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);

    #[test]
    fn replies_requests_and_announcements() {
        let mut s = Sightings::default();
        assert_eq!(
            s.record(&reply([198, 18, 1, 10], mac(1)), OWN, || Some(
                Duration::from_millis(2)
            )),
            Some([198, 18, 1, 10].into())
        );
        let mut ask = ArpRepr::request(mac(2), [198, 18, 1, 11].into(), [198, 18, 1, 1].into());
        assert_eq!(s.record(&ask, OWN, || None), None);
        ask.target_ip = ask.sender_ip;
        s.record(&ask, OWN, || None);
        let probe = ArpRepr::request(mac(3), Ipv4Addr::UNSPECIFIED, [198, 18, 1, 12].into());
        s.record(&probe, OWN, || None);
        let ours = ArpRepr::request(OWN, [198, 18, 1, 2].into(), [198, 18, 1, 13].into());
        s.record(&ours, OWN, || None);

        let all = s.into_sorted();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].seen_as, ArpSeenAs::Reply);
        assert_eq!(all[0].reply_after, Some(Duration::from_millis(2)));
        assert_eq!(all[1].seen_as, ArpSeenAs::Announcement);
        assert_eq!(all[1].frames, 2);
    }

    #[test]
    fn a_reply_upgrades_an_earlier_request() {
        let mut s = Sightings::default();
        let ask = ArpRepr::request(mac(2), [198, 18, 1, 11].into(), [198, 18, 1, 1].into());
        s.record(&ask, OWN, || None);
        s.record(&reply([198, 18, 1, 11], mac(2)), OWN, || {
            Some(Duration::from_millis(1))
        });
        let all = s.into_sorted();
        assert_eq!(all[0].seen_as, ArpSeenAs::Reply);
        assert_eq!(all[0].frames, 2);
    }

    #[test]
    fn conflicts_and_proxies() {
        let mut s = Sightings::default();
        s.record(&reply([198, 18, 1, 10], mac(1)), OWN, || None);
        s.record(&reply([198, 18, 1, 10], mac(2)), OWN, || None);
        for last in 20..20 + PROXY_ARP_MIN_ADDRESSES as u8 {
            s.record(&reply([198, 18, 1, last], mac(9)), OWN, || None);
        }
        // Seven aliases on one NIC are not a proxy.
        for last in 40..40 + PROXY_ARP_MIN_ADDRESSES as u8 - 1 {
            s.record(&reply([198, 18, 1, last], mac(8)), OWN, || None);
        }
        let analysis = analyze(&s.into_sorted());
        assert_eq!(analysis.conflicts.len(), 1);
        assert_eq!(
            analysis.conflicts[&[198, 18, 1, 10].into()],
            vec![mac(1), mac(2)]
        );
        assert_eq!(analysis.proxies.keys().collect::<Vec<_>>(), vec![&mac(9)]);
    }

    #[test]
    fn a_request_claims_its_sender_address_too() {
        let mut s = Sightings::default();
        s.record(&reply([198, 18, 1, 10], mac(1)), OWN, || None);
        let ask = ArpRepr::request(mac(2), [198, 18, 1, 10].into(), [198, 18, 1, 1].into());
        s.record(&ask, OWN, || None);
        assert_eq!(analyze(&s.into_sorted()).conflicts.len(), 1);
    }
}
