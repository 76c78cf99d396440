//! The engine's view of this process: jemalloc statistics, /proc figures,
//! files and the log.

use ferrokey_engine::host::{ExchangeError, Host, HostStats};
use tikv_jemalloc_ctl::{epoch, stats};

use crate::log::{self, Level};

/// The real host.
#[derive(Debug, Default)]
pub struct ProcessHost;

fn read_proc(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn page_rss() -> u64 {
    // Second field of statm is resident pages; pages are 4 KiB on the
    // platforms we run on.
    read_proc("/proc/self/statm")
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |p| p * 4096)
}

fn cpu_times() -> (f64, f64) {
    // Fields 14 and 15 of /proc/self/stat are utime and stime in clock
    // ticks (USER_HZ, 100 on Linux). The command name (field 2) may hold
    // spaces, so count from the closing parenthesis.
    let s = read_proc("/proc/self/stat");
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (tick(12), tick(11))
}

fn total_memory() -> u64 {
    read_proc("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

impl Host for ProcessHost {
    fn used_memory(&self) -> u64 {
        crate::alloc::used_bytes()
    }

    fn stats(&self) -> HostStats {
        let _ = epoch::advance();
        let (cpu_sys, cpu_user) = cpu_times();
        HostStats {
            allocated: stats::allocated::read().unwrap_or(0) as u64,
            active: stats::active::read().unwrap_or(0) as u64,
            resident: stats::resident::read().unwrap_or(0) as u64,
            rss: page_rss(),
            total_system_memory: total_memory(),
            cpu_sys,
            cpu_user,
            pid: std::process::id(),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            allocator: "jemalloc-5.3.0".into(),
            os: format!(
                "{} {} {}",
                read_proc("/proc/sys/kernel/ostype").trim(),
                read_proc("/proc/sys/kernel/osrelease").trim(),
                std::env::consts::ARCH
            ),
        }
    }

    fn write_file(&self, path: &str, text: &str) -> Result<(), String> {
        // Write a sibling temp file and rename it over the old one, so a
        // crash never leaves a half-written config.
        let tmp = format!("{path}.tmp-{}", std::process::id());
        std::fs::write(&tmp, text).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, path).map_err(|e| e.to_string())
    }

    fn write_durably(&self, path: &str, bytes: &[u8]) -> Result<(), String> {
        use std::io::Write;
        // A crash mid-write leaves the temp file, never a damaged `path`.
        let tmp = format!("temp-{}.rdb", std::process::id());
        let dir = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| std::path::PathBuf::from("."));
        let tmp = dir.join(tmp);
        let mut f = std::fs::File::create(&tmp).map_err(|e| e.to_string())?;
        f.write_all(bytes).map_err(|e| e.to_string())?;
        f.sync_all().map_err(|e| e.to_string())?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| e.to_string())?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    #[allow(unsafe_code)]
    fn lower_thread_priority(&self) {
        // SAFETY: gettid and setpriority are plain system calls on the
        // calling thread's own id; no memory is shared with them.
        #[cfg(target_os = "linux")]
        unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
        }
    }

    fn read_file(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }

    fn log(&self, level: &str, msg: &str) {
        log::log(Level::parse(level), msg);
    }

    fn exchange(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u64,
        request: &[u8],
        replies: usize,
    ) -> Result<Vec<Vec<u8>>, ExchangeError> {
        use std::io::{BufRead, BufReader, Write};
        use std::net::{TcpStream, ToSocketAddrs};
        let timeout = std::time::Duration::from_millis(timeout_ms.max(1));
        let addr = (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or(ExchangeError::Connect)?;
        // A refused connection shows, as with Redis's non-blocking
        // connect, at the first write.
        let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| {
            if e.kind() == std::io::ErrorKind::ConnectionRefused {
                ExchangeError::Write
            } else {
                ExchangeError::Connect
            }
        })?;
        let _ = stream.set_nodelay(true);
        stream
            .set_write_timeout(Some(timeout))
            .and_then(|()| stream.set_read_timeout(Some(timeout)))
            .map_err(|_| ExchangeError::Connect)?;
        (&stream)
            .write_all(request)
            .map_err(|_| ExchangeError::Write)?;
        let mut reader = BufReader::new(&stream);
        let mut got = Vec::with_capacity(replies);
        for _ in 0..replies {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(n) if n > 0 && line.ends_with(b"\r\n") => {
                    line.truncate(line.len() - 2);
                    got.push(line);
                }
                _ => return Err(ExchangeError::Read(got)),
            }
        }
        Ok(got)
    }

    fn config_changed(&self, config: &ferrokey_engine::config::Config) {
        log::set_level(Level::parse(&config.loglevel()));
    }
}
