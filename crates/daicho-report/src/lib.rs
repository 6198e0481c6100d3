//! The report one daicho agent writes for one scan: what it looked at (segments),
//! what it saw (observations, each tagged with the probe that saw it) and what it
//! concluded (findings with evidence).
//!
//! The report is the contract between agent and collector. It is versioned with
//! [`SCHEMA_VERSION`] and published as a JSON Schema (`schema/report.schema.json`,
//! generated from these types by [`json_schema`] and checked by a test). Changes that
//! only add optional fields or new enum values keep the version: readers map values
//! they do not know to `unknown` instead of failing, so an older collector can still
//! take a newer agent's report. Version 2 stores findings' summaries and evidence as
//! texts of [`says`] (a kind and its values, rendered in the reader's language);
//! version 1 reports are still read, their English sentences kept as written.

mod mac;
pub mod says;
pub mod text;

pub use mac::{MacAddr, MacParseError};
pub use says::{Lang, Param, Says, Text};
pub use text::RawText;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Net};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The report format version this build writes.
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest report format this build still reads: version 1 wrote
/// findings' summaries and evidence as English sentences, read now as
/// [`Says::verbatim`].
pub const OLDEST_SCHEMA_VERSION: u32 = 1;

/// One agent's scan of its segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`] for reports written by this build.
    pub schema_version: u32,
    pub agent: AgentInfo,
    /// UUIDv7: unique per scan and sortable by start time. Re-sending a report with
    /// the same scan id must not change the ledger twice.
    pub scan_id: Uuid,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub segments: Vec<Segment>,
    pub observations: Vec<Observation>,
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// What each probe did on each segment: packets, duration, problems.
    #[serde(default)]
    pub probe_runs: Vec<ProbeRun>,
}

/// Who wrote the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentInfo {
    /// Stable agent id from the agent's configuration (defaults to the host name).
    pub id: String,
    pub hostname: String,
    /// daicho-agent version that wrote the report.
    pub version: String,
}

/// One LAN segment the agent scanned: an interface and the networks on it that
/// the configuration listed explicitly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Segment {
    pub interface: String,
    #[schemars(with = "Vec<String>")]
    pub networks: Vec<Ipv4Net>,
    /// Addresses and networks that received no packet at all.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub excluded: Vec<IpNet>,
    /// The agent's own address on this interface.
    pub address: Option<Ipv4Addr>,
    /// The agent's own MAC on this interface.
    pub mac: Option<MacAddr>,
}

/// Which probe produced an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Arp,
    Snmp,
    Mdns,
    Netbios,
    Ssdp,
    Http,
    Tls,
    Ssh,
    Dhcp,
    /// The opt-in DICOM probe (C-ECHO).
    Dicom,
    /// The opt-in HL7 MLLP check (a TCP connection, no message).
    Hl7,
    /// Heard without asking: DHCP replies to other clients and IPv6 router
    /// advertisements.
    Listen,
    /// A source written by a newer agent than this reader knows.
    #[serde(other)]
    Unknown,
}

/// One thing one probe saw about one device at one moment.
///
/// The common facts (`ip`, `mac`, `vendor`, `flags`) sit at the top; each probe adds
/// its own typed block (`arp`, and later `snmp`, `mdns`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Observation {
    pub source: Source,
    /// Interface of the segment it was seen on (shared: a /16 sweep repeats it
    /// 65k times).
    pub interface: Arc<str>,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    /// Organisation that the IEEE registry lists for the MAC's prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arp: Option<ArpFacts>,
    /// Boxed: SNMP facts are large and rare, and a /16 sweep holds 65k
    /// observations (inline, they doubled the agent's memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snmp: Option<Box<SnmpFacts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netbios: Option<Box<NetbiosFacts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdns: Option<Box<MdnsFacts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Box<HttpFacts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<Box<SshFacts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssdp: Option<Box<SsdpFacts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp: Option<Box<DhcpFacts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_advert: Option<Box<RouterAdvertFacts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dicom: Option<Box<DicomFacts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp_client: Option<Box<DhcpClientFacts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hl7: Option<Box<Hl7Facts>>,
    /// What it announced over LLDP or CDP, heard by the listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Box<LinkFacts>>,
}

