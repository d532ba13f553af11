//! A clock the tests can move: the wall clock plus an offset that only grows. `TestApp`
//! hands it to the service (production uses `SystemClock`), so a test of anything that
//! expires — lockouts, idle sessions, TOTP codes — moves time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use keel_domain::clock::{Clock, SystemClock};
use time::{Duration, OffsetDateTime};

#[derive(Debug, Default)]
pub struct TestClock {
    offset_micros: AtomicI64,
}

impl TestClock {
    /// Move the service's time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.whole_microseconds()).expect("a test moves time by less than 290,000 years");
        self.offset_micros.fetch_add(micros, Ordering::SeqCst);
    }

    /// How far the clock has been moved.
    pub fn offset(&self) -> Duration {
        Duration::microseconds(self.offset_micros.load(Ordering::SeqCst))
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        SystemClock.now() + self.offset()
    }
}
