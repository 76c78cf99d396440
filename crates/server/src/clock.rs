//! The wall clock, read only here: the engine receives the time as an
//! argument.

/// Microseconds since the Unix epoch (0 if the clock cannot be read). Read
/// once per command.
#[cfg(unix)]
pub fn now_us() -> u64 {
    ferrokey_engine::clock::read_us(libc::CLOCK_REALTIME).unwrap_or(0)
}

/// Microseconds since the Unix epoch.
#[cfg(not(unix))]
pub fn now_us() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
