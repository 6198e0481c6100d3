//! A namespace lab: simulated LAN segments for daicho's end-to-end tests,
//! benchmarks and demo.
//!
//! A [`Lab`] owns one "switch" namespace holding a Linux bridge per segment,
//! and one namespace per host, joined to bridges by veth pairs created directly
//! inside those namespaces. Nothing is ever created in the root namespace, and
//! every address lives in 198.18.0.0/15 (RFC 2544, benchmarking).
//!
//! Names carry the creating process id and a counter, so labs in parallel
//! tests never collide. Dropping a `Lab` (also while unwinding from a panic)
//! kills every process inside its namespaces and deletes them; a lab left
//! behind by a killed process is removed by the next `Lab::new`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Every lab namespace name starts with this, then `<pid>-<n>-`.
const PREFIX: &str = "dlab-";
static NEXT_LAB: AtomicU32 = AtomicU32::new(0);

/// True when the lab can run (root). Outside CI, a test may skip with a visible
/// reason; in CI (`CI` set) a missing root is a failure, never a silent skip.
pub fn can_run(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: the namespace lab needs root, and CI must run it (run .ci/run as root)");
    }
    eprintln!(
        "SKIPPED {test}: the namespace lab needs root; run the suite with scripts/test (uses sudo)"
    );
    false
}

/// A set of namespaces torn down together.
pub struct Lab {
    id: String,
    /// Scratch files (daemon configs, captures, reports), removed with the lab.
    dir: PathBuf,
    switch: String,
    namespaces: Vec<String>,
    children: Vec<Child>,
    next_link: u32,
}

/// A simulated LAN segment: a bridge in the lab's switch namespace.
#[derive(Debug, Clone)]
pub struct Segment {
    pub bridge: String,
}

/// A host: a network namespace.
#[derive(Debug, Clone)]
pub struct Host {
    pub netns: String,
}

impl Lab {
    /// Starts an empty lab. `tag` is a short word for people reading `ip netns`.
    pub fn new(tag: &str) -> Result<Lab> {
        remove_stale_labs();
        let n = NEXT_LAB.fetch_add(1, Ordering::Relaxed);
        let id = format!("{PREFIX}{}-{n}-{tag}", std::process::id());
        let dir = std::env::temp_dir().join(&id);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut lab = Lab {
            switch: format!("{id}-sw"),
            dir,
            id,
            namespaces: Vec::new(),
            children: Vec::new(),
            next_link: 0,
        };
        let switch = lab.switch.clone();
        lab.add_namespace(&switch)?;
        Ok(lab)
    }

    fn add_namespace(&mut self, name: &str) -> Result<()> {
        run(Command::new("ip").args(["netns", "add", name]))?;
        self.namespaces.push(name.to_owned());
        run(Command::new("ip").args(["-n", name, "link", "set", "lo", "up"])).map(drop)
    }

    /// A new segment: a bridge without STP and without multicast snooping
    /// (snooping prunes SSDP and other multicast the probes rely on).
    pub fn segment(&mut self, name: &str) -> Result<Segment> {
        let bridge = format!("br-{name}");
        let sw = self.switch.as_str();
        run(Command::new("ip").args(["-n", sw, "link", "add", &bridge, "type", "bridge"]))?;
        run(Command::new("ip").args([
            "-n",
            sw,
            "link",
            "set",
            &bridge,
            "type",
            "bridge",
            "stp_state",
            "0",
            "mcast_snooping",
            "0",
        ]))?;
        run(Command::new("ip").args(["-n", sw, "link", "set", &bridge, "up"]))?;
        Ok(Segment { bridge })
    }

    /// A new host namespace with only `lo`.
    pub fn host(&mut self, name: &str) -> Result<Host> {
        let netns = format!("{}-{name}", self.id);
        self.add_namespace(&netns)?;
        Ok(Host { netns })
    }

    /// Plugs `host` into `segment` with an interface `ifname`, a MAC and addresses
    /// (CIDR form). `mac` None keeps the kernel's random one.
    pub fn attach(
        &mut self,
        host: &Host,
        segment: &Segment,
        ifname: &str,
        mac: Option<&str>,
        addresses: &[&str],
    ) -> Result<()> {
        let switch = self.switch.clone();
        self.cable(&switch, &segment.bridge, host, ifname, mac, addresses)
            .map(drop)
    }

    /// A veth from a new port of `bridge` in namespace `switch` to `host`'s
    /// `ifname`; returns the port's name.
    fn cable(
        &mut self,
        switch: &str,
        bridge: &str,
        host: &Host,
        ifname: &str,
        mac: Option<&str>,
        addresses: &[&str],
    ) -> Result<String> {
        self.next_link += 1;
        let port = format!("p{}", self.next_link);
        run(Command::new("ip").args([
            "-n",
            switch,
            "link",
            "add",
            &port,
            "type",
            "veth",
            "peer",
            "name",
            ifname,
            "netns",
            &host.netns,
        ]))?;
        run(Command::new("ip").args(["-n", switch, "link", "set", &port, "master", bridge, "up"]))?;
        if let Some(mac) = mac {
            host.ip(&["link", "set", ifname, "address", mac])?;
        }
        for address in addresses {
            host.ip(&["addr", "add", address, "dev", ifname])?;
        }
        host.ip(&["link", "set", ifname, "up"])?;
        Ok(port)
    }

