//! Login protection: failed logins per login identifier lock it with
//! growing delays; failed logins per source address are capped.

use time::{Duration, OffsetDateTime};

use super::user::UserId;

/// The block of addresses one client is taken to control, what
/// per-address limits count against: an IPv4 address itself (/32), an
/// IPv6 address's /64 (one subscriber's allocation: a client can pick any
/// address inside it). IPv4-mapped IPv6 addresses count as their IPv4
/// address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddressBlock(String);

impl AddressBlock {
    pub fn of(ip: std::net::IpAddr) -> Self {
        use std::net::IpAddr;
        match ip {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(v4.to_string()),
                None => {
                    let s = v6.segments();
                    Self(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
                }
            },
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The key of one lockout counter. Every purpose has its own prefix and
/// the constructors are the only way to make one, so no login identifier
/// (whatever text a client sends) can name another purpose's counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThrottleKey(String);

impl ThrottleKey {
    /// Failed logins naming `identifier` (normalised as the login form
    /// does) from one address block: an attacker elsewhere cannot lock
    /// the owner's addresses. The block (which holds no `#`) comes first,
    /// so no identifier can pose as another block's.
    pub fn login(identifier: &str, block: Option<&AddressBlock>) -> Self {
        let block = block.map_or("-", AddressBlock::as_str);
        Self(format!("login#{block}#{identifier}"))
    }

    /// Failed logins for one account from one address block, whichever of
    /// its identifiers (username or email) named it: one budget per
    /// account. Its own prefix, so no login identifier can pose as an
    /// account's key.
    pub fn login_account(user: UserId, block: Option<&AddressBlock>) -> Self {
        let block = block.map_or("-", AddressBlock::as_str);
        Self(format!("login-account#{block}#{user}"))
    }

    /// Failed logins for one account from every address: its ceiling.
    pub fn login_account_ceiling(user: UserId) -> Self {
        Self(format!("login-account-all#{user}"))
    }

    /// Failed logins naming `identifier` from every address: the
    /// account-wide ceiling (`LockoutPolicy::account_ceiling`).
    pub fn login_ceiling(identifier: &str) -> Self {
        Self(format!("login-all#{identifier}"))
    }

    /// Wrong current passwords of a signed-in user (password change,
    /// account deletion).
    pub fn current_password(user: UserId) -> Self {
        Self(format!("current-password#{user}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures allowed within `window` before the identifier locks.
    pub max_failures: u32,
    pub window: Duration,
    /// The first lock lasts this long; each further lock (without a
    /// successful login between) doubles it, up to `max_lock`.
    pub base_lock: Duration,
    pub max_lock: Duration,
}

impl LockoutPolicy {
    /// Failures of one login identifier across all addresses: past 100 in
    /// an hour it locks for every address, with the same growing delays.
    pub fn account_ceiling() -> Self {
        Self {
            max_failures: 100,
            window: Duration::hours(1),
            ..Self::default()
        }
    }
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window: Duration::minutes(5),
            base_lock: Duration::minutes(1),
            max_lock: Duration::minutes(15),
        }
    }
}

/// The failure history of one login identifier. Kept for identifiers of
/// unknown accounts too, so a lock reveals nothing about existence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginThrottle {
    pub failures: u32,
    pub window_started_at: Option<OffsetDateTime>,
    pub locked_until: Option<OffsetDateTime>,
    pub lockouts: u32,
    /// Optimistic-concurrency version of the stored state.
    pub version: u64,
}

impl LoginThrottle {
    /// How long until the identifier may try again, if it is locked.
    pub fn locked_for(&self, now: OffsetDateTime) -> Option<Duration> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// The state after one more failed login at `now`.
    pub fn after_failure(&self, policy: &LockoutPolicy, now: OffsetDateTime) -> Self {
        let in_window = self
            .window_started_at
            .is_some_and(|start| now - start < policy.window);
        let (failures, window_started_at) = if in_window {
            (self.failures + 1, self.window_started_at)
        } else {
            (1, Some(now))
        };
        if failures >= policy.max_failures {
            let doubling = 2_i32.saturating_pow(self.lockouts.min(16));
            let lock = (policy.base_lock * doubling).min(policy.max_lock);
            return Self {
                failures: 0,
                window_started_at: None,
                locked_until: Some(now + lock),
                lockouts: self.lockouts + 1,
                version: self.version + 1,
            };
        }
        Self {
            failures,
            window_started_at,
            locked_until: self.locked_until,
            lockouts: self.lockouts,
            version: self.version + 1,
        }
    }

    /// Whether anything is worth clearing after a successful login.
    pub fn is_clear(&self) -> bool {
        self.failures == 0 && self.lockouts == 0 && self.locked_until.is_none()
    }
}

/// At most `max` events per `window` (fixed windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub max: u32,
    pub window: Duration,
}

impl Quota {
    pub fn window_at(&self, scope: &str, subject: &str, now: OffsetDateTime) -> RateWindow {
        RateWindow::current(scope, subject, self.max, self.window, now)
    }

    /// The window counting requests from `ip`'s address block (an IPv4
    /// address, an IPv6 /64): a client can use any address of its /64, so
    /// per-address quotas count the block.
    pub fn window_for_address(
        &self,
        scope: &str,
        ip: std::net::IpAddr,
        now: OffsetDateTime,
    ) -> RateWindow {
        self.window_at(scope, AddressBlock::of(ip).as_str(), now)
    }
}

/// A fixed-window counter's identity and bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateWindow {
    /// e.g. `login-ip#203.0.113.7#29412345`
    pub key: String,
    pub max: u32,
    pub ends_at: OffsetDateTime,
}

impl RateWindow {
    /// The window of `window` length containing `now` for `scope`/`subject`.
    pub fn current(
        scope: &str,
        subject: &str,
        max: u32,
        window: Duration,
        now: OffsetDateTime,
    ) -> Self {
        let seconds = window.whole_seconds().max(1);
        let index = now.unix_timestamp().div_euclid(seconds);
        let ends_at =
            OffsetDateTime::from_unix_timestamp((index + 1) * seconds).unwrap_or(now + window);
        Self {
            key: format!("{scope}#{subject}#{index}"),
            max,
            ends_at,
        }
    }

