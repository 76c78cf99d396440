//! The wall clock, read only here: the engine receives the time as an
//! argument.

/// Microseconds since the Unix epoch.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn now_us() -> u64 {
    // Read once per command: straight from clock_gettime, without the
    // checked Duration arithmetic of SystemTime (a tenth of a GET's cost).
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    if rc != 0 || ts.tv_sec < 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000
}

/// Microseconds since the Unix epoch.
#[cfg(not(unix))]
pub fn now_us() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
