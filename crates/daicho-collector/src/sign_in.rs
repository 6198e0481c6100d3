//! Sign-in throttling for the web pages: failures counted per client
//! address and name, a bounded number of password checks at once, and the
//! same work for a name that does not exist.

/// Failed sign-ins, counted per client address: five for one name, or
/// twenty for any names, within [`SignInGuard::WINDOW`] refuse that address
/// (for that name, or at all) until the window has passed. A stranger
/// repeating five wrong passwords every five minutes therefore locks a name
/// out only from the stranger's own address — staff at their own PCs still
/// sign in — and every refusal is in the audit log. At most
/// [`SignInGuard::VERIFYING`] password checks (argon2id, 19 MiB each) run at
/// once, and an attempt counts as a failure from the moment it starts, so
/// a hundred simultaneous guesses get five checks, not a hundred.
pub struct SignInGuard {
    by_address: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, AddressFailures>>,
    verifying: tokio::sync::Semaphore,
}

/// One address's failures within the window.
pub(crate) struct AddressFailures {
    since: std::time::Instant,
    /// Failures (and attempts under way) per name, lower-cased.
    names: std::collections::HashMap<String, u32>,
    total: u32,
    /// Blocks already written to the audit log (once each).
    audited: std::collections::HashSet<Option<String>>,
}

/// Why a sign-in is refused before any password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// This name, from this address.
    Name(std::time::Duration),
    /// Any name, from this address.
    Address(std::time::Duration),
}

impl Refusal {
    pub(crate) fn wait(self) -> std::time::Duration {
        match self {
            Refusal::Name(wait) | Refusal::Address(wait) => wait,
        }
    }
}

impl Default for SignInGuard {
    fn default() -> Self {
        SignInGuard {
            by_address: Default::default(),
            verifying: tokio::sync::Semaphore::new(Self::VERIFYING),
        }
    }
}

impl SignInGuard {
    /// A turn to check a password: at most [`SignInGuard::VERIFYING`] at once.
    pub(crate) async fn turn_to_verify(
        &self,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, tokio::sync::AcquireError> {
        self.verifying.acquire().await
    }

    pub const MAX_FAILURES: u32 = 5;
    pub const MAX_ADDRESS_FAILURES: u32 = 20;
    pub const WINDOW: std::time::Duration = std::time::Duration::from_secs(300);
    pub(crate) const VERIFYING: usize = 2;
    /// Addresses tracked at most; when full, the oldest window is dropped
    /// first (it is the nearest to ending anyway) — new failures always
    /// count.
    pub(crate) const MAX_ADDRESSES: usize = 65_536;
    /// Names tracked per address at most; past it, the address is at its
    /// overall limit long before.
    pub(crate) const MAX_NAMES_PER_ADDRESS: usize = 64;

    pub(crate) fn key(user: &str) -> String {
        user.trim().to_lowercase()
    }

    /// Starts an attempt for `user` from `address`: refused while blocked,
    /// else counted as a failure until [`Self::succeeded`] says otherwise.
    pub(crate) fn begin(&self, user: &str, address: std::net::IpAddr) -> Result<(), Refusal> {
        let mut table = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        if table
            .get(&address)
            .is_some_and(|f| now.duration_since(f.since) >= Self::WINDOW)
        {
            table.remove(&address);
        }
        if !table.contains_key(&address) && table.len() >= Self::MAX_ADDRESSES {
            table.retain(|_, f| now.duration_since(f.since) < Self::WINDOW);
            if table.len() >= Self::MAX_ADDRESSES
                && let Some(oldest) = table.iter().min_by_key(|(_, f)| f.since).map(|(a, _)| *a)
            {
                table.remove(&oldest);
            }
        }
        let failures = table.entry(address).or_insert_with(|| AddressFailures {
            since: now,
            names: Default::default(),
            total: 0,
            audited: Default::default(),
        });
        let wait = Self::WINDOW.saturating_sub(now.duration_since(failures.since));
        let name = Self::key(user);
        let for_name = failures.names.get(&name).copied().unwrap_or(0);
        if for_name >= Self::MAX_FAILURES {
            return Err(Refusal::Name(wait));
        }
        if failures.total >= Self::MAX_ADDRESS_FAILURES
            || (for_name == 0 && failures.names.len() >= Self::MAX_NAMES_PER_ADDRESS)
        {
            return Err(Refusal::Address(wait));
        }
        *failures.names.entry(name).or_insert(0) += 1;
        failures.total += 1;
        Ok(())
    }

    /// The attempt was right: it no longer counts, nor do this name's
    /// earlier failures from this address.
    pub(crate) fn succeeded(&self, user: &str, address: std::net::IpAddr) {
        let mut table = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(failures) = table.get_mut(&address)
            && let Some(count) = failures.names.remove(&Self::key(user))
        {
            failures.total = failures.total.saturating_sub(count);
        }
    }

    /// The block this failure completed, the first time only (for the
    /// audit log).
    pub(crate) fn just_blocked(&self, user: &str, address: std::net::IpAddr) -> Option<Refusal> {
        let mut table = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let failures = table.get_mut(&address)?;
        let wait = Self::WINDOW.saturating_sub(failures.since.elapsed());
        let name = Self::key(user);
        let (block, refusal) = if failures.names.get(&name) >= Some(&Self::MAX_FAILURES) {
            (Some(name), Refusal::Name(wait))
        } else if failures.total >= Self::MAX_ADDRESS_FAILURES {
            (None, Refusal::Address(wait))
        } else {
            return None;
        };
        failures.audited.insert(block).then_some(refusal)
    }
}

/// A hash no password matches, checked for names that do not exist: a
/// wrong name then takes as long as a wrong password, and tells nothing.
pub(crate) fn unknown_user_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        daicho_store::hash_password("daicho: no such user, no such password").unwrap_or_default()
    })
}
