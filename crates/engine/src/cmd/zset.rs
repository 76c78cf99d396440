//! The zset commands (being written; see issue 5).

use crate::command::CommandSpec;

/// The zset family's commands.
pub static COMMANDS: &[CommandSpec] = &[];
