//! SORT and SORT_RO (being written).

use crate::command::CommandSpec;

/// The sort family's commands.
pub static COMMANDS: &[CommandSpec] = &[];
