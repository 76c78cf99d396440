//! The monotonic clock that times commands and scripts.

/// Microseconds on the system's monotonic clock (since boot on Linux):
/// never 0, never goes back. Read straight from `clock_gettime`, since
/// it is read twice for every command: `Instant` adds checked `Duration`
/// arithmetic that cost more than the read itself.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn monotonic_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return fallback_us();
    }
    (ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000).max(1)
}

/// Microseconds on the system's monotonic clock: never 0, never goes back.
#[cfg(not(unix))]
pub fn monotonic_us() -> u64 {
    fallback_us()
}

/// Microseconds since the first call, plus one.
fn fallback_us() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monotonic_clock_moves_forward() {
        let a = monotonic_us();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = monotonic_us();
        assert!(a > 0);
        assert!(b >= a + 2_000, "{a} then {b}");
    }
}