    pub fn retry_after(&self, now: OffsetDateTime) -> Duration {
        (self.ends_at - now).max(Duration::seconds(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn locks_after_max_failures_with_growing_delays() {
        let policy = LockoutPolicy::default();
        let mut now = datetime!(2030-01-01 00:00 UTC);
        let mut state = LoginThrottle::default();
        let mut locks = Vec::new();
        for _round in 0..6 {
            for attempt in 0..policy.max_failures {
                assert_eq!(state.locked_for(now), None, "attempt {attempt}");
                state = state.after_failure(&policy, now);
                now += Duration::seconds(1);
            }
            let lock = state.locked_for(now).expect("locked");
            locks.push(lock.whole_seconds() + 1);
            now = state.locked_until.unwrap();
        }
        assert_eq!(locks, [60, 120, 240, 480, 900, 900]);
    }

    #[test]
    fn failures_outside_the_window_start_over() {
        let policy = LockoutPolicy::default();
        let start = datetime!(2030-01-01 00:00 UTC);
        let mut state = LoginThrottle::default();
        for i in 0..9 {
            state = state.after_failure(&policy, start + Duration::seconds(i));
        }
        let later = start + Duration::minutes(6);
        state = state.after_failure(&policy, later);
        assert_eq!((state.failures, state.locked_for(later)), (1, None));
    }

    #[test]
    fn address_blocks_are_ipv4_addresses_and_ipv6_slash_64s() {
        let block = |ip: &str| AddressBlock::of(ip.parse().unwrap());
        assert_eq!(block("203.0.113.7").as_str(), "203.0.113.7");
        assert_ne!(block("203.0.113.7"), block("203.0.113.8"));
        assert_eq!(block("2001:db8:1:2:aaaa::1").as_str(), "2001:db8:1:2::/64");
        assert_eq!(
            block("2001:db8:1:2:aaaa::1"),
            block("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(block("2001:db8:1:2::1"), block("2001:db8:1:3::1"));
        assert_eq!(block("::ffff:203.0.113.7"), block("203.0.113.7"));
    }

    #[test]
    fn throttle_keys_of_different_purposes_never_meet() {
        let user = UserId::new_random();
        let password = ThrottleKey::current_password(user);
        for identifier in [
            format!("current-password#{user}"),
            format!("password-change#{user}"),
            format!("login#current-password#{user}"),
            password.as_str().to_owned(),
        ] {
            let block = AddressBlock::of("203.0.113.7".parse().unwrap());
            for login in [
                ThrottleKey::login(&identifier, Some(&block)),
                ThrottleKey::login(&identifier, None),
                ThrottleKey::login_ceiling(&identifier),
            ] {
                assert_ne!(login, password, "{identifier}");
                assert!(login.as_str().starts_with("login"));
            }
        }
        assert!(password.as_str().starts_with("current-password#"));
    }

    #[test]
    fn rate_windows() {
        let now = datetime!(2030-01-01 00:07:30 UTC);
        let window = RateWindow::current("signup-ip", "203.0.113.7", 5, Duration::hours(1), now);
        assert_eq!(window.ends_at, datetime!(2030-01-01 01:00 UTC));
        assert_eq!(window.retry_after(now), Duration::seconds(3150));
        assert!(window.key.starts_with("signup-ip#203.0.113.7#"));
        let next = RateWindow::current(
            "signup-ip",
            "203.0.113.7",
            5,
            Duration::hours(1),
            now + Duration::hours(1),
        );
        assert_ne!(window.key, next.key);
    }
}
