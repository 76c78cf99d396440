//! Redis-style log lines: `pid:M 22 Nov 2026 07:33:30.123 * message`.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Log levels in Redis's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `debug`
    Debug = 0,
    /// `verbose`
    Verbose = 1,
    /// `notice`
    Notice = 2,
    /// `warning`
    Warning = 3,
}

impl Level {
    /// Parses a `loglevel` value.
    pub fn parse(s: &str) -> Level {
        match s {
            "debug" => Level::Debug,
            "verbose" => Level::Verbose,
            "warning" => Level::Warning,
            _ => Level::Notice,
        }
    }

    fn mark(self) -> char {
        match self {
            Level::Debug => '.',
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning => '#',
        }
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Notice as u8);
static SINK: OnceLock<Mutex<Box<dyn Write + Send>>> = OnceLock::new();

/// Sets the level and destination (empty path: standard output).
pub fn init(level: Level, logfile: &str) -> std::io::Result<()> {
    LEVEL.store(level as u8, Ordering::Relaxed);
    let sink: Box<dyn Write + Send> = if logfile.is_empty() {
        Box::new(std::io::stdout())
    } else {
        Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(logfile)?,
        )
    };
    let _ = SINK.set(Mutex::new(sink));
    Ok(())
}

/// Changes the level at run time (CONFIG SET loglevel).
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats a Unix ms time as Redis's log timestamp (UTC).
pub fn timestamp(ms: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = (ms / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86400));
    let sod = secs.rem_euclid(86400);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        ms % 1000
    )
}

/// Writes one line at `level`.
pub fn log(level: Level, msg: &str) {
    if (level as u8) < LEVEL.load(Ordering::Relaxed) {
        return;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let line = format!(
        "{}:M {} {} {}\n",
        std::process::id(),
        timestamp(now),
        level.mark(),
        msg
    );
    match SINK.get() {
        Some(s) => {
            if let Ok(mut w) = s.lock() {
                let _ = w.write_all(line.as_bytes());
                let _ = w.flush();
            }
        }
        None => print!("{line}"),
    }
}

/// `notice` level.
#[macro_export]
macro_rules! notice {
    ($($t:tt)*) => { $crate::log::log($crate::log::Level::Notice, &format!($($t)*)) };
}

/// `warning` level.
#[macro_export]
macro_rules! warning {
    ($($t:tt)*) => { $crate::log::log($crate::log::Level::Warning, &format!($($t)*)) };
}

/// `verbose` level.
#[macro_export]
macro_rules! verbose {
    ($($t:tt)*) => { $crate::log::log($crate::log::Level::Verbose, &format!($($t)*)) };
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_utc_dates() {
        assert_eq!(super::timestamp(0), "01 Jan 1970 00:00:00.000");
        assert_eq!(
            super::timestamp(1_795_339_210_123),
            "22 Nov 2026 09:20:10.123"
        );
    }
}