    /// Starts a long-running process inside `host`; it is killed with the lab.
    /// Returns its pid (`ip netns exec` execs the program, so it is the program's).
    pub fn spawn(&mut self, host: &Host, program: impl AsRef<OsStr>, args: &[&str]) -> Result<u32> {
        let child = host
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .spawn()
            .context("starting a process in a lab namespace")?;
        let pid = child.id();
        self.children.push(child);
        Ok(pid)
    }

    /// A host that answers ARP for every address of `answers` (e.g. a whole /16):
    /// the addresses are local routes on `lo`, and `scanner` (the sweeping host's
    /// address) is routed back out of `eth0`.
    pub fn arp_responder(
        &mut self,
        segment: &Segment,
        name: &str,
        mac: &str,
        answers: &str,
        scanner: &str,
    ) -> Result<Host> {
        let host = self.host(name)?;
        self.attach(&host, segment, "eth0", Some(mac), &[])?;
        // In the main table: in the local table the scanner's own address would
        // become local too and its replies would be dropped as martians.
        host.ip(&["route", "add", "local", answers, "dev", "lo"])?;
        host.ip(&["route", "add", &format!("{scanner}/32"), "dev", "eth0"])?;
        Ok(host)
    }

    /// One segment for a benchmark: a responder answering ARP for every
    /// address of `answers` (see [`Lab::arp_responder`]) and a scanner at
    /// `scanner` (`IP/PREFIX`); returns (scanner, responder).
    pub fn scanner_and_responder(&mut self, scanner: &str, answers: &str) -> Result<(Host, Host)> {
        let segment = self.segment("bench")?;
        let scanner_ip = scanner.split('/').next().context("scanner address")?;
        let responder = self.arp_responder(
            &segment,
            "responder",
            "02:00:00:00:00:01",
            answers,
            scanner_ip,
        )?;
        let host = self.host("scanner")?;
        self.attach(
            &host,
            &segment,
            "eth0",
            Some("02:00:00:00:ff:fe"),
            &[scanner],
        )?;
        Ok((host, responder))
    }

    /// Makes `host` drop, without an answer, the inbound packets each nft
    /// match selects (e.g. `tcp flags & (syn | ack) == syn`, `udp dport
    /// 137`): a firewall that stays silent.
    pub fn drop_inbound(&self, host: &Host, matches: &[&str]) -> Result<()> {
        let rules: String = matches.iter().map(|m| format!("  {m} drop\n")).collect();
        let file = self.dir.join(format!("drop-{}.nft", host.netns));
        std::fs::write(
            &file,
            format!(
                "table inet lab_drop {{\n chain input {{\n  type filter hook input priority 0; policy accept;\n{rules} }}\n}}\n"
            ),
        )?;
        host.exec("nft", &["-f", &file.to_string_lossy()]).map(drop)
    }

    /// The lab's id, the prefix of all its namespace names.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The lab's scratch directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts net-snmp's `snmpd` in `host`, listening on `address` (UDP 161),
    /// with `config` as its only configuration (snmpd.conf syntax), and waits
    /// until it serves requests. Each instance keeps its engine ID and USM
    /// users in a persistent directory of its own.
    pub fn snmpd(&mut self, host: &Host, address: &str, config: &str) -> Result<()> {
        let base = self.dir.join(format!("snmpd-{}", host.netns));
        let persistent = base.join("persist");
        std::fs::create_dir_all(&persistent)?;
        let conf = base.join("snmpd.conf");
        let log = base.join("snmpd.log");
        std::fs::write(&conf, config)?;
        let child = host
            .command("snmpd")
            .env("SNMP_PERSISTENT_DIR", &persistent)
            .env("MIBS", "")
            .args(["-f", "-C", "-c"])
            .arg(&conf)
            .arg("-Lf")
            .arg(&log)
            .arg(format!("udp:{address}:161"))
            .stdin(Stdio::null())
            .spawn()
            .context("starting snmpd (apt-get install snmpd)")?;
        self.children.push(child);
        wait_for(Duration::from_secs(10), || {
            std::fs::read_to_string(&log).is_ok_and(|l| l.contains("NET-SNMP version"))
        })
        .with_context(|| {
            format!(
                "snmpd in {} did not start; see {}",
                host.netns,
                log.display()
            )
        })
    }
}

