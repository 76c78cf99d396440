//! Reading the system's clocks. The engine reads only the monotonic one
//! (to time commands and scripts); the wall clock is read by the server,
//! which passes the time to the engine as an argument.

/// Microseconds on `clock` (`CLOCK_REALTIME`, `CLOCK_MONOTONIC`), read
/// straight from `clock_gettime`: none of the checked `Duration`
/// arithmetic of `Instant` and `SystemTime`, which cost more than the
/// read itself. `None` if the clock cannot be read or is before 1970.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn read_us(clock: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    (rc == 0 && ts.tv_sec >= 0).then(|| ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000)
}

/// Microseconds on the system's monotonic clock (since boot on Linux):
/// never 0, never goes back. Read twice for every command.
#[cfg(unix)]
pub fn monotonic_us() -> u64 {
    read_us(libc::CLOCK_MONOTONIC).map_or_else(fallback_us, |us| us.max(1))
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
