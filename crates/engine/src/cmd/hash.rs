//! The hash commands (being written; see issue 5).

use crate::command::CommandSpec;

/// The hash family's commands.
pub static COMMANDS: &[CommandSpec] = &[];
