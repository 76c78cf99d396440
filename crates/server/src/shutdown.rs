//! Orderly exit, for SHUTDOWN and for SIGTERM/SIGINT.

use std::sync::atomic::Ordering;

use ferrokey_engine::client::Shutdown;
use ferrokey_engine::Server;

/// Shuts the process down: saves when asked to (SHUTDOWN SAVE) or when
/// save points are configured (unless NOSAVE), as Redis does, then removes
/// the pid file and exits with status 0. A failed save aborts a SHUTDOWN
/// SAVE's exit, as in Redis; returns in that case.
pub fn request(server: &Server, how: Shutdown) {
    if server.shutting_down.swap(true, Ordering::SeqCst) {
        // Another thread is already exiting; wait for it.
        loop {
            std::thread::park();
        }
    }
    crate::notice!("User requested shutdown...");
    if server
        .aof
        .enabled
        .load(std::sync::atomic::Ordering::Acquire)
    {
        crate::notice!("Calling fsync() on the AOF file.");
        ferrokey_engine::aof::sync_now(server);
    }
    let save_points = !server.config.read().save_params().is_empty();
    if how.save == Some(true) || (how.save.is_none() && save_points) {
        crate::notice!("Saving the final RDB snapshot before exiting.");
        let now_ms = crate::clock::now_us() / 1000;
        let saved = {
            let _gate = server.gate.write();
            ferrokey_engine::rdb::save(server, now_ms)
        };
        if saved.is_err() {
            crate::warning!("Error trying to save the DB, can't exit.");
            server.shutting_down.store(false, Ordering::SeqCst);
            return;
        }
    }
    let pidfile = server.config.read().pidfile();
    if !pidfile.is_empty() {
        crate::notice!("Removing the pid file.");
        let _ = std::fs::remove_file(&pidfile);
    }
    crate::notice!("Ferrokey is now ready to exit, bye bye...");
    std::process::exit(0);
}
