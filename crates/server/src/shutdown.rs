//! Orderly exit, for SHUTDOWN and for SIGTERM/SIGINT.

use std::sync::atomic::Ordering;

use ferrokey_engine::client::Shutdown;
use ferrokey_engine::Server;

/// Shuts the process down: logs as Redis does, removes the pid file and
/// exits with status 0. Nothing needs saving until persistence lands.
pub fn request(server: &Server, how: Shutdown) -> ! {
    if server.shutting_down.swap(true, Ordering::SeqCst) {
        // Another thread is already exiting; wait for it.
        loop {
            std::thread::park();
        }
    }
    crate::notice!("User requested shutdown...");
    if how.save == Some(true) {
        crate::warning!("SAVE requested but persistence is not available yet; nothing saved.");
    }
    let pidfile = server.config.read().pidfile();
    if !pidfile.is_empty() {
        crate::notice!("Removing the pid file.");
        let _ = std::fs::remove_file(&pidfile);
    }
    crate::notice!("Ferrokey is now ready to exit, bye bye...");
    std::process::exit(0);
}