impl Lab {
    /// Lets `segment`'s bridge pass LLDP frames (01:80:c2:00:00:0e), which a
    /// Linux bridge keeps to itself by default, as a real switch's neighbours
    /// would not: here the bridge stands for cabling, not for a switch.
    pub fn forward_lldp(&self, segment: &Segment) -> Result<()> {
        let sw = self.switch.as_str();
        let bridge = segment.bridge.as_str();
        run(Command::new("ip").args([
            "-n",
            sw,
            "link",
            "set",
            bridge,
            "type",
            "bridge",
            "group_fwd_mask",
            "0x4000",
        ]))
        .map(drop)
    }

    /// Starts Debian's `lldpd` in `host` on `ifname` (a comma list),
    /// announcing `hostname` every second, and returns its control socket
    /// (for `lldpcli -u`). With `agentx`, it also serves LLDP-MIB through the
    /// snmpd master agent listening on that socket. `extra` are more lldpd
    /// arguments (`-cc`: CDP instead of LLDP while no LLDP peer answers).
    pub fn lldpd(
        &mut self,
        host: &Host,
        ifname: &str,
        hostname: &str,
        agentx: Option<&Path>,
        extra: &[&str],
    ) -> Result<PathBuf> {
        // One directory per instance: two may speak on one interface (one
        // LLDP, one CDP: lldpd sends CDP alone once CDP is forced).
        let base = self
            .dir
            .join(format!("lldpd-{}-{}", host.netns, self.children.len()));
        std::fs::create_dir_all(&base)?;
        let conf = base.join("lldpd.conf");
        std::fs::write(
            &conf,
            format!("configure system hostname {hostname}\nconfigure lldp tx-interval 1\n"),
        )?;
        let control = base.join("lldpd.sock");
        let mut command = host.command("lldpd");
        command
            .args(["-d", "-I", ifname, "-u"])
            .arg(&control)
            .arg("-p")
            .arg(base.join("lldpd.pid"))
            .arg("-O")
            .arg(&conf);
        if let Some(socket) = agentx {
            command.args(["-x", "-X"]).arg(socket);
        }
        command.args(extra);
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(base.join("lldpd.log"))?)
            .spawn()
            .context("starting lldpd (apt-get install lldpd)")?;
        self.children.push(child);
        Ok(control)
    }
}

