//! Failed sign-in limits: per account and per client address, kept in the database so
//! every Keel process sharing it enforces the same counts.
//!
//! An attempt is counted *before* the password is checked, in a write transaction (which
//! serialises writers on both backends), so a burst of parallel guesses cannot all slip
//! in before the first failure is recorded. A successful sign-in then resets the
//! account's counter and takes its attempt back from the address's counter; an attempt
//! that only learned that a second factor is needed is taken back from both.
//!
//! The account key is a hash of the normalised email whether or not such a user exists,
//! and a locked key is refused before the password is looked at, so a lockout answer
//! says nothing about the account or the password.

use std::net::IpAddr;

use keel_store::Tx;
use keel_store::login_security::{self as store, Throttle, ThrottleScope};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::{Service, ServiceError};

/// How many failures within a window lock a key, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max_failures: i64,
    pub window: Duration,
    pub lockout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub account: Limit,
    pub ip: Limit,
}

impl Default for LoginLimits {
    /// 5 failures per account in 15 minutes lock it for 15 minutes; 20 per address.
    fn default() -> Self {
        Self {
            account: Limit { max_failures: 5, window: Duration::minutes(15), lockout: Duration::minutes(15) },
            ip: Limit { max_failures: 20, window: Duration::minutes(15), lockout: Duration::minutes(15) },
        }
    }
}

/// A counted sign-in attempt: which keys it was counted against.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    keys: Vec<(ThrottleScope, String, Limit)>,
}

/// The account key: a hash of the normalised email, so no typed address is stored.
fn account_key(email: &str) -> String {
    hex::encode(Sha256::digest(format!("keel-login:{}", email.trim().to_lowercase()).as_bytes()))
}

/// The address key. IPv6 clients are grouped by their /64, which one client usually owns whole.
fn ip_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or_else(|| ip.to_string(), |v4| v4.to_string()),
        _ => ip.to_string(),
    }
}

/// Seconds until `until`, rounded up, at least 1.
fn seconds_until(until: OffsetDateTime, now: OffsetDateTime) -> u64 {
    let secs = (until - now).as_seconds_f64().ceil();
    if secs < 1.0 { 1 } else { secs as u64 }
}

fn active_lock(t: &Throttle, now: OffsetDateTime) -> Option<OffsetDateTime> {
    t.locked_until.filter(|until| *until > now)
}

/// When a counter stops mattering: its window and any lock are both over.
fn expiry(t: &Throttle, limit: &Limit) -> OffsetDateTime {
    let window_end = t.window_started_at + limit.window;
    t.locked_until.map_or(window_end, |l| l.max(window_end))
}

/// The counter after one more failure at `now`.
fn bumped(existing: Option<Throttle>, limit: &Limit, now: OffsetDateTime) -> Throttle {
    let mut t = match existing {
        Some(t) if now < t.window_started_at + limit.window && active_lock(&t, now).is_none() => t,
        _ => Throttle { failures: 0, window_started_at: now, locked_until: None },
    };
    t.failures += 1;
    if t.failures >= limit.max_failures {
        t.locked_until = Some(now + limit.lockout);
    }
    t
}

