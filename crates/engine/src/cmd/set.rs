//! The set commands (being written; see issue 5).

use crate::command::CommandSpec;

/// The set family's commands.
pub static COMMANDS: &[CommandSpec] = &[];