/// Waits (at most 15 s) until the lldpd behind `control` in `host` lists
/// a neighbour named `name`.
pub fn wait_for_lldp_neighbour(host: &Host, control: &Path, name: &str) -> Result<()> {
    wait_for(Duration::from_secs(15), || {
        host.command("lldpcli")
            .arg("-u")
            .arg(control)
            .args(["show", "neighbors"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(name))
    })
    .with_context(|| format!("the lldpd in {} did not hear {name}", host.netns))
}

/// A managed switch of the lab: a namespace of its own with a bridge `br0`
/// that holds the switch's management address, as a real switch's
/// management interface does. Its ports are veths to hosts and to other
/// switches, and its snmpd serves the bridge's own forwarding table.
#[derive(Debug, Clone)]
pub struct ManagedSwitch {
    pub host: Host,
    access_vlan: Option<u16>,
}

/// The forwarding table of a Linux bridge as BRIDGE-MIB and Q-BRIDGE-MIB,
/// for snmpd's `pass_persist`.
const BRIDGE_MIB_SCRIPT: &str = include_str!("../bridge-mib.py");

impl Lab {
    /// A managed switch `name` whose bridge has `mac` and the management
    /// address `address` (CIDR form). With `access_vlan`, its snmpd serves
    /// the forwarding table per VLAN (Q-BRIDGE-MIB) as one access VLAN: the
    /// lab's kernel may lack bridge VLAN filtering, and one VLAN per switch
    /// is what an access switch has.
    pub fn managed_switch(
        &mut self,
        name: &str,
        mac: &str,
        address: &str,
        access_vlan: Option<u16>,
    ) -> Result<ManagedSwitch> {
        let host = self.host(name)?;
        host.ip(&[
            "link",
            "add",
            "br0",
            "address",
            mac,
            "type",
            "bridge",
            "stp_state",
            "0",
            "mcast_snooping",
            "0",
        ])?;
        host.ip(&["addr", "add", address, "dev", "br0"])?;
        host.ip(&["link", "set", "br0", "up"])?;
        Ok(ManagedSwitch { host, access_vlan })
    }

    /// Plugs `host` into a new port of `switch`; returns the port's name.
    pub fn plug(
        &mut self,
        host: &Host,
        switch: &ManagedSwitch,
        ifname: &str,
        mac: Option<&str>,
        addresses: &[&str],
    ) -> Result<String> {
        let netns = switch.host.netns.clone();
        self.cable(&netns, "br0", host, ifname, mac, addresses)
    }

    /// Cables a new port of `lower` to a new port of `upper` (an uplink);
    /// returns (the port on `upper`, the port on `lower`).
    pub fn uplink(
        &mut self,
        upper: &ManagedSwitch,
        lower: &ManagedSwitch,
    ) -> Result<(String, String)> {
        self.next_link += 1;
        let on_lower = format!("up{}", self.next_link);
        let on_upper = self.plug(&lower.host, upper, &on_lower, None, &[])?;
        lower
            .host
            .ip(&["link", "set", &on_lower, "master", "br0"])?;
        Ok((on_upper, on_lower))
    }

    /// Starts snmpd on `switch` at `address`: IF-MIB from the kernel, the
    /// bridge's forwarding table through `bridge-mib.py`, and an AgentX
    /// master socket (returned) for lldpd's LLDP-MIB. `config` comes first
    /// (community, sysName, sysLocation, `override`s).
    pub fn switch_snmpd(
        &mut self,
        switch: &ManagedSwitch,
        address: &str,
        config: &str,
    ) -> Result<PathBuf> {
        let script = self.dir.join("bridge-mib.py");
        std::fs::write(&script, BRIDGE_MIB_SCRIPT)?;
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let agentx = self.dir.join(format!("agentx-{}.sock", switch.host.netns));
        let vlan = switch
            .access_vlan
            .map(|v| v.to_string())
            .unwrap_or_default();
        let config = format!(
            "{config}\npass_persist .1.3.6.1.2.1.17 {} br0 {vlan}\nmaster agentx\nagentXSocket {}\n",
            script.display(),
            agentx.display()
        );
        self.snmpd(&switch.host, address, &config)?;
        Ok(agentx)
    }
}

impl Lab {
    /// Starts Samba's `nmbd` in `host` on `address` (a /24 of the host's)
    /// with its NetBIOS name and workgroup, every path under the lab's
    /// directory, and waits until it answers a node status query.
    pub fn nmbd(&mut self, host: &Host, address: &str, name: &str, workgroup: &str) -> Result<()> {
        let base = self.dir.join(format!("nmbd-{}", host.netns));
        for sub in ["lock", "state", "cache", "private", "pid", "log", "ncalrpc"] {
            std::fs::create_dir_all(base.join(sub))?;
        }
        let conf = base.join("smb.conf");
        let dir = base.display();
        std::fs::write(
            &conf,
            format!(
                "[global]\nnetbios name = {name}\nworkgroup = {workgroup}\n\
                 interfaces = {address}/24\nbind interfaces only = yes\n\
                 lock directory = {dir}/lock\nstate directory = {dir}/state\n\
                 cache directory = {dir}/cache\nprivate dir = {dir}/private\n\
                 pid directory = {dir}/pid\nlog file = {dir}/log/nmbd.log\n\
                 ncalrpc dir = {dir}/ncalrpc\n"
            ),
        )?;
        let child = host
            .command("nmbd")
            .args(["-F", "--no-process-group", "-s"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nmbd (apt-get install samba)")?;
        self.children.push(child);
        wait_for(Duration::from_secs(20), || {
            host.exec("nmblookup", &["-A", address])
                .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(&format!("{name} ")))
        })
        .with_context(|| format!("nmbd in {} did not answer; see {dir}/log", host.netns))
    }
}

impl Lab {
    /// Starts `avahi-daemon` in `host` as `hostname` on `interfaces`, with
    /// `services` as (file stem, avahi service XML). Its config and pid
    /// directories are compiled in, so a per-host copy is bind-mounted over
    /// both inside the namespace's private mount namespace. Waits until every
    /// service is established.
    pub fn avahi(
        &mut self,
        host: &Host,
        hostname: &str,
        interfaces: &[&str],
        services: &[(&str, &str)],
    ) -> Result<()> {
        let base = self.dir.join(format!("avahi-{}", host.netns));
        let etc = base.join("etc");
        let run_dir = base.join("run");
        std::fs::create_dir_all(etc.join("services"))?;
        std::fs::create_dir_all(&run_dir)?;
        std::fs::write(
            etc.join("avahi-daemon.conf"),
            format!(
                "[server]\nhost-name={hostname}\nuse-ipv4=yes\nuse-ipv6=no\nenable-dbus=no\n\
                 allow-interfaces={}\n[publish]\npublish-workstation=yes\n",
                interfaces.join(",")
            ),
        )?;
        for (stem, xml) in services {
            std::fs::write(etc.join("services").join(format!("{stem}.service")), xml)?;
        }
        let log = base.join("avahi.log");
        let script = format!(
            "mkdir -p /run/avahi-daemon && mount --bind {run} /run/avahi-daemon && \
             mount --bind {etc} /etc/avahi && \
             exec avahi-daemon -f {etc}/avahi-daemon.conf --no-chroot --no-drop-root --no-rlimits",
            run = run_dir.display(),
            etc = etc.display()
        );
        let child = host
            .command("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(base.join("avahi.err"))?)
            .spawn()
            .context("starting avahi-daemon (apt-get install avahi-daemon)")?;
        self.children.push(child);
        let expected = services.len();
        wait_for(Duration::from_secs(20), || {
            let text = std::fs::read_to_string(&log).unwrap_or_default()
                + &std::fs::read_to_string(base.join("avahi.err")).unwrap_or_default();
            text.contains("Server startup complete")
                && text.matches("successfully established").count() >= expected
        })
        .with_context(|| {
            format!(
                "avahi-daemon in {} did not start; see {}",
                host.netns,
                base.display()
            )
        })
    }
}

impl Lab {
    /// Starts Debian's `lighttpd` in `host`, serving `pages` (path under the
    /// document root, bytes) with `extra` appended to its configuration
    /// (ports, TLS, auth), and waits until `port` listens. Returns its
    /// directory, where `extra` may refer to files the test wrote.
    pub fn lighttpd(
        &mut self,
        host: &Host,
        port: u16,
        pages: &[(&str, &[u8])],
        extra: &str,
    ) -> Result<PathBuf> {
        let base = self.dir.join(format!("lighttpd-{}", host.netns));
        let root = base.join("www");
        std::fs::create_dir_all(&root)?;
        for (path, bytes) in pages {
            std::fs::write(root.join(path), bytes)?;
        }
        let conf = base.join("lighttpd.conf");
        std::fs::write(
            &conf,
            format!(
                "server.modules = (\"mod_auth\", \"mod_authn_file\", \"mod_openssl\")\n\
                 server.document-root = \"{root}\"\nserver.port = {port}\n\
                 server.pid-file = \"{base}/lighttpd.pid\"\nserver.errorlog = \"{base}/error.log\"\n\
                 server.tag = \"lighttpd\"\nindex-file.names = (\"index.html\")\n\
                 {types}{extra}\n",
                root = root.display(),
                base = base.display(),
                // lighttpd refuses a variable set twice: `extra` may set it.
                types = if extra.contains("mimetype.assign") {
                    ""
                } else {
                    "mimetype.assign = (\".html\" => \"text/html\")\n"
                },
            ),
        )?;
        let child = host
            .command("lighttpd")
            .args(["-D", "-f"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(base.join("stderr.log"))?)
            .spawn()
            .context("starting lighttpd (apt-get install lighttpd lighttpd-mod-openssl)")?;
        self.children.push(child);
        self.wait_listening(host, port)?;
        Ok(base)
    }

    /// Starts a program in `host` that should listen on TCP `port` and waits
    /// until it does (for servers without a helper of their own).
    pub fn serve(&mut self, host: &Host, port: u16, program: &str, args: &[&str]) -> Result<()> {
        let child = host
            .command(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {program}"))?;
        self.children.push(child);
        self.wait_listening(host, port)
    }

    fn wait_listening(&self, host: &Host, port: u16) -> Result<()> {
        let needle = format!(":{port} ");
        wait_for(Duration::from_secs(10), || {
            host.exec("ss", &["-Hltn"])
                .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(&needle))
        })
        .with_context(|| format!("nothing listens on TCP {port} in {}", host.netns))
    }
}

impl Lab {
    /// Starts OpenSSH's `sshd` in `host` on port 22 with a fresh host key of
    /// `key_type` (`ed25519`, `ecdsa`, `rsa`) and `extra` config lines (e.g.
    /// `KexAlgorithms ...`); returns the key's fingerprint as `ssh-keygen -l`
    /// prints it (`SHA256:...`).
    pub fn sshd(&mut self, host: &Host, key_type: &str, extra: &str) -> Result<String> {
        let base = self.dir.join(format!("sshd-{}", host.netns));
        std::fs::create_dir_all(&base)?;
        let key = base.join(format!("ssh_host_{key_type}_key"));
        run(Command::new("ssh-keygen")
            .args(["-q", "-N", "", "-t", key_type, "-f"])
            .arg(&key))?;
        let listing = run(Command::new("ssh-keygen").arg("-lf").arg(&key))?;
        let fingerprint = String::from_utf8_lossy(&listing.stdout)
            .split_whitespace()
            .nth(1)
            .context("ssh-keygen -l printed no fingerprint")?
            .to_owned();
        let conf = base.join("sshd_config");
        std::fs::write(
            &conf,
            format!(
                "Port 22\nHostKey {}\nPidFile {}/sshd.pid\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nUsePAM no\n{extra}\n",
                key.display(),
                base.display()
            ),
        )?;
        // sshd wants its privilege separation directory to exist.
        std::fs::create_dir_all("/run/sshd")?;
        let child = host
            .command("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(base.join("sshd.log"))?)
            .spawn()
            .context("starting sshd (apt-get install openssh-server)")?;
        self.children.push(child);
        self.wait_listening(host, 22)?;
        Ok(fingerprint)
    }
}

impl Lab {
    /// Starts Debian's `miniupnpd` (nftables flavour) in `host`: SSDP and
    /// UPnP IGD on `lan`, NAT-PMP too, `wan` as its uplink; `extra` adds
    /// config lines (friendly_name, model_number, serial, uuid ...). Waits
    /// until its HTTP server listens.
    pub fn miniupnpd(&mut self, host: &Host, lan: &str, wan: &str, extra: &str) -> Result<()> {
        let base = self.dir.join(format!("miniupnpd-{}", host.netns));
        std::fs::create_dir_all(&base)?;
        let conf = base.join("miniupnpd.conf");
        std::fs::write(
            &conf,
            format!(
                "ext_ifname={wan}\nlistening_ip={lan}\nport=5000\nenable_natpmp=yes\n\
                 enable_upnp=yes\nsecure_mode=yes\nnotify_interval=30\n\
                 lease_file={}/leases\n{extra}\n\
                 allow 1024-65535 0.0.0.0/0 1024-65535\ndeny 0-65535 0.0.0.0/0 0-65535\n",
                base.display()
            ),
        )?;
        // Its nftables table; the daemon fills in its chains.
        host.exec("nft", &["add", "table", "inet", "miniupnpd"])?;
        let log = base.join("miniupnpd.log");
        let child = host
            .command("miniupnpd")
            .args(["-d", "-f"])
            .arg(&conf)
            // The default pid file is shared and a second daemon would refuse.
            .arg("-P")
            .arg(base.join("miniupnpd.pid"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(base.join("miniupnpd.err"))?)
            .spawn()
            .context("starting miniupnpd (apt-get install miniupnpd nftables)")?;
        self.children.push(child);
        self.wait_listening(host, 5000)
    }
}

impl Lab {
    /// Starts Debian's `dnsmasq` in `host` as a DHCP server only (no DNS) on
    /// `interface`, leasing `range` ("first,last,mask") and handing out
    /// `router` as the gateway.
    pub fn dnsmasq(
        &mut self,
        host: &Host,
        interface: &str,
        range: &str,
        router: &str,
    ) -> Result<()> {
        let base = self.dir.join(format!("dnsmasq-{}", host.netns));
        std::fs::create_dir_all(&base)?;
        let child = host
            .command("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--port=0",
                "--user=root",
            ])
            .args(["--bind-interfaces", "--log-dhcp", "--log-facility=-"])
            .arg(format!("--interface={interface}"))
            .arg(format!("--dhcp-range={range},1h"))
            .arg(format!("--dhcp-option=option:router,{router}"))
            .arg(format!(
                "--dhcp-leasefile={}",
                base.join("leases").display()
            ))
            .arg(format!("--pid-file={}", base.join("dnsmasq.pid").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(base.join("dnsmasq.log"))?)
            .spawn()
            .context("starting dnsmasq (apt-get install dnsmasq-base)")?;
        self.children.push(child);
        wait_for(Duration::from_secs(10), || {
            host.exec("ss", &["-Hlun"])
                .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(":67 "))
        })
        .with_context(|| format!("dnsmasq does not listen on UDP 67 in {}", host.netns))
    }
}

impl Lab {
    /// Starts Debian's `radvd` in `host`, advertising itself on `interface`
    /// as IPv6 default router with `prefix` (e.g. "2001:db8:1::/64"). The
    /// periodic interval is radvd's longest (30 min), so a prompt advert
    /// answers a router solicitation (or is one of radvd's first three).
    pub fn radvd(&mut self, host: &Host, interface: &str, prefix: &str) -> Result<()> {
        let base = self.dir.join(format!("radvd-{}", host.netns));
        std::fs::create_dir_all(&base)?;
        let conf = base.join("radvd.conf");
        std::fs::write(
            &conf,
            format!(
                "interface {interface} {{\n AdvSendAdvert on;\n MinRtrAdvInterval 1350;\n \
                 MaxRtrAdvInterval 1800;\n prefix {prefix} {{ }};\n}};\n"
            ),
        )?;
        host.sysctl("net.ipv6.conf.all.forwarding=1")?;
        // radvd cannot send from a link-local address still under duplicate
        // address detection, and then waits 16 s for its next try.
        wait_for(Duration::from_secs(10), || {
            host.ip(&[
                "-6", "-o", "addr", "show", "dev", interface, "scope", "link",
            ])
            .is_ok_and(|out| {
                let text = String::from_utf8_lossy(&out.stdout);
                text.contains("fe80::") && !text.contains("tentative")
            })
        })
        .with_context(|| {
            format!(
                "no usable link-local address on {interface} in {}",
                host.netns
            )
        })?;
        let child = host
            .command("radvd")
            .args(["--nodaemon", "--logmethod", "stderr", "--config"])
            .arg(&conf)
            .arg("--pidfile")
            .arg(base.join("radvd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(base.join("radvd.log"))?)
            .spawn()
            .context("starting radvd (apt-get install radvd)")?;
        self.children.push(child);
        // It logs once its sockets are set up.
        let log = base.join("radvd.log");
        wait_for(Duration::from_secs(10), || {
            std::fs::read_to_string(&log).is_ok_and(|text| text.contains("started"))
        })
        .with_context(|| format!("radvd did not start in {}", host.netns))
    }
}

/// Where snmpsim (PyPI `snmpsim`, recorded walks of real devices served as
/// SNMP agents) is installed: a virtualenv, as `scripts/lib.sh`'s
/// `ensure_snmpsim` makes it. Outside CI a missing one skips the tests that
/// need it (with a visible reason); under CI it fails them.
pub fn snmpsim_venv(test: &str) -> Option<PathBuf> {
    match std::env::var_os("DAICHO_SNMPSIM") {
        Some(venv) => Some(PathBuf::from(venv)),
        None if std::env::var_os("CI").is_some() => {
            panic!("{test}: DAICHO_SNMPSIM is not set; scripts/test installs snmpsim and sets it")
        }
        None => {
            eprintln!("SKIPPED {test}: DAICHO_SNMPSIM is not set (scripts/test installs snmpsim)");
            None
        }
    }
}

/// The recordings `snmpsim-data` ships (PyPI), inside an snmpsim virtualenv.
pub fn snmpsim_data(venv: &Path) -> Result<PathBuf> {
    let lib = venv.join("lib");
    for entry in std::fs::read_dir(&lib).with_context(|| format!("reading {}", lib.display()))? {
        let data = entry?.path().join("site-packages/snmpsim_data/data");
        if data.is_dir() {
            return Ok(data);
        }
    }
    bail!("snmpsim-data is not installed in {}", venv.display())
}

impl Lab {
    /// Serves recorded SNMP walks with snmpsim in `host` on `address`
    /// (UDP 161): each `(community, file)` pair a recording (`.snmprec`, or
    /// `.snmprec.bz2` as snmpsim-data ships them) answering to that
    /// community, as it was recorded (v1, v2c). Waits until it answers.
    pub fn snmpsim(
        &mut self,
        venv: &Path,
        host: &Host,
        address: &str,
        recordings: &[(&str, &Path)],
    ) -> Result<()> {
        let base = self.dir.join(format!("snmpsim-{}", host.netns));
        let (data, cache) = (base.join("data"), base.join("cache"));
        std::fs::create_dir_all(&data)?;
        std::fs::create_dir_all(&cache)?;
        for (community, file) in recordings {
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let suffix = if name.ends_with(".bz2") {
                ".snmprec.bz2"
            } else {
                ".snmprec"
            };
            std::fs::copy(file, data.join(format!("{community}{suffix}")))
                .with_context(|| format!("copying {}", file.display()))?;
        }
        // snmpsim drops root before binding, to `nobody`: it must read the
        // data, write its index cache, and bind port 161.
        run(Command::new("chmod").args(["-R", "a+rwX"]).arg(&base))?;
        host.sysctl("net.ipv4.ip_unprivileged_port_start=0")?;
        let log = base.join("snmpsim.log");
        let child = host
            .command(venv.join("bin/snmpsim-command-responder"))
            .arg(format!("--data-dir={}", data.display()))
            .arg(format!("--cache-dir={}", cache.display()))
            .arg(format!("--agent-udpv4-endpoint={address}:161"))
            .args(["--process-user=nobody", "--process-group=nogroup"])
            .arg(format!("--logging-method=file:{}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting snmpsim-command-responder")?;
        self.children.push(child);
        let (community, _) = recordings.first().context("no recording to serve")?;
        wait_for(Duration::from_secs(60), || {
            host.exec(
                "snmpget",
                &[
                    "-v2c",
                    "-c",
                    community,
                    "-r",
                    "0",
                    "-t",
                    "1",
                    "-On",
                    address,
                    "1.3.6.1.2.1.1.3.0",
                ],
            )
            .is_ok()
        })
        .with_context(|| {
            format!(
                "snmpsim in {} did not answer; see {}",
                host.netns,
                log.display()
            )
        })
    }
}

/// `daicho-agent scan` arguments that turn off each of `probes`.
pub fn skip_probes(probes: &[&'static str]) -> Vec<&'static str> {
    probes.iter().flat_map(|p| ["--skip-probe", p]).collect()
}

/// Polls `ready` every 50 ms until it holds or `limit` passes.
pub fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + limit;
    while !ready() {
        if Instant::now() > deadline {
            bail!("not ready within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

impl Host {
    /// A command that runs inside this namespace.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.netns]).arg(program);
        command
    }

    /// Runs `ip ARGS` in this namespace.
    pub fn ip(&self, args: &[&str]) -> Result<Output> {
        run(Command::new("ip").args(["-n", &self.netns]).args(args))
    }

    /// The ifIndex of `ifname` in this namespace (what its snmpd numbers it).
    pub fn if_index(&self, ifname: &str) -> Result<u32> {
        let out = self.ip(&["-o", "link", "show", ifname])?;
        let text = String::from_utf8_lossy(&out.stdout);
        let index = text.split(':').next().unwrap_or_default().trim();
        index
            .parse()
            .with_context(|| format!("no ifIndex for {ifname} in {}: {text:?}", self.netns))
    }

    /// Runs a program to completion in this namespace; fails on a non-zero exit.
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<Output> {
        run(self.command(program).args(args))
    }

    /// Sets a per-namespace sysctl, e.g. `net.ipv4.conf.all.arp_ignore=1`.
    pub fn sysctl(&self, setting: &str) -> Result<()> {
        self.exec("sysctl", &["-q", "-w", setting]).map(drop)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in self.namespaces.iter().rev() {
            remove_namespace(ns);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Kills whatever still runs inside `ns` (daemons that forked away from us
/// included) and deletes it; its veths go with it.
fn remove_namespace(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                // SAFETY: plain kill(2) on a process inside our own namespace.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
    let _ = Command::new("ip").args(["netns", "del", ns]).status();
}

/// Removes namespaces of labs whose creating process is gone (killed tests).
fn remove_stale_labs() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            remove_namespace(&name);
            // The switch namespace is named after the lab, like its scratch directory.
            if let Some(id) = name.strip_suffix("-sw") {
                let _ = std::fs::remove_dir_all(std::env::temp_dir().join(id));
            }
        }
    }
}

/// Runs a command; a non-zero exit is an error carrying its stderr.
pub fn run(command: &mut Command) -> Result<Output> {
    let out = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// A program's run as the kernel counted it.
#[derive(Debug, Clone)]
pub struct Measured {
    /// From spawn to exit.
    pub wall: Duration,
    /// User and system time.
    pub cpu: Duration,
    pub max_rss_kib: i64,
    pub stdout: String,
}

/// Runs `command` to completion (stdout read, stderr passed through) and
/// measures it with wait4; a non-zero exit is an error.
pub fn measure(command: &mut Command) -> Result<Measured> {
    let start = Instant::now();
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {command:?}"))?;
    let pid = child.id() as i32;
    let output = std::thread::spawn(move || {
        use std::io::Read;
        let mut text = String::new();
        child.stdout.context("stdout")?.read_to_string(&mut text)?;
        Ok::<_, anyhow::Error>(text)
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet reaped (std's Child was moved away unwaited).
    if unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    let wall = start.elapsed();
    let stdout = output.join().expect("reader thread")?;
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{command:?} failed with status {status}");
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Measured {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss,
        stdout,
    })
}

/// A binary built next to the running one (same cargo target directory), e.g.
/// `daicho-agent` for the demo and the benchmark.
pub fn sibling_binary(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("the running binary has a directory")?;
    // Test binaries live one level deeper, in target/<profile>/deps.
    for candidate in [dir.join(name), dir.join("..").join(name)] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "{name} is not built next to {}; run `cargo build --workspace --bins` first",
        exe.display()
    )
}

/// A background packet capture inside a namespace, for checking what a host
/// received. Started before the traffic, read after [`Capture::stop`].
pub struct Capture {
    child: Child,
    file: PathBuf,
}

impl Capture {
    /// Starts `tcpdump` on `ifname` in `host` with a BPF `filter`, and waits until
    /// it is listening.
    pub fn start(host: &Host, ifname: &str, filter: &str, file: &Path) -> Result<Capture> {
        let mut child = host
            .command("tcpdump")
            // Immediate mode: without it the kernel hands packets over in
            // blocks, and those of the last block are lost when tcpdump stops.
            .args(["-i", ifname, "-n", "-U", "--immediate-mode", "-w"])
            .arg(file)
            .arg(filter)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting tcpdump (apt-get install tcpdump)")?;
        // tcpdump says "listening on IFACE" once the capture is live.
        let mut stderr = child.stderr.take().context("tcpdump stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut seen = Vec::new();
            let mut buf = [0u8; 256];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&seen).contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(10)).is_err() {
            let _ = child.kill();
            bail!(
                "tcpdump in {} did not start listening within 10 s",
                host.netns
            );
        }
        Ok(Capture {
            child,
            file: file.to_owned(),
        })
    }

    /// Stops the capture and returns the number of packets it holds.
    pub fn stop(self) -> Result<usize> {
        Ok(self.stop_timestamps()?.len())
    }

    /// Stops the capture and returns each packet's time (seconds since the epoch).
    pub fn stop_timestamps(self) -> Result<Vec<f64>> {
        Capture::times(&self.stop_lines()?)
    }

    /// The times (seconds since the epoch) of `tcpdump -n -tt` lines; a
    /// line without one is an error.
    pub fn times(lines: &[String]) -> Result<Vec<f64>> {
        lines
            .iter()
            .map(|line| {
                let time = line.split_whitespace().next().unwrap_or_default();
                time.parse()
                    .with_context(|| format!("tcpdump line without a time: {line}"))
            })
            .collect()
    }

    /// Stops the capture and returns its packets as `tcpdump -n -tt` prints
    /// them, one line each, the time (seconds since the epoch) first.
    pub fn stop_lines(mut self) -> Result<Vec<String>> {
        // SIGINT makes tcpdump flush and close the file.
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = run(Command::new("tcpdump")
            .args(["-n", "-tt", "-r"])
            .arg(&self.file))?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