impl Service {
    /// Count a sign-in attempt for `email` from `ip`, or refuse it with 429 when either
    /// is locked. Runs before the password is checked.
    pub(crate) async fn begin_login_attempt(&self, email: &str, ip: Option<&str>) -> Result<Attempt, ServiceError> {
        let limits = self.config.login_limits;
        let mut keys = vec![(ThrottleScope::Account, account_key(email), limits.account)];
        if let Some(ip) = ip.filter(|ip| !ip.is_empty()) {
            keys.push((ThrottleScope::Ip, ip_key(ip), limits.ip));
        }
        let now = self.clock.now();
        let mut tx = self.db.write().await?;
        let mut current = Vec::with_capacity(keys.len());
        let mut locked_until: Option<OffsetDateTime> = None;
        for (scope, key, _) in &keys {
            let t = store::throttle_get(&mut tx, *scope, key).await?;
            if let Some(until) = t.as_ref().and_then(|t| active_lock(t, now)) {
                locked_until = Some(locked_until.map_or(until, |l| l.max(until)));
            }
            current.push(t);
        }
        if let Some(until) = locked_until {
            // Dropping the transaction rolls it back: a refused attempt changes nothing.
            return Err(ServiceError::TooManyAttempts { retry_after: seconds_until(until, now) });
        }
        for ((scope, key, limit), existing) in keys.iter().zip(current) {
            let t = bumped(existing, limit, now);
            store::throttle_put(&mut tx, *scope, key, &t, expiry(&t, limit)).await?;
        }
        store::throttle_prune(&mut tx, now).await?;
        tx.commit().await?;
        Ok(Attempt { keys })
    }

    /// The attempt succeeded: reset the account's counter and take the attempt back from
    /// the address's, inside the caller's transaction (the one that signs in).
    pub(crate) async fn login_attempt_succeeded(&self, tx: &mut Tx, attempt: &Attempt) -> Result<(), ServiceError> {
        for (scope, key, limit) in &attempt.keys {
            match scope {
                ThrottleScope::Account => store::throttle_clear(tx, *scope, key).await?,
                ThrottleScope::Ip => self.take_back(tx, *scope, key, limit).await?,
            }
        }
        Ok(())
    }

    /// The attempt proved nothing either way (a second factor is needed): take it back
    /// from every counter.
    pub(crate) async fn login_attempt_undecided(&self, attempt: &Attempt) -> Result<(), ServiceError> {
        let mut tx = self.db.write().await?;
        for (scope, key, limit) in &attempt.keys {
            self.take_back(&mut tx, *scope, key, limit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn take_back(&self, tx: &mut Tx, scope: ThrottleScope, key: &str, limit: &Limit) -> Result<(), ServiceError> {
        let Some(mut t) = store::throttle_get(tx, scope, key).await? else {
            return Ok(());
        };
        t.failures = (t.failures - 1).max(0);
        if t.failures < limit.max_failures {
            t.locked_until = None;
        }
        if t.failures == 0 {
            store::throttle_clear(tx, scope, key).await?;
        } else {
            store::throttle_put(tx, scope, key, &t, expiry(&t, limit)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_767_268_800).expect("a valid time")
    }

    #[test]
    fn the_fifth_failure_locks_and_the_lock_outlasts_the_window() {
        let limit = LoginLimits::default().account;
        let mut t = None;
        for i in 1..=4 {
            let next = bumped(t, &limit, t0() + Duration::minutes(i));
            assert_eq!(next.locked_until, None);
            t = Some(next);
        }
        let locked = bumped(t, &limit, t0() + Duration::minutes(5));
        assert_eq!(locked.failures, 5);
        assert_eq!(locked.locked_until, Some(t0() + Duration::minutes(20)));
        assert_eq!(expiry(&locked, &limit), t0() + Duration::minutes(20));
    }

    #[test]
    fn failures_outside_the_window_start_a_new_count() {
        let limit = LoginLimits::default().account;
        let old = Throttle { failures: 4, window_started_at: t0(), locked_until: None };
        let next = bumped(Some(old), &limit, t0() + Duration::minutes(16));
        assert_eq!(next.failures, 1);
        assert_eq!(next.window_started_at, t0() + Duration::minutes(16));
    }

    #[test]
    fn keys_hash_emails_and_group_ipv6_by_prefix() {
        assert_eq!(account_key(" Ana@Example.com "), account_key("ana@example.com"));
        assert_eq!(account_key("a@example.com").len(), 64);
        assert_eq!(ip_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(ip_key("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(ip_key("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(seconds_until(t0() + Duration::milliseconds(1500), t0()), 2);
        assert_eq!(seconds_until(t0(), t0()), 1);
    }
}
