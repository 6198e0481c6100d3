//! What one connection may hold: a place among a bounded number of open
//! connections (fewer per client address), and a minute of silence at
//! most — so that held or half-sent connections cannot exhaust the
//! collector's file descriptors or memory (also under TLS: this runs before
//! the handshake).

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_io_timeout::TimeoutStream;

/// How many connections, and how patient.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most; more are closed at once.
    pub connections: usize,
    /// Open connections from one address at most.
    pub per_address: usize,
    /// A connection that sends or takes nothing for this long is closed.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: 512,
            per_address: 64,
            idle: Duration::from_secs(60),
        }
    }
}

/// Places beyond [`Limits::connections`] kept for addresses holding only a
/// few: when a handful of addresses fill the house, an agent or a browser
/// elsewhere still gets in.
const RESERVE: usize = 64;
/// What counts as "only a few".
const FEW: usize = 4;

/// Admits connections within [`Limits`]; an acceptor for axum-server, in
/// front of TLS when there is TLS.
#[derive(Clone)]
pub struct Guard {
    limits: Limits,
    open: Arc<Mutex<Open>>,
}

/// The connections open now: in all, and per address.
#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

impl Guard {
    pub fn new(limits: Limits) -> Guard {
        Guard {
            limits,
            open: Arc::default(),
        }
    }

    /// A place for a connection from `address`, if there is one.
    fn admit(&self, address: IpAddr) -> Option<Place> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let from_there = open.by_address.get(&address).copied().unwrap_or(0);
        let room = from_there < self.limits.per_address.max(1)
            && (open.total < self.limits.connections.max(1)
                || (from_there < FEW && open.total < self.limits.connections + RESERVE));
        if !room {
            return None;
        }
        open.total += 1;
        *open.by_address.entry(address).or_insert(0) += 1;
        Some(Place {
            address,
            open: Arc::clone(&self.open),
        })
    }
}

/// A connection's place; given back when the connection closes.
struct Place {
    address: IpAddr,
    open: Arc<Mutex<Open>>,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(count) = open.by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}

/// An admitted connection: closed when idle too long, its place kept
/// while it is open.
pub struct Guarded {
    stream: Pin<Box<TimeoutStream<TcpStream>>>,
    _place: Place,
}

impl<S: Send + 'static> Accept<TcpStream, S> for Guard {
    type Stream = Guarded;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Guarded, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let admitted = stream
            .peer_addr()
            .ok()
            .and_then(|peer| self.admit(peer.ip()));
        std::future::ready(match admitted {
            Some(place) => {
                let _ = stream.set_nodelay(true);
                let mut stream = TimeoutStream::new(stream);
                stream.set_read_timeout(Some(self.limits.idle));
                stream.set_write_timeout(Some(self.limits.idle));
                Ok((
                    Guarded {
                        stream: Box::pin(stream),
                        _place: place,
                    },
                    service,
                ))
            }
            // Dropping the stream closes it: the descriptor is free at once.
            None => Err(io::Error::other(
                "connection limit reached; connection closed",
            )),
        })
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_bounded_in_all_and_per_address_and_given_back() {
        let guard = Guard::new(Limits {
            connections: 10,
            per_address: 6,
            idle: Duration::from_secs(1),
        });
        let address = |n: u8| IpAddr::from([198, 18, 0, n]);
        let mut held: Vec<Place> = (0..6).map(|_| guard.admit(address(1)).unwrap()).collect();
        assert!(
            guard.admit(address(1)).is_none(),
            "a seventh from one address"
        );
        held.extend((0..4).map(|_| guard.admit(address(2)).unwrap()));
        // The house is full (10), but an address holding few still gets in.
        assert!(guard.admit(address(2)).is_none(), "beyond the few, nothing");
        let newcomer = guard.admit(address(3));
        assert!(newcomer.is_some(), "a newcomer gets a reserved place");
        drop(newcomer);
        held.remove(0);
        assert!(
            guard.admit(address(1)).is_some(),
            "a place given back is free again"
        );
    }
}