/// An LLDP or CDP announcement heard on the segment (switches do not
/// forward them): from the agent's own switch port — naming the switch and
/// the port the agent is plugged into — or from a device that announces
/// itself on a shared port (IP phones, some medical devices).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LinkFacts {
    pub protocol: LinkProtocol,
    /// LLDP's chassis ID (a MAC, an address or a name); CDP's device ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chassis_id: Option<String>,
    /// The sender's port the frame left by (`Gi1/0/14`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_name: Option<String>,
    /// LLDP's system description; CDP's platform and software version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<Capability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_address: Option<IpAddr>,
    /// The port's VLAN (LLDP 802.1 port VLAN ID, CDP native VLAN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkProtocol {
    Lldp,
    Cdp,
}

/// An HL7 MLLP port that accepted a TCP connection (closed at once, no
/// message sent): an HIS/LIS interface or an analyzer's middleware.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Hl7Facts {
    pub port: u16,
}

/// A DHCP client's DISCOVER or REQUEST, heard while listening: the classic
/// fingerprint of a device that answers nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DhcpClientFacts {
    /// `discover`, `request` or `inform`.
    pub message: String,
    /// Option 55, the options it asks for, in its order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameter_list: Vec<u8>,
    /// Option 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_class: Option<String>,
    /// Option 12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    /// Option 61, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The address it asked for (option 50) or had (ciaddr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<std::net::Ipv4Addr>,
}

/// What a DICOM port said to one association request for the
/// Verification SOP class (and one C-ECHO, if accepted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DicomFacts {
    pub port: u16,
    /// The AE title asked for.
    pub called_ae_title: String,
    /// The association was accepted with the Verification context.
    pub accepted: bool,
    /// Why it was rejected or aborted, as the peer said (a rejected called
    /// AE title still proves a DICOM node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation_class_uid: Option<String>,
    /// e.g. `OFFIS_DCMTK_368`, `ORTHANC_1_12_1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation_version_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pdu_length: Option<u32>,
    /// The C-ECHO response status: 0 is success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_status: Option<u16>,
}

/// An IPv6 router advertisement heard on the segment. The observation's
/// `ip` is the router's link-local address and `mac` its Ethernet address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RouterAdvertFacts {
    /// Seconds hosts may use it as default router; 0 = it is not offering
    /// to be one.
    pub router_lifetime: u16,
    /// M bit: addresses from DHCPv6.
    #[serde(default)]
    pub managed: bool,
    /// O bit: other configuration from DHCPv6.
    #[serde(default)]
    pub other_config: bool,
    /// Prefixes it hands out for addresses, as `prefix/length`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<String>,
    /// Recursive DNS servers it names (RFC 8106).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<std::net::Ipv6Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// NAT64 prefixes it announces (PREF64, RFC 8781), as `prefix/length`:
    /// what mobile carriers' IPv6-only networks send.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pref64: Vec<String>,
    /// Whether the configuration sanctions this router (absent when it
    /// lists none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanctioned: Option<bool>,
}

/// What a DHCP server offered to the agent's one DHCPDISCOVER (the agent
/// never requests nor takes a lease), or to another client while the agent
/// listened. The observation's `ip` is the address the offer came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DhcpFacts {
    pub offers: Vec<DhcpOffer>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DhcpOffer {
    /// Option 54: the server's own identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<std::net::Ipv4Addr>,
    /// The address it would lease (yiaddr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered: Option<std::net::Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_mask: Option<std::net::Ipv4Addr>,
    /// Option 3: the default gateways it hands out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routers: Vec<std::net::Ipv4Addr>,
    /// Option 6.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<std::net::Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<u32>,
    /// Whether the server is one the configuration sanctions (absent when
    /// the configuration lists none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanctioned: Option<bool>,
    /// Gateways it hands out that the configuration does not sanction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unexpected_routers: Vec<std::net::Ipv4Addr>,
    /// Heard passively: the client the offer or acknowledgement was for.
    /// Absent when it answered the agent's own DISCOVER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heard_for: Option<MacAddr>,
}

/// What a host said over SSDP/UPnP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SsdpFacts {
    /// Answers to our M-SEARCH and NOTIFYs, distinct.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub announcements: Vec<SsdpAnnouncement>,
    /// The device description: root device first, then embedded ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<UpnpDevice>,
    /// For an Internet gateway: its own uplink address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplink: Option<UpnpUplink>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One SSDP message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SsdpAnnouncement {
    /// `response` (to our M-SEARCH) or `notify`.
    pub kind: String,
    /// ST or NT, e.g. `urn:schemas-upnp-org:device:InternetGatewayDevice:1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usn: Option<String>,
    /// The SERVER header: often the OS and its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// One device of a UPnP description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UpnpDevice {
    /// 0 for the root device, more for embedded ones.
    pub depth: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// `uuid:...`: a stable identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentation_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

