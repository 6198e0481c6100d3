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
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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

/// Admits connections within [`Limits`]; an acceptor for axum-server, in
/// front of TLS when there is TLS.
#[derive(Clone)]
pub struct Guard {
    limits: Limits,
    open: Arc<Semaphore>,
    by_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Guard {
    pub fn new(limits: Limits) -> Guard {
        Guard {
            limits,
            open: Arc::new(Semaphore::new(limits.connections.max(1))),
            by_address: Arc::default(),
        }
    }

    /// A place for a connection from `address`, if there is one.
    fn admit(&self, address: IpAddr) -> Option<Place> {
        let permit = Arc::clone(&self.open).try_acquire_owned().ok()?;
        let mut counts = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(address).or_insert(0);
        if *count >= self.limits.per_address {
            return None;
        }
        *count += 1;
        Some(Place {
            _permit: permit,
            address,
            by_address: Arc::clone(&self.by_address),
        })
    }
}

/// A connection's place; given back when the connection closes.
struct Place {
    _permit: OwnedSemaphorePermit,
    address: IpAddr,
    by_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut counts = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
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
            connections: 3,
            per_address: 2,
            idle: Duration::from_secs(1),
        });
        let a: IpAddr = "198.18.0.1".parse().unwrap();
        let b: IpAddr = "198.18.0.2".parse().unwrap();
        let first = guard.admit(a).unwrap();
        let _second = guard.admit(a).unwrap();
        assert!(guard.admit(a).is_none(), "a third from one address");
        let _third = guard.admit(b).unwrap();
        assert!(guard.admit(b).is_none(), "a fourth in all");
        drop(first);
        assert!(guard.admit(b).is_some(), "a place given back is free again");
    }
}
