//! `ferrokey-server [/path/to/redis.conf] [--directive value ...]`
//!
//! Owns what the engine must not: sockets, threads, signals, files and the
//! clock. See ARCHITECTURE.md for how a command travels from the socket to
//! the engine and back.

mod alloc;
mod clock;
mod conn;
mod host;
mod log;
mod replica;
mod scripts;
mod shutdown;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ferrokey_engine::client::Shutdown;
use ferrokey_engine::cmd::connection::{FERROKEY_VERSION, REDIS_VERSION};
use ferrokey_engine::config::Config;
use ferrokey_engine::Server;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// Eviction runs (each bounded by `maxmemory-eviction-tenacity`) per cron
/// tick while memory stays over the limit.
const EVICTION_RUNS_PER_TICK: usize = 100;

/// Keys with a TTL the active expiry cycle may look at per tick before it
/// yields.
const EXPIRE_BUDGET_PER_TICK: usize = 20_000;

fn usage() {
    eprintln!("Usage: ./ferrokey-server [/path/to/redis.conf] [options] [-]");
    eprintln!("       ./ferrokey-server - (read config from stdin)");
    eprintln!("       ./ferrokey-server -v or --version");
    eprintln!("       ./ferrokey-server -h or --help");
    eprintln!();
    eprintln!("Examples:");
    eprintln!("       ./ferrokey-server (run the server with default conf)");
    eprintln!("       ./ferrokey-server /etc/redis/6379.conf");
    eprintln!("       ./ferrokey-server --port 7777");
    eprintln!("       ./ferrokey-server /etc/myredis.conf --loglevel verbose -");
}

fn fatal(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(1);
}

/// Reads the configuration from the command line, as redis-server does.
fn load_config(args: &[String]) -> (Config, Option<String>) {
    let mut cfg = Config::default();
    let mut rest = args;
    let mut file = None;
    if let Some(first) = rest.first() {
        if first == "-" || !first.starts_with('-') {
            let text = if first == "-" {
                let mut s = String::new();
                let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut s);
                s
            } else {
                let path = std::fs::canonicalize(first)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| first.clone());
                let text = std::fs::read_to_string(first).unwrap_or_else(|e| {
                    fatal(&format!(
                        "Fatal error, can't open config file '{path}': {e}"
                    ))
                });
                file = Some(path);
                text
            };
            let mut include = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
            if let Err(e) = cfg.load_text(&text, first, &mut include) {
                fatal(&e);
            }
            rest = &rest[1..];
        }
    }
    if let Err(e) = cfg.load_args(rest) {
        fatal(&e);
    }
    (cfg, file)
}

/// Turns a `bind` entry into a socket address (and whether failing to bind
/// it is allowed, for entries starting with `-`).
fn bind_addr(entry: &str, port: u16) -> (Option<SocketAddr>, bool) {
    let (optional, a) = match entry.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, entry),
    };
    let ip = match a {
        "*" => "0.0.0.0",
        "::*" => "::",
        other => other,
    };
    (
        ip.parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, port)),
        optional,
    )
}

fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let domain = socket2::Domain::for_address(addr);
    let s = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.bind(&addr.into())?;
    s.listen(511)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// Loads `dbfilename` from the working directory (`dir`) when it exists;
/// a file that cannot be read stops startup, as in Redis.
fn load_rdb(server: &Server) {
    let path = server.config.read().dbfilename();
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => fatal(&format!("Fatal error loading the DB {path}: {e}. Exiting.")),
    };
    let start = std::time::Instant::now();
    let now_ms = clock::now_us() / 1000;
    let _gate = server.gate.write();
    match ferrokey_engine::rdb::load_into(server, &data, now_ms, false) {
        Ok(n) => {
            server
                .stats
                .rdb_loaded_keys
                .store(n as u64, Ordering::Relaxed);
            notice!(
                "Done loading RDB, keys loaded: {n}.\nDB loaded from disk: {:.3} seconds",
                start.elapsed().as_secs_f64()
            );
        }
        Err(e) => fatal(&format!(
            "Short read or OOM loading DB {path} ({}). Unrecoverable error, aborting now.",
            e.0
        )),
    }
}