/// A gateway's own uplink, as it reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UpnpUplink {
    /// The external address (UPnP GetExternalIPAddress, else NAT-PMP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ip: Option<IpAddr>,
    /// `public`, `carrier_nat` (100.64.0.0/10, mobile uplinks), `private`
    /// or `none`.
    pub kind: String,
    /// NAT-PMP's result code when it answered (0 success, 3 network failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub natpmp_result: Option<u16>,
}

/// An SSH server's identification and host key, read without logging in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SshFacts {
    pub port: u16,
    /// e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`
    pub banner: String,
    /// e.g. `ssh-ed25519`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    /// `SHA256:...` as `ssh-keygen -l` prints it: the same on every address
    /// the device answers from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Why the key is missing, e.g. no key exchange in common.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a host's web servers said to one `GET /` per port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HttpFacts {
    pub banners: Vec<HttpBanner>,
    /// Header values that were not UTF-8: how each was decoded and its bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raw_text: Vec<RawText>,
}

/// One port's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HttpBanner {
    pub port: u16,
    pub tls: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The `Server` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The `WWW-Authenticate` realm: admin pages often name the model here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// The HTML `<title>`, decoded from the page's own charset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A redirect's target (not followed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<TlsCertificate>,
    /// MD5 of `/favicon.ico` (lower-case hex): Recog's favicons.xml names
    /// web applications and devices by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favicon_md5: Option<String>,
    /// Why nothing or only part came back, e.g. an old device's TLS version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A server certificate, trusted or not: its fingerprint is the same on every
/// address the device answers from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TlsCertificate {
    /// SHA-256 of the DER certificate, hex.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_cn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_cn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub san_dns: Vec<String>,
    /// Addresses in the SAN: one of another network is a second leg.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub san_ip: Vec<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    pub self_signed: bool,
}

/// A host as mDNS/DNS-SD showed it on one segment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MdnsFacts {
    /// The host name its services point to, e.g. `printer-3f.local.`
    pub host: String,
    /// Every address its records carried. One outside the segment's networks
    /// is a leg in another network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpAddr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<MdnsService>,
}

/// One DNS-SD service instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MdnsService {
    /// e.g. `_ipp._tcp.local.`
    pub service_type: String,
    /// The full instance name, e.g. `RICOH IM C3000 [3F]._ipp._tcp.local.`
    pub instance: String,
    pub port: u16,
    /// The TXT record: `ty`, `product`, `usb_MFG`, `md`, `model`, ...
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub txt: std::collections::BTreeMap<String, String>,
}

impl Observation {
    /// An observation with only the common facts; a probe then sets its block.
    pub fn new(source: Source, interface: Arc<str>, ip: Option<IpAddr>) -> Observation {
        Observation {
            source,
            interface,
            at: Timestamp::now(),
            ip,
            mac: None,
            vendor: None,
            flags: Vec::new(),
            arp: None,
            snmp: None,
            netbios: None,
            mdns: None,
            http: None,
            ssh: None,
            ssdp: None,
            dicom: None,
            dhcp_client: None,
            hl7: None,
            link: None,
            dhcp: None,
            router_advert: None,
        }
    }
}

/// What a host said to a NetBIOS node status query (NBSTAT, UDP 137).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NetbiosFacts {
    /// The unique `<00>` name: the Windows computer name (コンピュータ名).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computer_name: Option<String>,
    /// The group `<00>` name: workgroup or domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workgroup: Option<String>,
    /// Every name the host registered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<NetbiosName>,
    /// The adapter MAC Windows reports (Samba reports none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    /// Names that were not ASCII: how each was decoded and its bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raw_text: Vec<RawText>,
}

/// One registered NetBIOS name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NetbiosName {
    pub name: String,
    /// What the name stands for: 0x00 workstation/workgroup, 0x03 messenger,
    /// 0x20 file server, 0x1b/0x1c domain roles, 0x1d/0x1e browser roles.
    pub suffix: u8,
    /// A group (workgroup, domain) rather than a unique name.
    pub group: bool,
}

