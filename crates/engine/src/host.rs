//! What the engine needs from the process around it, without doing I/O
//! itself: memory and CPU figures, and writing the config file. The server
//! crate provides the real implementation; tests provide a fake.

use std::fmt::Debug;

/// Process-level figures for INFO and MEMORY.
#[derive(Debug, Clone, Default)]
pub struct HostStats {
    /// Bytes allocated by the program (the allocator's count).
    pub allocated: u64,
    /// Bytes in active allocator pages.
    pub active: u64,
    /// Bytes the allocator holds from the OS.
    pub resident: u64,
    /// Resident set size of the process.
    pub rss: u64,
    /// Total memory of the machine.
    pub total_system_memory: u64,
    /// System CPU seconds.
    pub cpu_sys: f64,
    /// User CPU seconds.
    pub cpu_user: f64,
    /// The process id.
    pub pid: u32,
    /// Path of the executable.
    pub executable: String,
    /// Name of the allocator (`jemalloc-5.3.0`, `libc`).
    pub allocator: String,
    /// Operating system description for INFO (`Linux 6.1.0 x86_64`).
    pub os: String,
}

/// Services the process provides to the engine.
pub trait Host: Send + Sync + Debug {
    /// Current process figures.
    fn stats(&self) -> HostStats;
    /// Bytes the program holds (`used_memory`), cheap enough to read
    /// before every command; 0 when not known.
    fn used_memory(&self) -> u64 {
        0
    }
    /// Replaces the file at `path` with `text` (CONFIG REWRITE).
    fn write_file(&self, path: &str, text: &str) -> Result<(), String>;
    /// Reads the file at `path`.
    fn read_file(&self, path: &str) -> Result<String, String>;
    /// Replaces the file at `path` with `bytes` durably: a temp file,
    /// fsynced, renamed over the old one (SAVE).
    fn write_durably(&self, path: &str, bytes: &[u8]) -> Result<(), String> {
        let _ = (path, bytes);
        Err("no file system".into())
    }
    /// Writes a line to the server log at `level` (`debug`, `verbose`,
    /// `notice`, `warning`).
    fn log(&self, level: &str, msg: &str);
    /// Lowers the calling thread's scheduling priority (snapshot writers,
    /// which should yield to the threads serving requests).
    fn lower_thread_priority(&self) {}
    /// MIGRATE's exchange with another server: connects to `host:port`,
    /// writes `request` and reads `replies` one-line replies (without
    /// their CRLF), each step within `timeout_ms`.
    fn exchange(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u64,
        request: &[u8],
        replies: usize,
    ) -> Result<Vec<Vec<u8>>, ExchangeError> {
        let _ = (host, port, timeout_ms, request, replies);
        Err(ExchangeError::Connect)
    }
    /// Called after CONFIG SET changed the configuration, so the process
    /// can apply what it owns (the log level).
    fn config_changed(&self, config: &crate::config::Config) {
        let _ = config;
    }
}

/// Where [`Host::exchange`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeError {
    /// Connecting (or resolving the address).
    Connect,
    /// Writing the request.
    Write,
    /// Reading: the replies that did arrive before the failure.
    Read(Vec<Vec<u8>>),
}

/// A host with no process behind it, for tests.
#[derive(Debug, Default)]
pub struct NullHost;

impl Host for NullHost {
    fn stats(&self) -> HostStats {
        HostStats::default()
    }

    fn write_file(&self, _path: &str, _text: &str) -> Result<(), String> {
        Err("no file system".into())
    }

    fn read_file(&self, _path: &str) -> Result<String, String> {
        Err("no file system".into())
    }

    fn log(&self, _level: &str, _msg: &str) {}
}
