//! A bounded count of recent requests per client, for public pages that anyone may call
//! (checking a pass): at most `limit` per window and client, in memory.
//!
//! In memory on purpose: what it protects is cheap to recompute and not money, and a
//! database write per public request would cost more than the check itself. Bounded: the
//! least recently seen clients are forgotten first, so an attacker rotating addresses pushes
//! out only old entries and never grows memory.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::num::NonZeroUsize;

use lru::LruCache;
use parking_lot::Mutex;
use passnum_core::Timestamp;

use crate::sign_in::client_key;

pub struct PerClientLimit {
    limit: usize,
    window_ms: i64,
    seen: Mutex<LruCache<String, VecDeque<Timestamp>>>,
}

impl PerClientLimit {
    /// `limit` requests per `window_ms` for each client; `clients` remembered at most.
    pub fn new(limit: usize, window_ms: i64, clients: NonZeroUsize) -> Self {
        Self {
            limit,
            window_ms,
            seen: Mutex::new(LruCache::new(clients)),
        }
    }

    /// Counts a request made `now` by `client`; false when it is one too many.
    pub fn allow(&self, client: IpAddr, now: Timestamp) -> bool {
        let mut seen = self.seen.lock();
        let hits = seen.get_or_insert_mut(client_key(client), VecDeque::new);
        while hits
            .front()
            .is_some_and(|t| now.unix_ms() - t.unix_ms() >= self.window_ms)
        {
            hits.pop_front();
        }
        if hits.len() >= self.limit {
            return false;
        }
        hits.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn each_client_has_its_own_allowance_which_comes_back_after_the_window() {
        let limit = PerClientLimit::new(3, 60_000, NonZeroUsize::new(10).unwrap());
        let at = Timestamp::from_unix_ms;
        for t in 0..3 {
            assert!(limit.allow(ip("192.0.2.1"), at(t)));
        }
        assert!(!limit.allow(ip("192.0.2.1"), at(10)));
        assert!(limit.allow(ip("192.0.2.2"), at(10)), "another client");
        // One address of the same IPv6 /64 is the same client.
        assert!(limit.allow(ip("2001:db8::1"), at(0)));
        assert!(limit.allow(ip("2001:db8::2"), at(0)));
        assert!(limit.allow(ip("2001:db8::3"), at(0)));
        assert!(!limit.allow(ip("2001:db8::4"), at(0)));
        // The oldest request leaves the window: room for one more.
        assert!(limit.allow(ip("192.0.2.1"), at(60_000)));
        assert!(!limit.allow(ip("192.0.2.1"), at(60_000)));
    }

    #[test]
    fn memory_is_bounded_by_forgetting_the_least_recent_client() {
        let limit = PerClientLimit::new(1, 60_000, NonZeroUsize::new(2).unwrap());
        let at = Timestamp::from_unix_ms(0);
        assert!(limit.allow(ip("192.0.2.1"), at));
        assert!(limit.allow(ip("192.0.2.2"), at));
        assert!(!limit.allow(ip("192.0.2.2"), at));
        assert!(limit.allow(ip("192.0.2.3"), at));
        assert_eq!(limit.seen.lock().len(), 2);
        // 192.0.2.1 was forgotten; 192.0.2.3 is still held.
        assert!(limit.allow(ip("192.0.2.1"), at));
        assert!(!limit.allow(ip("192.0.2.3"), at));
    }
}