/// Loads the AOF when `appendonly yes` (it alone is the dataset then, as
/// in Redis), else `dbfilename`.
fn load_dataset(server: &Arc<Server>) {
    if server.config.read().appendonly() {
        let start = std::time::Instant::now();
        match ferrokey_engine::aof::boot(server, clock::now_us() / 1000) {
            Ok(Some(n)) => notice!(
                "DB loaded from append only file: {:.3} seconds ({n} commands and keys)",
                start.elapsed().as_secs_f64()
            ),
            Ok(None) => notice!("Creating AOF base file and incr file on server start"),
            Err(e) => fatal(&e),
        }
    } else {
        load_rdb(server);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!(
            "Ferrokey server v={FERROKEY_VERSION} redis_version={REDIS_VERSION} malloc=jemalloc-5.3.0 bits=64"
        );
        return;
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        usage();
        return;
    }
    let (cfg, config_file) = load_config(&args);
    if let Err(e) = log::init(log::Level::parse(&cfg.loglevel()), &cfg.logfile()) {
        fatal(&format!("Can't open the log file: {e}"));
    }
    notice!("oO0OoO0OoO0Oo Ferrokey is starting oO0OoO0OoO0Oo");
    notice!(
        "Ferrokey version={FERROKEY_VERSION}, redis_version={REDIS_VERSION}, bits=64, pid={}, just started",
        std::process::id()
    );
    match &config_file {
        Some(f) => notice!("Configuration loaded from {f}"),
        None => warning!("Warning: no config file specified, using the default config. In order to specify a config file use ./ferrokey-server /path/to/redis.conf"),
    }
    for d in cfg.not_effective() {
        warning!("Directive '{d}' is accepted but not yet effective in Ferrokey");
    }
    let dir = cfg.dir();
    if !dir.is_empty() && dir != "." {
        if let Err(e) = std::env::set_current_dir(&dir) {
            fatal(&format!("Can't chdir to '{dir}': {e}"));
        }
    }
    let pidfile = cfg.pidfile();
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            warning!("Failed to write PID file: {e}");
        }
    }
    // Like Redis, make room for maxclients plus the server's own files.
    let want_files = cfg.maxclients() + 32;
    match rlimit::increase_nofile_limit(want_files) {
        Ok(got) if got < want_files => warning!(
            "You requested maxclients of {} requiring at least {} max file descriptors; the limit is {}.",
            cfg.maxclients(),
            want_files,
            got
        ),
        Ok(_) => {}
        Err(e) => warning!("Could not raise the open files limit: {e}"),
    }
    let threads = cfg.threads().max(1);
    let port = cfg.port();
    let bind = cfg.bind();
    let server = Arc::new(Server::new(
        cfg,
        config_file,
        Box::new(host::ProcessHost),
        clock::now_us() / 1000,
    ));
    server.threads.store(threads, Ordering::Relaxed);
    let _ = server.this.set(Arc::downgrade(&server));
    // The dataset loads while clients may already connect: until it is in,
    // they get -LOADING (INFO and the other `loading` commands answer).
    server.loading.store(true, Ordering::Release);
    let loader = server.clone();
    std::thread::Builder::new()
        .name("ferrokey-load".into())
        .spawn(move || {
            load_dataset(&loader);
            loader.loading.store(false, Ordering::Release);
        })
        .unwrap_or_else(|e| fatal(&format!("spawning the loader: {e}")));
    scripts::start(server.clone());

    let mut listeners = Vec::new();
    if port != 0 {
        for entry in &bind {
            let (addr, optional) = bind_addr(entry, port);
            let Some(addr) = addr else {
                fatal(&format!("Invalid bind address '{entry}'"));
            };
            match listen(addr) {
                Ok(l) => listeners.push(l),
                Err(e) if optional => {
                    verbose!("Skipping optional bind address {addr}: {e}");
                }
                Err(e) => {
                    warning!(
                        "Warning: Could not create server TCP listening socket {addr}: bind: {e}"
                    );
                    warning!("Failed listening on port {port} (tcp), aborting.");
                    std::process::exit(1);
                }
            }
        }
    }

    // Worker threads: each runs its own event loop and the connections
    // handed to it.
    let mut senders = Vec::new();
    for i in 0..threads {
        let (tx, mut rx) = mpsc::unbounded_channel::<std::net::TcpStream>();
        senders.push(tx);
        let server = server.clone();
        std::thread::Builder::new()
            .name(format!("ferrokey-w{i}"))
            .spawn(move || {
                scripts::enable_pause();
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap_or_else(|e| fatal(&format!("worker runtime: {e}")));
                let local = tokio::task::LocalSet::new();
                local.block_on(&rt, async move {
                    while let Some(std_stream) = rx.recv().await {
                        let Ok(stream) = tokio::net::TcpStream::from_std(std_stream) else {
                            continue;
                        };
                        tokio::task::spawn_local(conn::serve(server.clone(), stream));
                    }
                });
            })
            .unwrap_or_else(|e| fatal(&format!("spawning worker: {e}")));
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fatal(&format!("main runtime: {e}")));
    rt.block_on(async move {
        for l in listeners {
            let l = TcpListener::from_std(l).unwrap_or_else(|e| fatal(&format!("listener: {e}")));
            let senders = senders.clone();
            tokio::spawn(async move {
                let mut next = 0usize;
                loop {
                    match l.accept().await {
                        Ok((s, _)) => {
                            let Ok(std_s) = s.into_std() else { continue };
                            let _ = senders[next % senders.len()].send(std_s);
                            next = next.wrapping_add(1);
                        }
                        Err(e) => {
                            warning!("Accepting client connection: {e}");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            });
        }
        notice!("Server initialized");
        notice!("Running mode=standalone, port={port}, threads={threads}.");
        notice!("Ready to accept connections tcp");
        let cron_server = server.clone();
        std::thread::Builder::new()
            .name("ferrokey-cron".into())
            .spawn(move || cron(&cron_server))
            .unwrap_or_else(|e| fatal(&format!("spawning the cron thread: {e}")));
        replica::spawn(server.clone(), port);
        // A shutdown whose final save fails keeps the server running.
        loop {
            wait_for_signal().await;
            shutdown::request(&server, Shutdown { save: None });
        }
    });
}

/// Periodic work, `hz` times a second: active expiry and statistics. A
/// thread of its own, asleep between ticks: run as a task handing its work
/// to tokio's blocking pool, each tick cost three thread wake-ups on the
/// core a worker runs on.
fn cron(server: &Server) {
    let mut last_second = 0;
    loop {
        let hz = server.tunables.hz.load(Ordering::Relaxed).clamp(1, 500);
        std::thread::sleep(Duration::from_millis(1000 / hz));
        let now_ms = clock::now_us() / 1000;
        if server.cron_paused.load(Ordering::Relaxed) {
            continue;
        }
        // Repeat while the budget was used up: many keys are due.
        for _ in 0..10 {
            let (seen, removed) = server.active_expire_cycle(now_ms, EXPIRE_BUDGET_PER_TICK);
            if seen < EXPIRE_BUDGET_PER_TICK || removed * 10 <= seen {
                break;
            }
        }
        // Clients over `maxmemory-clients` by their output (a client not
        // reading its replies grows nothing a read would see).
        ferrokey_engine::evict::evict_clients(server, now_ms);
        if server.tracking.active() {
            let max = server.tunables.tracking_max_keys.load(Ordering::Relaxed);
            server.tracking.limit(&server.clients, max);
        }
        // Memory over maxmemory with no command arriving (CONFIG SET
        // lowered it, a big value was written): evict in bounded runs.
        for _ in 0..EVICTION_RUNS_PER_TICK {
            if ferrokey_engine::evict::perform(server, now_ms)
                != ferrokey_engine::evict::Outcome::Running
            {
                break;
            }
        }
        // `appendfsync everysec`, and the automatic AOF rewrite.
        if now_ms / 1000 != last_second {
            last_second = now_ms / 1000;
            ferrokey_engine::aof::every_second(server, now_ms);
            ferrokey_engine::snapshot::every_second(server, now_ms);
        }
        let processed = server
            .stats
            .total_commands_processed
            .load(Ordering::Relaxed);
        server.stats.ops_samples.lock().sample(now_ms, processed);
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term =
        signal(SignalKind::terminate()).unwrap_or_else(|e| fatal(&format!("signal: {e}")));
    let mut int =
        signal(SignalKind::interrupt()).unwrap_or_else(|e| fatal(&format!("signal: {e}")));
    tokio::select! {
        _ = term.recv() => warning!("Received SIGTERM scheduling shutdown..."),
        _ = int.recv() => warning!("Received SIGINT scheduling shutdown..."),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
