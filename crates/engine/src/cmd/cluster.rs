//! Redis Cluster's commands, answering as a server started without
//! `cluster-enabled` answers them: every CLUSTER subcommand, ASKING,
//! READONLY and READWRITE exist (COMMAND lists them, arity and script
//! rules apply to them) and reply that cluster support is disabled.

use crate::command::flags::{ADMIN, FAST, LOADING, NOSCRIPT, NO_ASYNC_LOADING, STALE};
use crate::command::CommandSpec;
use crate::command::Ctx;
use crate::error::{CmdError, CmdResult};

/// Redis's reply to cluster commands in stand-alone mode.
const DISABLED: &str = "ERR This instance has cluster support disabled";

fn disabled(_ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Err(CmdError::msg(DISABLED))
}

const CONN: &[&str] = &["@connection"];

/// The commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("cluster", -2, 0, super::keys::container)
        .doc(
            "cluster",
            "3.0.0",
            "A container for Redis Cluster commands.",
        )
        .subs(CLUSTER_SUBS),
    CommandSpec::new("asking", 1, FAST, disabled).acl(CONN).doc(
        "cluster",
        "3.0.0",
        "Signals that a cluster client is following an -ASK redirect.",
    ),
    CommandSpec::new("readonly", 1, FAST | LOADING | STALE, disabled)
        .acl(CONN)
        .doc(
            "cluster",
            "3.0.0",
            "Enables read-only queries for a connection to a Redis Cluster replica node.",
        ),
    CommandSpec::new("readwrite", 1, FAST | LOADING | STALE, disabled)
        .acl(CONN)
        .doc(
            "cluster",
            "3.0.0",
            "Enables read-write queries for a connection to a Reids Cluster replica node.",
        ),
];

static CLUSTER_SUBS: &[CommandSpec] = &[
    CommandSpec::new("addslots", -3, NO_ASYNC_LOADING | ADMIN | STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Assigns new hash slots to a node.",
    ),
    CommandSpec::new(
        "addslotsrange",
        -4,
        NO_ASYNC_LOADING | ADMIN | STALE,
        disabled,
    )
    .doc(
        "cluster",
        "7.0.0",
        "Assigns new hash slot ranges to a node.",
    ),
    CommandSpec::new("bumpepoch", 2, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "3.0.0", "Advances the cluster config epoch."),
    CommandSpec::new("count-failure-reports", 3, ADMIN | STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc(
            "cluster",
            "3.0.0",
            "Returns the number of active failure reports active for a node.",
        ),
    CommandSpec::new("countkeysinslot", 3, STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Returns the number of keys in a hash slot.",
    ),
    CommandSpec::new("delslots", -3, NO_ASYNC_LOADING | ADMIN | STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Sets hash slots as unbound for a node.",
    ),
    CommandSpec::new(
        "delslotsrange",
        -4,
        NO_ASYNC_LOADING | ADMIN | STALE,
        disabled,
    )
    .doc(
        "cluster",
        "7.0.0",
        "Sets hash slot ranges as unbound for a node.",
    ),
    CommandSpec::new("failover", -2, NO_ASYNC_LOADING | ADMIN | STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Forces a replica to perform a manual failover of its master.",
    ),
    CommandSpec::new("flushslots", 2, NO_ASYNC_LOADING | ADMIN | STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Deletes all slots information from a node.",
    ),
    CommandSpec::new("forget", 3, NO_ASYNC_LOADING | ADMIN | STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Removes a node from the nodes table.",
    ),
    CommandSpec::new("getkeysinslot", 4, STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "3.0.0", "Returns the key names in a hash slot."),
    CommandSpec::new("help", 2, LOADING | STALE, disabled).doc(
        "cluster",
        "5.0.0",
        "Returns helpful text about the different subcommands.",
    ),
    CommandSpec::new("info", 2, STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc(
            "cluster",
            "3.0.0",
            "Returns information about the state of a node.",
        ),
    CommandSpec::new("keyslot", 3, STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Returns the hash slot for a key.",
    ),
    CommandSpec::new("links", 2, STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc(
            "cluster",
            "7.0.0",
            "Returns a list of all TCP links to and from peer nodes.",
        ),
    CommandSpec::new("meet", -4, NO_ASYNC_LOADING | ADMIN | STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Forces a node to handshake with another node.",
    ),
    CommandSpec::new("myid", 2, STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Returns the ID of a node.",
    ),
    CommandSpec::new("myshardid", 2, STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "7.2.0", "Returns the shard ID of a node."),
    CommandSpec::new("nodes", 2, STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc(
            "cluster",
            "3.0.0",
            "Returns the cluster configuration for a node.",
        ),
    CommandSpec::new("replicas", 3, ADMIN | STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc(
            "cluster",
            "5.0.0",
            "Lists the replica nodes of a master node.",
        ),
    CommandSpec::new("replicate", 3, NO_ASYNC_LOADING | ADMIN | STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Configure a node as replica of a master node.",
    ),
    CommandSpec::new("reset", -2, ADMIN | STALE | NOSCRIPT, disabled).doc(
        "cluster",
        "3.0.0",
        "Resets a node.",
    ),
    CommandSpec::new("saveconfig", 2, NO_ASYNC_LOADING | ADMIN | STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Forces a node to save the cluster configuration to disk.",
    ),
    CommandSpec::new(
        "set-config-epoch",
        3,
        NO_ASYNC_LOADING | ADMIN | STALE,
        disabled,
    )
    .doc(
        "cluster",
        "3.0.0",
        "Sets the configuration epoch for a new node.",
    ),
    CommandSpec::new("setslot", -4, NO_ASYNC_LOADING | ADMIN | STALE, disabled).doc(
        "cluster",
        "3.0.0",
        "Binds a hash slot to a node.",
    ),
    CommandSpec::new("shards", 2, LOADING | STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc(
            "cluster",
            "7.0.0",
            "Returns the mapping of cluster slots to shards.",
        ),
    CommandSpec::new("slaves", 3, ADMIN | STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc(
            "cluster",
            "3.0.0",
            "Lists the replica nodes of a master node.",
        ),
    CommandSpec::new("slots", 2, LOADING | STALE, disabled)
        .tips(&["nondeterministic_output"])
        .doc(
            "cluster",
            "3.0.0",
            "Returns the mapping of cluster slots to nodes.",
        ),
];