/// A short machine-readable remark on an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// The MAC has the locally administered bit set: randomized (phones, some
    /// laptops) or assigned by software (VMs, containers). It does not identify a device.
    LocallyAdministered,
    /// Another MAC answered for the same IP in this scan.
    IpConflict,
    /// This MAC answered for many IPs: a router doing proxy ARP, or a firewall.
    ProxyArp,
    /// Answered ARP on this segment for an address of another network (the
    /// opt-in ARP-flux probe): the host has a leg in that network.
    ArpFlux,
    #[serde(other)]
    Unknown,
}

/// How an ARP frame revealed a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArpSeenAs {
    /// It answered our request.
    Reply,
    /// It asked about someone else (we only listened).
    Request,
    /// It announced its own address (gratuitous ARP or an ARP probe answer).
    Announcement,
    #[serde(other)]
    Unknown,
}

/// What the ARP probe saw of one (IP, MAC) pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArpFacts {
    pub seen_as: ArpSeenAs,
    /// Frames seen from this pair during the scan.
    pub frames: u32,
    /// Time from our first request to its first reply, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_ms: Option<f64>,
}

/// What a device said over SNMP, or why no credential profile worked. Strings
/// are the device's own (untrusted: escape before display).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpFacts {
    /// Name of the credential profile that worked (never the secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// `v1`, `v2c`, or the v3 security level used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_descr: Option<String>,
    /// Dotted sysObjectID; its enterprise number (1.3.6.1.4.1.N) names the maker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_object_id: Option<String>,
    /// The IANA enterprise number in sysObjectID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<u32>,
    /// The organisation IANA registered that number to: the maker, as the
    /// device's own software says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_contact: Option<String>,
    /// sysUpTime in hundredths of a second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_uptime_ticks: Option<u32>,
    /// sysServices: the layers the device serves; value 4 (layer 3) set
    /// means it routes IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_services: Option<u8>,
    /// IF-MIB interfaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<SnmpInterface>,
    /// IP-MIB ipAddrTable and ipAddressTable: every IPv4 and IPv6 address the
    /// device says it has. An address outside the scanned networks is a leg
    /// in another network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<SnmpAddress>,
    /// ipForwarding: true for a router, or a host routing between its NICs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_forwarding: Option<bool>,
    /// snmpEngineID in hex: a stable identity across addresses and reboots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_id: Option<String>,
    /// The device's ARP cache: hosts it knows, possibly on segments the agent
    /// cannot reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbours: Vec<SnmpNeighbour>,
    /// Routes (inetCidrRouteTable, ipCidrRouteTable or ipRouteTable); the
    /// default route has destination 0.0.0.0/0 or ::/0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<SnmpRoute>,
    /// ENTITY-MIB chassis and modules: model, serial number, maker, revisions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<SnmpEntity>,
    /// HOST-RESOURCES-MIB installed software (the ledger's ソフトウェア).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub software: Vec<SnmpSoftware>,
    /// HOST-RESOURCES-MIB devices: processors, disks, printers, NICs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<SnmpDevice>,
    /// LLDP-MIB neighbours: what is cabled to this device's ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lldp: Vec<SnmpLldpNeighbour>,
    /// CISCO-CDP-MIB neighbours (cdpCacheTable), for switches that speak
    /// CDP rather than (or beside) LLDP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cdp: Vec<SnmpCdpNeighbour>,
    /// A switch's forwarding table: which MAC it learned on which port
    /// (Q-BRIDGE-MIB per VLAN, else BRIDGE-MIB). Where each device is
    /// plugged in is worked out from these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fdb: Vec<SnmpFdbEntry>,
    /// Printer-MIB: a printer's own name and serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer: Option<SnmpPrinter>,
    /// UPS-MIB identification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ups: Option<SnmpUps>,
    /// Tables that failed or were cut short.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// When no profile worked but the device does speak SNMP: each profile's
    /// diagnosis, for the person fixing the credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<SnmpFailure>,
    /// Strings the device sent that were not UTF-8: how each was decoded
    /// and its bytes (see `daicho_report::text`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raw_text: Vec<RawText>,
}

/// One IF-MIB interface.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpInterface {
    pub index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// IANAifType: 6 ethernet, 71 802.11, 243/244 3GPP/3GPP2 cellular (WWAN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_type: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_up: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oper_up: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_mbps: Option<u64>,
}

