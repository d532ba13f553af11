//! Code that reads the time takes a `Clock`, so tests can move time instead of sleeping.

use time::OffsetDateTime;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The wall clock, truncated to microseconds so that what we store (both backends keep
/// microseconds) is exactly what we return.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        crate::value::truncate_to_micros(OffsetDateTime::now_utc())
    }
}
