//! The list commands (being written; see issue 5).

use crate::command::CommandSpec;

/// The list family's commands.
pub static COMMANDS: &[CommandSpec] = &[];