/// One physical entity (ENTITY-MIB) with a model or serial number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpEntity {
    pub index: u32,
    /// PhysicalClass: 3 chassis, 9 module, 6 power supply, 10 port, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware_rev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_rev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_rev: Option<String>,
}

/// One entry of a device's ARP cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpNeighbour {
    pub ip: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    pub if_index: u32,
    /// True for a static entry, false for a learned one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_static: Option<bool>,
}

/// One route of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpRoute {
    pub destination: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_len: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_index: Option<u32>,
}

/// One address from the device's own address table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpAddress {
    pub ip: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_len: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_index: Option<u32>,
}

/// One installed software package (hrSWInstalledTable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpSoftware {
    pub name: String,
    /// `application`, `operating_system` or `device_driver`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// When it was installed, as the device says (`YYYY-MM-DD HH:MM:SS [±HH:MM]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
}

/// One hardware device of a host (hrDeviceTable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpDevice {
    pub index: u32,
    /// `processor`, `network`, `printer`, `disk_storage`, ... (RFC 2790).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descr: Option<String>,
    /// `running`, `warning`, `testing` or `down`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// Printer-MIB prtGeneralTable (RFC 3805), first printer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpPrinter {
    /// prtGeneralPrinterName: the model, as most printers fill it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// prtGeneralSerialNumber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
}

/// UPS-MIB upsIdent (RFC 1628).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpUps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// upsIdentUPSSoftwareVersion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<String>,
    /// upsIdentAgentSoftwareVersion: the network card's firmware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_software: Option<String>,
    /// upsIdentName: the name staff gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One LLDP neighbour seen on a port (lldpRemTable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpLldpNeighbour {
    /// The local port (lldpLocPortNum) the neighbour was heard on.
    pub local_port: u32,
    /// Chassis id: a MAC, an address or a name, as the neighbour sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chassis_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_descr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_descr: Option<String>,
    /// Management addresses the neighbour announced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpAddr>,
    /// The capabilities the neighbour has enabled (lldpRemSysCapEnabled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<Capability>,
}

/// One CDP neighbour seen on a port (cdpCacheTable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpCdpNeighbour {
    /// The local interface (ifIndex) the neighbour was heard on.
    pub if_index: u32,
    /// cdpCacheDeviceId: usually the neighbour's host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// cdpCacheDevicePort: the neighbour's own port, e.g. `GigabitEthernet0/1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<Capability>,
}

/// What a neighbour says it is, in LLDP or CDP: a bridge or router on a
/// port makes that port an uplink, not the place a device is plugged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Repeater,
    Bridge,
    WlanAccessPoint,
    Router,
    Telephone,
    Docsis,
    Station,
    Host,
    Other,
}

impl Capability {
    /// From LLDP's 16-bit system capabilities (IEEE 802.1AB 8.5.8: bit 0,
    /// value 1, is "other").
    pub fn from_lldp_bits(bits: u16) -> Vec<Capability> {
        const BY_BIT: [Capability; 8] = [
            Capability::Other,
            Capability::Repeater,
            Capability::Bridge,
            Capability::WlanAccessPoint,
            Capability::Router,
            Capability::Telephone,
            Capability::Docsis,
            Capability::Station,
        ];
        (0..8)
            .filter(|bit| bits & (1 << bit) != 0)
            .map(|bit| BY_BIT[bit])
            .collect()
    }

    /// From CDP's 32-bit capabilities (0x01 router, 0x02 transparent and
    /// 0x04 source-route bridge, 0x08 switch, 0x10 host, 0x40 repeater,
    /// 0x80 phone).
    pub fn from_cdp_bits(bits: u32) -> Vec<Capability> {
        let mut found = Vec::new();
        let mut add = |mask: u32, capability| {
            if bits & mask != 0 && !found.contains(&capability) {
                found.push(capability);
            }
        };
        add(0x01, Capability::Router);
        add(0x0e, Capability::Bridge);
        add(0x10, Capability::Host);
        add(0x40, Capability::Repeater);
        add(0x80, Capability::Telephone);
        found
    }

    /// A device that forwards others' frames: its port is an uplink.
    pub fn forwards(self) -> bool {
        matches!(
            self,
            Capability::Bridge | Capability::Router | Capability::Repeater
        )
    }
}

