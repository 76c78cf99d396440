//! `ferrokey-check-rdb <file.rdb>`: parses an RDB file fully with the
//! engine's loader and prints what it holds, in the manner of
//! redis-check-rdb: the version, aux fields, keys per database, warnings
//! about what a load would skip, and either "RDB looks OK" (exit status 0)
//! or the reason and byte offset at which parsing failed (exit status 1).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use ferrokey_engine::rdb::{self, LoadReport};
use ferrokey_engine::types::Limits;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("Usage: ferrokey-check-rdb <rdb-file-name>");
        return ExitCode::FAILURE;
    };
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            println!("Cannot open RDB file {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let (text, ok) = check(path, &data, now_ms);
    print!("{text}");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// What one database held.
#[derive(Debug, Default)]
struct DbKeys {
    keys: u64,
    /// Keys with a TTL, including those already past it.
    expires: u64,
    /// Keys whose TTL was already past at `now_ms` (a load skips them).
    expired: u64,
}

/// Checks `data` (the contents of file `name`) and returns the report to
/// print and whether the file loads.
fn check(name: &str, data: &[u8], now_ms: u64) -> (String, bool) {
    let mut out = format!("[offset 0] Checking RDB file {name}\n");
    let mut dbs: BTreeMap<usize, DbKeys> = BTreeMap::new();
    let mut report = LoadReport::default();
    let result = rdb::load_with(
        data,
        &Limits::default(),
        |k| {
            let db = dbs.entry(k.db).or_default();
            db.keys += 1;
            if k.expire_ms != 0 {
                db.expires += 1;
                if k.expire_ms <= now_ms {
                    db.expired += 1;
                }
            }
        },
        &mut report,
    );
    if report.version != 0 {
        let _ = writeln!(out, "[offset 9] RDB version {}", report.version);
    }
    for (k, v) in &report.aux {
        let _ = writeln!(
            out,
            "[info] AUX FIELD {} = '{}'",
            String::from_utf8_lossy(k),
            String::from_utf8_lossy(v)
        );
    }
    if !report.functions.is_empty() {
        let _ = writeln!(out, "[info] {} function libraries", report.functions.len());
    }
    for (i, db) in &dbs {
        let _ = writeln!(
            out,
            "[info] db {i}: {} keys, {} with an expire, {} already expired",
            db.keys, db.expires, db.expired
        );
    }
    for w in &report.warnings {
        let _ = writeln!(out, "[warning] {w}");
    }
    let keys: u64 = dbs.values().map(|d| d.keys).sum();
    let ok = match result {
        Ok(()) => {
            match report.checksum {
                Some(_) => {
                    let _ = writeln!(out, "[offset {}] Checksum OK", report.len);
                }
                None => {
                    let _ = writeln!(
                        out,
                        "[offset {}] RDB file was saved without a checksum: no check performed",
                        report.len
                    );
                }
            }
            let _ = writeln!(out, "[offset {}] \\o/ RDB looks OK! \\o/", report.len);
            true
        }
        Err(e) => {
            out.push_str("--- RDB ERROR DETECTED ---\n");
            match e.offset {
                Some(at) => {
                    let _ = writeln!(out, "[offset {at}] {}", e.why);
                }
                None => {
                    let _ = writeln!(out, "{}", e.why);
                }
            }
            out.push_str("--- RDB ERROR DETECTED ---\n");
            false
        }
    };
    let expires: u64 = dbs.values().map(|d| d.expires).sum();
    let expired: u64 = dbs.values().map(|d| d.expired).sum();
    let _ = writeln!(out, "[info] {keys} keys read");
    let _ = writeln!(out, "[info] {expires} expires");
    let _ = writeln!(out, "[info] {expired} already expired");
    (out, ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrokey_engine::rdb::{Item, Writer};
    use ferrokey_engine::value::{Str, Value};

    fn two_keys() -> Vec<u8> {
        let v = Value::Str(Str::from_bytes(b"value"));
        let mut w = Writer::new(1_000, 0);
        w.select(2, 2, 1);
        w.item(&Item {
            key: b"a",
            value: &v,
            expire_ms: Some(500),
        });
        w.item(&Item {
            key: b"b",
            value: &v,
            expire_ms: None,
        });
        w.finish()
    }

    #[test]
    fn a_good_file_is_summarized() {
        let (text, ok) = check("dump.rdb", &two_keys(), 1_000);
        assert!(ok, "{text}");
        assert!(text.starts_with("[offset 0] Checking RDB file dump.rdb\n"));
        assert!(
            text.contains("[info] AUX FIELD redis-bits = '64'"),
            "{text}"
        );
        assert!(
            text.contains("[info] db 2: 2 keys, 1 with an expire, 1 already expired"),
            "{text}"
        );
        assert!(text.contains("\\o/ RDB looks OK! \\o/"), "{text}");
        assert!(text.contains("[info] 2 keys read"), "{text}");
    }

    #[test]
    fn a_cut_file_reports_where_parsing_stopped() {
        let f = two_keys();
        let cut = &f[..f.len() - 12];
        let (text, ok) = check("dump.rdb", cut, 1_000);
        assert!(!ok, "{text}");
        assert!(text.contains("--- RDB ERROR DETECTED ---"), "{text}");
        assert!(
            text.contains(&format!(
                "[offset {}] unexpected end of data",
                cut.len() - 2
            )),
            "{text}"
        );
        assert!(text.contains("[info] 1 keys read"), "{text}");
    }
}
