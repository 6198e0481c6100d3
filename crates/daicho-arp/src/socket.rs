//! The AF_PACKET socket the raw sweep hands to pnet (`Config::socket_fd`).
//!
//! pnet opens an ETH_P_ALL socket that also delivers every frame we send and all
//! IP traffic on the link. At tens of thousands of packets per second that
//! doubles the receive work and overflows the socket buffer, so we open the
//! socket ourselves with a kernel-side filter: only ARP frames, never our own
//! outgoing ones, and a larger receive buffer where the kernel allows it.

use std::io;
use std::os::fd::RawFd;

/// `ldh [12]; jeq #0x0806, accept, drop; accept: ret #64; drop: ret #0`: keep
/// Ethernet frames whose EtherType is ARP, first 64 bytes only (enough for ARP).
const ARP_ONLY: [libc::sock_filter; 4] = [
    libc::sock_filter {
        code: 0x28,
        jt: 0,
        jf: 0,
        k: 12,
    },
    libc::sock_filter {
        code: 0x15,
        jt: 0,
        jf: 1,
        k: 0x0806,
    },
    libc::sock_filter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 64,
    },
    libc::sock_filter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 0,
    },
];

/// Receive buffer we ask for: a few hundred milliseconds of replies at the
/// highest rates, so a briefly descheduled receiver loses nothing.
const RECEIVE_BUFFER: libc::c_int = 8 << 20;

/// Opens a raw packet socket that sees only incoming ARP frames. Fails with
/// `PermissionDenied` without CAP_NET_RAW.
pub fn open_arp_socket() -> io::Result<RawFd> {
    open_filtered_socket(&ARP_ONLY)
}

/// Opens a raw packet socket (for pnet's `Config::socket_fd`) that sees only
/// the incoming frames `filter` (a classic BPF program, e.g. from
/// `tcpdump -dd`) accepts. Fails with `PermissionDenied` without CAP_NET_RAW.
pub fn open_filtered_socket(filter: &[libc::sock_filter]) -> io::Result<RawFd> {
    // Protocol 0: the socket hears nothing until pnet binds it to the
    // interface with ETH_P_ALL. Opened with ETH_P_ALL it would be hooked to
    // every device at once, and unhooking it at that bind waits for an RCU
    // grace period (synchronize_net, ~12 ms here).
    // SAFETY: plain socket(2) call; the fd is owned by the caller (pnet closes it).
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let configured = configure(fd, filter);
    if configured.is_err() {
        // SAFETY: fd was opened above and is not shared yet.
        unsafe { libc::close(fd) };
    }
    configured.map(|()| fd)
}

/// Drops one half of a raw channel on a thread of its own: closing an
/// AF_PACKET socket waits for an RCU grace period (~10 ms), time a scan
/// need not spend waiting.
pub fn close_in_background<T: Send + 'static>(half: T) {
    std::thread::spawn(move || drop(half));
}

fn configure(fd: RawFd, filter: &[libc::sock_filter]) -> io::Result<()> {
    let program = libc::sock_fprog {
        len: u16::try_from(filter.len()).map_err(|_| io::Error::other("BPF program too long"))?,
        filter: filter.as_ptr().cast_mut(),
    };
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &program)?;
    // Linux ≥ 4.20; older kernels still work, we just discard our own frames in user space.
    let _ = setsockopt(
        fd,
        libc::SOL_PACKET,
        libc::PACKET_IGNORE_OUTGOING,
        &1 as &libc::c_int,
    );
    // SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it the kernel caps SO_RCVBUF at rmem_max.
    if setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &RECEIVE_BUFFER).is_err() {
        setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &RECEIVE_BUFFER)?;
    }
    Ok(())
}

fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: value points to a live T of the given size for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