/// One forwarding-table entry of a switch: a MAC it learned on a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpFdbEntry {
    pub mac: MacAddr,
    /// The bridge's own port number (dot1dBasePort).
    pub bridge_port: u32,
    /// The IF-MIB interface of that port (dot1dBasePortIfIndex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_index: Option<u32>,
    /// Q-BRIDGE-MIB's filtering database: the VLAN on most switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u32>,
    /// A static entry an administrator configured, not one learned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub configured: bool,
}

/// One credential profile that did not work, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnmpFailure {
    pub profile: String,
    pub diagnosis: String,
}

/// The kind of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Two or more MACs claimed one IP address.
    IpConflict,
    /// One MAC answered for many IP addresses.
    ProxyArp,
    /// A host with a leg in two networks (2枚挿し), not a router.
    DualHomed,
    /// A cellular (LTE/5G) router: an Internet path of its own.
    MobileRouter,
    /// VPN or remote-maintenance equipment (checklist 2-(2)).
    RemoteAccess,
    /// A DHCP server, or a gateway it hands out, that is not the sanctioned one.
    RogueDhcp,
    #[serde(other)]
    Unknown,
}

impl FindingKind {
    /// Its name as a person reads it.
    pub fn text(self) -> Text {
        match self {
            FindingKind::IpConflict => Text::KindIpConflict,
            FindingKind::ProxyArp => Text::KindProxyArp,
            FindingKind::DualHomed => Text::KindDualHomed,
            FindingKind::MobileRouter => Text::KindMobileRouter,
            FindingKind::RemoteAccess => Text::KindRemoteAccess,
            FindingKind::RogueDhcp => Text::KindRogueDhcp,
            FindingKind::Unknown => Text::KindUnknown,
        }
    }
}

/// A conclusion drawn from observations, with the evidence a person can check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub kind: FindingKind,
    /// 0.0 (a hint) to 1.0 (certain).
    pub confidence: f32,
    /// One line for a person, as a text of [`says`] (rendered in the
    /// reader's language).
    pub summary: Says,
    /// The devices the finding is about.
    pub subjects: Vec<Subject>,
    pub evidence: Vec<Evidence>,
}

/// A device a finding points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Subject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
}

/// One checkable fact behind a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub source: Source,
    /// What was seen, as a text of [`says`].
    pub text: Says,
}

/// What one probe did on one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeRun {
    pub probe: Source,
    pub interface: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub packets_sent: u64,
    pub packets_received: u64,
    /// Send rate actually achieved, packets per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_rate: Option<f64>,
    /// Problems a person should know about (a probe that could not run, a limit hit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ProbeRun {
    /// A run that started at `started_at` and ends now, with no counts yet.
    pub fn new(probe: Source, interface: &str, started_at: Timestamp) -> ProbeRun {
        ProbeRun {
            probe,
            interface: interface.to_owned(),
            started_at,
            finished_at: Timestamp::now(),
            packets_sent: 0,
            packets_received: 0,
            send_rate: None,
            notes: Vec::new(),
        }
    }
}

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the report is not valid JSON or misses required fields: {0}")]
    Invalid(#[from] serde_json::Error),
    #[error(
        "the report has schema_version {found}, this build reads versions {OLDEST_SCHEMA_VERSION} to {SCHEMA_VERSION}; \
         update daicho so that agent and collector match (the collector first)"
    )]
    UnsupportedVersion { found: u64 },
    #[error("the report has no schema_version field; it was not written by a daicho agent")]
    MissingVersion,
}

impl Report {
    /// Reads a report, checking its version before anything else so that a report
    /// from an incompatible agent gets a clear message rather than a field error.
    pub fn from_json(bytes: &[u8]) -> Result<Report, ReportError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            schema_version: Option<u64>,
        }
        let probe: VersionOnly = serde_json::from_slice(bytes)?;
        match probe.schema_version {
            None => Err(ReportError::MissingVersion),
            Some(v)
                if !(u64::from(OLDEST_SCHEMA_VERSION)..=u64::from(SCHEMA_VERSION)).contains(&v) =>
            {
                Err(ReportError::UnsupportedVersion { found: v })
            }
            Some(_) => Ok(serde_json::from_slice(bytes)?),
        }
    }
}

/// The JSON Schema of [`Report`], pretty-printed, as checked in under `schema/`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Report);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
