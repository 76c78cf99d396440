//! `ferrokey-check-aof [--fix] <manifest | file>`: validates an append-only
//! file, or every file a multi-part AOF manifest names, in the manner of
//! redis-check-aof: a base in RDB format is parsed fully, command files
//! command by command (MULTI must meet its EXEC). A file cut short reports
//! the offset of its last complete command; with `--fix` the last file is
//! truncated there (the fix Redis offers), and only the last file may be.
//! Exit status 0 when the AOF is valid (or was fixed), 1 otherwise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ferrokey_engine::aof::{parse_command, Manifest};
use ferrokey_engine::types::Limits;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let fix = args.first().is_some_and(|a| a == "--fix");
    if fix {
        args.remove(0);
    }
    let [path] = args.as_slice() else {
        eprintln!("Usage: ferrokey-check-aof [--fix] <file.manifest|file.aof>");
        return ExitCode::FAILURE;
    };
    let path = PathBuf::from(path);
    let files = match files_of(&path) {
        Ok(f) => f,
        Err(e) => {
            println!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for (i, f) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let data = match std::fs::read(f) {
            Ok(d) => d,
            Err(e) => {
                println!("Cannot open file {}: {e}", f.display());
                return ExitCode::FAILURE;
            }
        };
        match check(&data) {
            Check::Ok => println!("AOF {} is valid ({} bytes)", f.display(), data.len()),
            Check::Bad(why, at) => {
                println!("AOF {} format error at offset {at}: {why}", f.display());
                return ExitCode::FAILURE;
            }
            Check::Cut(valid) => {
                println!(
                    "AOF analyzed: filename={}, size={}, ok_up_to={valid}, diff={}",
                    f.display(),
                    data.len(),
                    data.len() - valid
                );
                if !last {
                    println!(
                        "AOF {} is not the last file: it cannot be truncated.",
                        f.display()
                    );
                    return ExitCode::FAILURE;
                }
                if !fix {
                    println!(
                        "AOF {} is not valid. Use the --fix option to try fixing it.",
                        f.display()
                    );
                    return ExitCode::FAILURE;
                }
                let r = std::fs::OpenOptions::new()
                    .write(true)
                    .open(f)
                    .and_then(|h| h.set_len(valid as u64).and_then(|()| h.sync_all()));
                match r {
                    Ok(()) => println!("Successfully truncated AOF {}", f.display()),
                    Err(e) => {
                        println!("Failed to truncate AOF {}: {e}", f.display());
                        return ExitCode::FAILURE;
                    }
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// The files to check: those a manifest names (base first), or the file.
fn files_of(path: &Path) -> Result<Vec<PathBuf>, String> {
    let is_manifest = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".manifest"));
    if !is_manifest {
        return Ok(vec![path.to_path_buf()]);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("Cannot open manifest {}: {e}", path.display()))?;
    let m = Manifest::parse(&text)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    Ok(m.base
        .iter()
        .chain(m.incrs.iter())
        .map(|(f, _)| dir.join(f))
        .collect())
}

/// What checking one file found.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    Ok,
    /// Not an AOF: the reason and the offset.
    Bad(String, usize),
    /// Cut short: the length of its valid prefix.
    Cut(usize),
}

fn check(data: &[u8]) -> Check {
    if data.starts_with(b"REDIS") {
        return match ferrokey_engine::rdb::load(data, &Limits::default(), |_| {}) {
            Ok(()) => Check::Ok,
            Err(e) => Check::Bad(format!("bad RDB base: {}", e.0), 0),
        };
    }
    let (mut pos, mut valid, mut in_multi) = (0, 0, false);
    while pos < data.len() {
        if data[pos] == b'#' {
            match data[pos..].iter().position(|&c| c == b'\n') {
                Some(e) => {
                    pos += e + 1;
                    if !in_multi {
                        valid = pos;
                    }
                    continue;
                }
                None => return Check::Cut(valid),
            }
        }
        match parse_command(&data[pos..]) {
            Ok(Some((argv, used))) => {
                pos += used;
                let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
                match name.as_str() {
                    "multi" if in_multi => return Check::Bad("nested MULTI".into(), pos - used),
                    "multi" => in_multi = true,
                    "exec" if !in_multi => {
                        return Check::Bad("EXEC without MULTI".into(), pos - used)
                    }
                    "exec" => in_multi = false,
                    _ => {}
                }
                if !in_multi {
                    valid = pos;
                }
            }
            Ok(None) => return Check::Cut(valid),
            Err(why) => return Check::Bad(why, pos),
        }
    }
    if in_multi {
        Check::Cut(valid)
    } else {
        Check::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_transactions_and_cut_tails() {
        let set = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
        let mut d = b"#TS:1\r\n".to_vec();
        d.extend_from_slice(set);
        assert_eq!(check(&d), Check::Ok);
        let good = d.len();
        d.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
        d.extend_from_slice(set);
        // A transaction without its EXEC: back to before MULTI.
        assert_eq!(check(&d), Check::Cut(good));
        d.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
        assert_eq!(check(&d), Check::Ok);
        let all = d.len();
        d.extend_from_slice(b"*2\r\n$3\r\nDEL");
        assert_eq!(check(&d), Check::Cut(all));
        assert!(matches!(check(b"+OK\r\n"), Check::Bad(_, 0)));
    }
}
