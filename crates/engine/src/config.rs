//! Server configuration: redis.conf syntax, `--directive value` flags,
//! CONFIG GET / SET / REWRITE. (Interim version: a helper is replacing the
//! internals with the full directive table; the method signatures stay.)

use crate::error::CmdError;

/// All configuration directives and their current values.
#[derive(Debug, Clone)]
pub struct Config {
    port: u16,
    bind: Vec<String>,
    databases: usize,
    requirepass: Option<Vec<u8>>,
    threads: usize,
    hz: u32,
    proto_max_bulk_len: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into(), "-::1".into()],
            databases: 16,
            requirepass: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            hz: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
        }
    }
}

impl Config {
    /// Applies the text of a redis.conf file. `origin` names the file in
    /// error messages; `read_include` returns the text of an `include`d file.
    pub fn load_text(
        &mut self,
        text: &str,
        origin: &str,
        read_include: &mut dyn FnMut(&str) -> Result<String, String>,
    ) -> Result<(), String> {
        let _ = (text, origin, read_include);
        Ok(())
    }

    /// Applies command-line `--directive value ...` arguments.
    pub fn load_args(&mut self, args: &[String]) -> Result<(), String> {
        let mut i = 0;
        while i < args.len() {
            let name = args[i].trim_start_matches("--");
            let val = args.get(i + 1).cloned().unwrap_or_default();
            match name {
                "port" => self.port = val.parse().map_err(|_| format!("bad port {val}"))?,
                "threads" | "io-threads" => {
                    self.threads = val.parse().map_err(|_| format!("bad threads {val}"))?
                }
                _ => {}
            }
            i += 2;
        }
        Ok(())
    }

    /// CONFIG GET: every directive matching any of the glob `patterns`, as
    /// (name, value) pairs.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let _ = patterns;
        Vec::new()
    }

    /// CONFIG SET: applies all pairs or none.
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), CmdError> {
        let _ = pairs;
        Err(CmdError::msg("ERR CONFIG SET not yet supported"))
    }

    /// CONFIG REWRITE: the new text of the config file, given its current
    /// text.
    pub fn rewrite(&self, original: Option<&str>) -> String {
        original.unwrap_or_default().to_string()
    }

    /// Directives whose value differs from the default but that Ferrokey
    /// does not act on yet.
    pub fn not_effective(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// `port`.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// `bind` addresses (a leading `-` marks an optional address).
    pub fn bind(&self) -> Vec<String> {
        self.bind.clone()
    }
    /// `protected-mode`.
    pub fn protected_mode(&self) -> bool {
        true
    }
    /// `databases`.
    pub fn databases(&self) -> usize {
        self.databases
    }
    /// `requirepass` (None when empty).
    pub fn requirepass(&self) -> Option<Vec<u8>> {
        self.requirepass.clone()
    }
    /// `timeout` in seconds (0: never).
    pub fn timeout_s(&self) -> u64 {
        0
    }
    /// `tcp-keepalive` in seconds.
    pub fn tcp_keepalive_s(&self) -> u64 {
        300
    }
    /// `maxclients`.
    pub fn maxclients(&self) -> u64 {
        10000
    }
    /// `maxmemory` in bytes.
    pub fn maxmemory(&self) -> u64 {
        0
    }
    /// `maxmemory-policy`.
    pub fn maxmemory_policy(&self) -> String {
        "noeviction".into()
    }
    /// `hz`.
    pub fn hz(&self) -> u32 {
        self.hz
    }
    /// `proto-max-bulk-len`.
    pub fn proto_max_bulk_len(&self) -> i64 {
        self.proto_max_bulk_len
    }
    /// `client-query-buffer-limit` in bytes.
    pub fn client_query_buffer_limit(&self) -> u64 {
        1024 * 1024 * 1024
    }
    /// Worker threads (`io-threads`, or Ferrokey's `threads`).
    pub fn threads(&self) -> usize {
        self.threads
    }
    /// `loglevel`.
    pub fn loglevel(&self) -> String {
        "notice".into()
    }
    /// `logfile` ("" for standard output).
    pub fn logfile(&self) -> String {
        String::new()
    }
    /// `pidfile` ("" for none).
    pub fn pidfile(&self) -> String {
        String::new()
    }
    /// `dir`.
    pub fn dir(&self) -> String {
        ".".into()
    }
    /// `enable-debug-command`: "yes", "no" or "local".
    pub fn enable_debug_command(&self) -> String {
        "yes".into()
    }
}

/// Interim glob matcher (replaced by the full one).
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    fn m(p: &[u8], s: &[u8], nc: bool) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') => (0..=s.len()).any(|i| m(&p[1..], &s[i..], nc)),
            Some(b'?') => !s.is_empty() && m(&p[1..], &s[1..], nc),
            Some(&c) => {
                !s.is_empty()
                    && (if nc { c.eq_ignore_ascii_case(&s[0]) } else { c == s[0] })
                    && m(&p[1..], &s[1..], nc)
            }
        }
    }
    m(pattern, s, nocase)
}
