//! COMMAND DOCS details beyond summary/since/group: each command's time
//! complexity and the `arguments` tree clients such as redis-cli use for
//! their hints.
//!
//! Every command's syntax is written once, in the notation of the Redis
//! documentation, and [`parse`] turns it into Redis's argument structure:
//!
//! * `UPPER` words are tokens, other words are placeholders (`key`, `count`);
//! * `[ ... ]` is optional, `< ... >` (or `( ... )`) a required group, and
//!   `|` separates alternatives (a `oneof`);
//! * `x [x ...]` repeats `x` (`multiple`), and when the repeated part starts
//!   with a token, as in `[GET pattern [GET pattern ...]]`, the token is
//!   repeated too (`multiple_token`);
//! * a token followed by one placeholder or group is that argument's
//!   `token` (`[EX seconds]`); followed by more, the token opens a `block`
//!   (`offset_count=[LIMIT offset count]`); several placeholders repeated together form a
//!   block too (`score member [score member ...]`), as does a single-item
//!   `< ... >` group;
//! * a placeholder's type comes from its name (`key`, `count`, `pattern`,
//!   ...) unless given as a suffix: `increment:double`, `start:string`;
//!   keys are numbered in order of appearance for `key_spec_index`, which
//!   a `:keyN` suffix overrides (`key2:key0` when one spec covers both);
//! * `label=` before a token or a group names the argument Redis reports
//!   (`change=CH`, `condition=[NX | XX]`); without it, a pure token is named
//!   after itself, a oneof after its alternatives joined by `_`, and a block
//!   after its token or its members.
//!
//! History (per-argument `since`, `deprecated_since`) is not reported.

use std::collections::HashMap;
use std::sync::OnceLock;

use ferrokey_resp::Frame;

/// Full command name (`set`, `config|get`), complexity, syntax.
static DOCS: &[(&str, &str, &str)] = &[
    // --- dump / restore ---
    ("save", "O(N), N being the total number of keys in all databases.", ""),
    ("sync", "", ""),
    ("bgrewriteaof", "O(1)", ""),
    ("bgsave", "O(1)", "[SCHEDULE]"),
    ("psync", "", "replicationid offset [option [option ...]]"),
    ("replconf", "", "[option value [option value ...]]"),
    ("replicaof", "O(1)", "args=<host:string port:integer | no-one=<NO ONE>>"),
    ("slaveof", "O(1)", "args=<host:string port:integer | no-one=<NO ONE>>"),
    ("role", "O(1)", ""),
    (
        "dump",
        "O(N) to serialize the value, N being its number of elements (O(1) for strings).",
        "key",
    ),
    (
        "restore",
        "O(N) to rebuild the value, N being its number of elements; O(N*log(N)) for sorted sets.",
        "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
    ),
    (
        "migrate",
        "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
        "host:string port:integer key_selector=<key | empty-string=\"\"> destination-db:integer timeout:integer [COPY] [REPLACE] authentication=[AUTH auth-password:string | AUTH2 username:string password:string] [KEYS key:key1 [key:key1 ...]]",
    ),
    // --- pub/sub ---
    ("subscribe", "O(N), N being the number of channels subscribed to.", "channel [channel ...]"),
    ("unsubscribe", "O(N), N being the number of channels unsubscribed from.", "[channel [channel ...]]"),
    ("psubscribe", "O(N), N being the number of patterns subscribed to.", "pattern [pattern ...]"),
    ("punsubscribe", "O(N), N being the number of patterns unsubscribed from.", "[pattern [pattern ...]]"),
    (
        "publish",
        "O(N+M), N being the subscribers of the channel and M the number of subscribed patterns.",
        "channel message",
    ),
    ("ssubscribe", "O(N), N being the number of shard channels subscribed to.", "shardchannel [shardchannel ...]"),
    ("sunsubscribe", "O(N), N being the number of shard channels unsubscribed from.", "[shardchannel [shardchannel ...]]"),
    ("spublish", "O(N), N being the subscribers of the shard channel.", "shardchannel message"),
    ("pubsub", "Depends on subcommand.", ""),
    (
        "pubsub|channels",
        "O(N), N being the number of active channels (pattern matching taken as constant).",
        "[pattern]",
    ),
    ("pubsub|numsub", "O(N), N being the number of channels asked about.", "[channel [channel ...]]"),
    ("pubsub|numpat", "O(1)", ""),
    (
        "pubsub|shardchannels",
        "O(N), N being the number of active shard channels (pattern matching taken as constant).",
        "[pattern]",
    ),
    ("pubsub|shardnumsub", "O(N), N being the number of shard channels asked about.", "[shardchannel [shardchannel ...]]"),
    ("pubsub|help", "O(1)", ""),
    ("monitor", "O(1) per command streamed.", ""),
    // --- strings ---
    (
        "append",
        "O(1) amortized: the string keeps spare capacity that grows geometrically, so appending a small value rarely reallocates.",
        "key value",
    ),
    ("decr", "O(1)", "key"),
    ("decrby", "O(1)", "key decrement"),
    ("get", "O(1)", "key"),
    ("getdel", "O(1)", "key"),
    (
        "getex",
        "O(1)",
        "key expiration=[EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]",
    ),
    (
        "getrange",
        "O(N), N being the length of the returned substring; copying a short substring is cheap, so for small strings this is effectively O(1).",
        "key start end",
    ),
    ("getset", "O(1)", "key value"),
    (
        "bitcount",
        "O(N)",
        "key range=[start:integer end:integer unit=[BYTE | BIT]]",
    ),
    (
        "bitpos",
        "O(N)",
        "key bit:integer range=[start:integer end-unit-block=[end:integer unit=[BYTE | BIT]]]",
    ),
    (
        "bitop",
        "O(N)",
        "operation=<AND | OR | XOR | NOT> destkey:key key [key ...]",
    ),
    (
        "bitfield",
        "O(1) for each subcommand specified",
        concat!(
            "key [operation=<get-block=<GET encoding:string offset:integer> | write=<overflow-block=[OVERFLOW <WRAP | SAT | FAIL>] write-operation=<set-block=<SET encoding:string offset:integer value:integer> | incrby-block=<INCRBY encoding:string offset:integer increment:integer>>>>",
            " [operation=<get-block=<GET encoding:string offset:integer> | write=<overflow-block=[OVERFLOW <WRAP | SAT | FAIL>] write-operation=<set-block=<SET encoding:string offset:integer value:integer> | incrby-block=<INCRBY encoding:string offset:integer increment:integer>>>> ...]]",
        ),
    ),
    (
        "bitfield_ro",
        "O(1) for each subcommand specified",
        "key get-block=[GET encoding:string offset:integer [GET encoding:string offset:integer ...]]",
    ),
    (
        "geoadd",
        "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        "key condition=[NX | XX] [change=CH] data=<longitude:double latitude:double member> [data=<longitude:double latitude:double member> ...]",
    ),
    ("geopos", "O(1) for each member requested.", "key [member [member ...]]"),
    ("geodist", "O(1)", "key member1:string member2:string [unit=<M | KM | FT | MI>]"),
    ("geohash", "O(1) for each member requested.", "key [member [member ...]]"),
    (
        "georadius",
        "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.",
        "key longitude:double latitude:double radius:double unit=<M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] count-block=[COUNT count [ANY]] order=[ASC | DESC] store=[STORE key:key1 | STOREDIST key:key2]",
    ),
    (
        "georadiusbymember",
        "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.",
        "key member radius:double unit=<M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] count-block=[COUNT count [ANY]] order=[ASC | DESC] store=[STORE key:key1 | STOREDIST key:key2]",
    ),
    (
        "georadius_ro",
        "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.",
        "key longitude:double latitude:double radius:double unit=<M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] count-block=[COUNT count [ANY]] order=[ASC | DESC]",
    ),
    (
        "georadiusbymember_ro",
        "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.",
        "key member radius:double unit=<M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] count-block=[COUNT count [ANY]] order=[ASC | DESC]",
    ),
    (
        "geosearch",
        "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape",
        "key from=<FROMMEMBER member | FROMLONLAT longitude:double latitude:double> by=<circle=<BYRADIUS radius:double unit=<M | KM | FT | MI>> | box=<BYBOX width:double height:double unit=<M | KM | FT | MI>>> order=[ASC | DESC] count-block=[COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]",
    ),
    (
        "geosearchstore",
        "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape",
        "destination:key source:key1 from=<FROMMEMBER member | FROMLONLAT longitude:double latitude:double> by=<circle=<BYRADIUS radius:double unit=<M | KM | FT | MI>> | box=<BYBOX width:double height:double unit=<M | KM | FT | MI>>> order=[ASC | DESC] count-block=[COUNT count [ANY]] [storedist=STOREDIST]",
    ),
    ("pfadd", "O(1) to add every element.", "key [element [element ...]]"),
    (
        "pfcount",
        "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        "key [key ...]",
    ),
    (
        "pfmerge",
        "O(N) to merge N HyperLogLogs, but with high constant times.",
        "destkey:key [sourcekey:key [sourcekey:key ...]]",
    ),
    ("pfdebug", "N/A", "subcommand:string key"),
    ("pfselftest", "N/A", ""),
    ("getbit", "O(1)", "key offset:integer"),
    ("setbit", "O(1)", "key offset:integer value:integer"),
    ("incr", "O(1)", "key"),
    ("incrby", "O(1)", "key increment"),
    ("incrbyfloat", "O(1)", "key increment:double"),
    (
        "lcs",
        "O(N*M), N and M being the lengths of the two strings.",
        "key1 key2:key0 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]",
    ),
    ("mget", "O(N), N being the number of keys fetched.", "key [key ...]"),
    ("mset", "O(N), N being the number of keys written.", "key value [key value ...]"),
    ("msetnx", "O(N), N being the number of keys written.", "key value [key value ...]"),
    ("psetex", "O(1)", "key milliseconds value"),
    (
        "set",
        "O(1)",
        "key value condition=[NX | XX] [GET] expiration=[EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
    ),
    ("setex", "O(1)", "key seconds value"),
    ("setnx", "O(1)", "key value"),
    (
        "setrange",
        "O(1) when the new value is small and the string already has room, not counting the copy of the value; otherwise O(M), M being the value's length.",
        "key offset value",
    ),
    ("strlen", "O(1)", "key"),
    (
        "substr",
        "O(N), N being the length of the returned substring; copying a short substring is cheap, so for small strings this is effectively O(1).",
        "key start end",
    ),
    // --- generic ---
    (
        "copy",
        "O(1) for strings; for collections O(N), N being the number of nested elements copied.",
        "source destination [DB destination-db] [REPLACE]",
    ),
    (
        "del",
        "O(N), N being the number of keys removed; a key holding a collection costs O(M) for its M elements, a string key O(1).",
        "key [key ...]",
    ),
    ("exists", "O(N), N being the number of keys given.", "key [key ...]"),
    ("expire", "O(1)", "key seconds condition=[NX | XX | GT | LT]"),
    ("expireat", "O(1)", "key unix-time-seconds condition=[NX | XX | GT | LT]"),
    ("expiretime", "O(1)", "key"),
    (
        "keys",
        "O(N), N being the number of keys in the database, with key names and pattern of bounded length.",
        "pattern",
    ),
    ("move", "O(1)", "key db"),
    ("persist", "O(1)", "key"),
    ("pexpire", "O(1)", "key milliseconds condition=[NX | XX | GT | LT]"),
    ("pexpireat", "O(1)", "key unix-time-milliseconds condition=[NX | XX | GT | LT]"),
    ("pexpiretime", "O(1)", "key"),
    ("pttl", "O(1)", "key"),
    ("randomkey", "O(1)", ""),
    ("rename", "O(1)", "key newkey"),
    ("renamenx", "O(1)", "key newkey"),
    (
        "scan",
        "O(1) per call; a full iteration, with enough calls for the cursor to come back to 0, is O(N), N being the number of elements in the collection.",
        "cursor [MATCH pattern] [COUNT count] [TYPE type]",
    ),
    (
        "sort",
        "O(N+M*log(M)), N being the number of elements in the list, set or sorted set to sort and M the number of returned elements; O(N) when the elements are not sorted.",
        "key [BY by-pattern:pattern] [LIMIT offset count] [GET get-pattern:pattern [GET get-pattern:pattern ...]] order=[ASC | DESC] sorting=[ALPHA] [STORE destination:key2]",
    ),
    (
        "sort_ro",
        "O(N+M*log(M)), N being the number of elements in the list, set or sorted set to sort and M the number of returned elements; O(N) when the elements are not sorted.",
        "key [BY by-pattern:pattern] [LIMIT offset count] [GET get-pattern:pattern [GET get-pattern:pattern ...]] order=[ASC | DESC] sorting=[ALPHA]",
    ),
    ("touch", "O(N), N being the number of keys touched.", "key [key ...]"),
    ("ttl", "O(1)", "key"),
    ("type", "O(1)", "key"),
    (
        "unlink",
        "O(1) per key removed, whatever its size; the memory is then reclaimed in the background in O(N), N being the number of allocations the value is made of.",
        "key [key ...]",
    ),
    // --- hashes ---
    ("hdel", "O(N), N being the number of fields removed.", "key field [field ...]"),
    ("hexists", "O(1)", "key field"),
    ("hget", "O(1)", "key field"),
    ("hgetall", "O(N), N being the number of fields in the hash.", "key"),
    ("hincrby", "O(1)", "key field increment"),
    ("hincrbyfloat", "O(1)", "key field increment:double"),
    ("hkeys", "O(N), N being the number of fields in the hash.", "key"),
    ("hlen", "O(1)", "key"),
    ("hmget", "O(N), N being the number of fields asked for.", "key field [field ...]"),
    ("hmset", "O(N), N being the number of field/value pairs written.", "key field value [field value ...]"),
    (
        "hrandfield",
        "O(N), N being the number of fields returned.",
        "key options=[count [WITHVALUES]]",
    ),
    (
        "hscan",
        "O(1) per call; a full iteration, with enough calls for the cursor to come back to 0, is O(N), N being the number of elements in the collection.",
        "key cursor [MATCH pattern] [COUNT count]",
    ),
    (
        "hset",
        "O(1) per field/value pair added, so O(N) for N pairs.",
        "key field value [field value ...]",
    ),
    ("hsetnx", "O(1)", "key field value"),
    ("hstrlen", "O(1)", "key field"),
    ("hvals", "O(N), N being the number of fields in the hash.", "key"),
    // --- lists ---
    (
        "lindex",
        "O(N), N being the number of elements walked to reach the index; O(1) for the first and last elements.",
        "key index",
    ),
    (
        "linsert",
        "O(N), N being the number of elements walked before the pivot is found: close to O(1) near the head, O(N) near the tail.",
        "key where=<BEFORE | AFTER> pivot element",
    ),
    ("llen", "O(1)", "key"),
    (
        "blpop",
        "O(N), N being the number of keys given.",
        "key [key ...] timeout:double",
    ),
    (
        "brpop",
        "O(N), N being the number of keys given.",
        "key [key ...] timeout:double",
    ),
    (
        "blmove",
        "O(1)",
        "source destination wherefrom=<LEFT | RIGHT> whereto=<LEFT | RIGHT> timeout:double",
    ),
    ("brpoplpush", "O(1)", "source destination timeout:double"),
    (
        "blmpop",
        "O(N+M), N being the number of keys given and M the number of elements popped.",
        "timeout:double numkeys key [key ...] where=<LEFT | RIGHT> [COUNT count]",
    ),
    ("lmove", "O(1)", "source destination wherefrom=<LEFT | RIGHT> whereto=<LEFT | RIGHT>"),
    (
        "lmpop",
        "O(N+M), N being the number of keys given and M the number of elements popped.",
        "numkeys key [key ...] where=<LEFT | RIGHT> [COUNT count]",
    ),
    ("lpop", "O(N), N being the number of elements popped.", "key [count]"),
    (
        "lpos",
        "O(N), N being the number of elements scanned; MAXLEN bounds the scan, making it O(1) for a small MAXLEN.",
        "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
    ),
    (
        "lpush",
        "O(1) per element added, so O(N) for N elements.",
        "key element [element ...]",
    ),
    (
        "lpushx",
        "O(1) per element added, so O(N) for N elements.",
        "key element [element ...]",
    ),
    (
        "lrange",
        "O(S+N), S being the distance of start from the nearer end of the list and N the number of elements returned.",
        "key start stop",
    ),
    (
        "lrem",
        "O(N+M), N being the length of the list and M the number of elements removed.",
        "key count element",
    ),
    (
        "lset",
        "O(N), N being the length of the list; O(1) for the first and last elements.",
        "key index element",
    ),
    ("ltrim", "O(N), N being the number of elements removed.", "key start stop"),
    ("rpop", "O(N), N being the number of elements popped.", "key [count]"),
    ("rpoplpush", "O(1)", "source destination"),
    (
        "rpush",
        "O(1) per element added, so O(N) for N elements.",
        "key element [element ...]",
    ),
    (
        "rpushx",
        "O(1) per element added, so O(N) for N elements.",
        "key element [element ...]",
    ),
    // --- sets ---
    (
        "sadd",
        "O(1) per member added, so O(N) for N members.",
        "key member [member ...]",
    ),
    ("scard", "O(1)", "key"),
    (
        "sdiff",
        "O(N), N being the total number of elements in all the sets given.",
        "key [key ...]",
    ),
    (
        "sdiffstore",
        "O(N), N being the total number of elements in all the sets given.",
        "destination key [key ...]",
    ),
    (
        "sinter",
        "O(N*M) in the worst case, N being the size of the smallest set and M the number of sets.",
        "key [key ...]",
    ),
    (
        "sintercard",
        "O(N*M) in the worst case, N being the size of the smallest set and M the number of sets.",
        "numkeys key [key ...] [LIMIT limit]",
    ),
    (
        "sinterstore",
        "O(N*M) in the worst case, N being the size of the smallest set and M the number of sets.",
        "destination key [key ...]",
    ),
    ("sismember", "O(1)", "key member"),
    ("smembers", "O(N), N being the number of members of the set.", "key"),
    (
        "smismember",
        "O(N), N being the number of members checked.",
        "key member [member ...]",
    ),
    ("smove", "O(1)", "source destination member"),
    (
        "spop",
        "O(1) without count; otherwise O(N), N being the count.",
        "key [count]",
    ),
    (
        "srandmember",
        "O(1) without count; otherwise O(N), N being the absolute value of the count.",
        "key [count]",
    ),
    (
        "srem",
        "O(N), N being the number of members removed.",
        "key member [member ...]",
    ),
    (
        "sscan",
        "O(1) per call; a full iteration, with enough calls for the cursor to come back to 0, is O(N), N being the number of elements in the collection.",
        "key cursor [MATCH pattern] [COUNT count]",
    ),
    (
        "sunion",
        "O(N), N being the total number of elements in all the sets given.",
        "key [key ...]",
    ),
    (
        "sunionstore",
        "O(N), N being the total number of elements in all the sets given.",
        "destination key [key ...]",
    ),
    // --- streams ---
    (
        "xadd",
        "O(1) when adding a new entry, O(N) when trimming, N being the number of entries evicted.",
        "key [NOMKSTREAM] [<MAXLEN | MINID> [operator] threshold [LIMIT count]] id field value [field value ...]",
    ),
    (
        "xtrim",
        "O(N), N being the number of evicted entries.",
        "key <MAXLEN | MINID> [operator] threshold [LIMIT count]",
    ),
    (
        "xrange",
        "O(N) with N being the number of elements being returned.",
        "key start end [COUNT count]",
    ),
    (
        "xrevrange",
        "O(N) with N being the number of elements returned.",
        "key end start [COUNT count]",
    ),
    ("xlen", "O(1)", "key"),
    ("xdel", "O(1) for each single item to delete in the stream.", "key id [id ...]"),
    (
        "xread",
        "For each stream mentioned: O(N) with N being the number of elements being returned.",
        "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]",
    ),
    (
        "xreadgroup",
        "For each stream mentioned: O(M) with M being the number of elements returned.",
        "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]",
    ),
    ("xgroup", "Depends on subcommand.", ""),
    ("xgroup|create", "O(1)", "key group id [MKSTREAM] [ENTRIESREAD entries-read]"),
    ("xgroup|setid", "O(1)", "key group id [ENTRIESREAD entries-read]"),
    (
        "xgroup|destroy",
        "O(N) where N is the number of entries in the group's pending entries list.",
        "key group",
    ),
    ("xgroup|createconsumer", "O(1)", "key group consumer"),
    ("xgroup|delconsumer", "O(1)", "key group consumer"),
    ("xgroup|help", "O(1)", ""),
    ("xack", "O(1) for each message ID processed.", "key group id [id ...]"),
    (
        "xpending",
        "O(N) with N being the number of elements returned.",
        "key group [[IDLE min-idle-time] start end count [consumer]]",
    ),
    (
        "xclaim",
        "O(log N) with N being the number of messages in the PEL of the consumer group.",
        "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]",
    ),
    (
        "xautoclaim",
        "O(1) if COUNT is small.",
        "key group consumer min-idle-time start [COUNT count] [JUSTID]",
    ),
    ("xsetid", "O(1)", "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]"),
    ("xinfo", "Depends on subcommand.", ""),
    ("xinfo|stream", "O(N) with N being the number of returned items for the full form.", "key [FULL [COUNT count]]"),
    ("xinfo|groups", "O(1)", "key"),
    ("xinfo|consumers", "O(1)", "key group"),
    ("xinfo|help", "O(1)", ""),
    // --- sorted sets ---
    (
        "zadd",
        "O(log(N)) per member added or updated, N being the size of the sorted set.",
        "key condition=[NX | XX] comparison=[GT | LT] [change=CH] [increment=INCR] score member [score member ...]",
    ),
    ("zcard", "O(1)", "key"),
    (
        "zcount",
        "O(log(N)), N being the size of the sorted set.",
        "key min:double max:double",
    ),
    (
        "zdiff",
        "O(L + (N-K)log(N)) in the worst case, L being the total number of elements in all the sets, N the size of the first set and K the size of the result.",
        "numkeys key [key ...] [WITHSCORES]",
    ),
    (
        "zdiffstore",
        "O(L + (N-K)log(N)) in the worst case, L being the total number of elements in all the sets, N the size of the first set and K the size of the result.",
        "destination numkeys key [key ...]",
    ),
    (
        "zincrby",
        "O(log(N)), N being the size of the sorted set.",
        "key increment:double member",
    ),
    (
        "zinter",
        "O(N*K)+O(M*log(M)) in the worst case, N being the size of the smallest input, K the number of inputs and M the size of the result.",
        "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE aggregate=<SUM | MIN | MAX>] [WITHSCORES]",
    ),
    (
        "zintercard",
        "O(N*K) in the worst case, N being the size of the smallest input and K the number of inputs.",
        "numkeys key [key ...] [LIMIT limit]",
    ),
    (
        "zinterstore",
        "O(N*K)+O(M*log(M)) in the worst case, N being the size of the smallest input, K the number of inputs and M the size of the result.",
        "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE aggregate=<SUM | MIN | MAX>]",
    ),
    (
        "zlexcount",
        "O(log(N)), N being the size of the sorted set.",
        "key min max",
    ),
    (
        "zmscore",
        "O(N), N being the number of members asked for.",
        "key member [member ...]",
    ),
    (
        "zmpop",
        "O(K) + O(M*log(N)), K being the number of keys given, N the size of the sorted set and M the number of members popped.",
        "numkeys key [key ...] where=<MIN | MAX> [COUNT count]",
    ),
    (
        "bzpopmin",
        "O(log(N)), N being the size of the sorted set.",
        "key [key ...] timeout:double",
    ),
    (
        "bzpopmax",
        "O(log(N)), N being the size of the sorted set.",
        "key [key ...] timeout:double",
    ),
    (
        "bzmpop",
        "O(K) + O(M*log(N)), K being the number of keys given, N the size of the sorted set and M the number of members popped.",
        "timeout:double numkeys key [key ...] where=<MIN | MAX> [COUNT count]",
    ),
    (
        "zpopmax",
        "O(log(N)*M), N being the size of the sorted set and M the number of members popped.",
        "key [count]",
    ),
    (
        "zpopmin",
        "O(log(N)*M), N being the size of the sorted set and M the number of members popped.",
        "key [count]",
    ),
    (
        "zrandmember",
        "O(N), N being the number of members returned.",
        "key options=[count [WITHSCORES]]",
    ),
    (
        "zrange",
        "O(log(N)+M), N being the size of the sorted set and M the number of members returned.",
        "key start:string stop:string sortby=[BYSCORE | BYLEX] [REV] offset_count=[LIMIT offset count] [WITHSCORES]",
    ),
    (
        "zrangebylex",
        "O(log(N)+M), N being the size of the sorted set and M the number of members returned; O(log(N)) when M is bounded, as with a small LIMIT.",
        "key min max offset_count=[LIMIT offset count]",
    ),
    (
        "zrangebyscore",
        "O(log(N)+M), N being the size of the sorted set and M the number of members returned; O(log(N)) when M is bounded, as with a small LIMIT.",
        "key min:double max:double [WITHSCORES] offset_count=[LIMIT offset count]",
    ),
    (
        "zrangestore",
        "O(log(N)+M), N being the size of the sorted set and M the number of members stored.",
        "dst src min:string max:string sortby=[BYSCORE | BYLEX] [REV] offset_count=[LIMIT offset count]",
    ),
    (
        "zrank",
        "O(log(N)), N being the size of the sorted set.",
        "key member [WITHSCORE]",
    ),
    (
        "zrem",
        "O(M*log(N)), N being the size of the sorted set and M the number of members removed.",
        "key member [member ...]",
    ),
    (
        "zremrangebylex",
        "O(log(N)+M), N being the size of the sorted set and M the number of members removed.",
        "key min max",
    ),
    (
        "zremrangebyrank",
        "O(log(N)+M), N being the size of the sorted set and M the number of members removed.",
        "key start stop",
    ),
    (
        "zremrangebyscore",
        "O(log(N)+M), N being the size of the sorted set and M the number of members removed.",
        "key min:double max:double",
    ),
    (
        "zrevrange",
        "O(log(N)+M), N being the size of the sorted set and M the number of members returned.",
        "key start stop [WITHSCORES]",
    ),
    (
        "zrevrangebylex",
        "O(log(N)+M), N being the size of the sorted set and M the number of members returned; O(log(N)) when M is bounded, as with a small LIMIT.",
        "key max min offset_count=[LIMIT offset count]",
    ),
    (
        "zrevrangebyscore",
        "O(log(N)+M), N being the size of the sorted set and M the number of members returned; O(log(N)) when M is bounded, as with a small LIMIT.",
        "key max:double min:double [WITHSCORES] offset_count=[LIMIT offset count]",
    ),
    (
        "zrevrank",
        "O(log(N)), N being the size of the sorted set.",
        "key member [WITHSCORE]",
    ),
    (
        "zscan",
        "O(1) per call; a full iteration, with enough calls for the cursor to come back to 0, is O(N), N being the number of elements in the collection.",
        "key cursor [MATCH pattern] [COUNT count]",
    ),
    ("zscore", "O(1)", "key member"),
    (
        "zunion",
        "O(N)+O(M*log(M)), N being the sum of the sizes of the inputs and M the size of the result.",
        "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE aggregate=<SUM | MIN | MAX>] [WITHSCORES]",
    ),
    (
        "zunionstore",
        "O(N)+O(M*log(M)), N being the sum of the sizes of the inputs and M the size of the result.",
        "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE aggregate=<SUM | MIN | MAX>]",
    ),
    // --- connection ---
    (
        "auth",
        "O(N), N being the number of passwords the user has.",
        "[username] password",
    ),
    ("client", "Depends on the subcommand.", ""),
    ("client|getname", "O(1)", ""),
    ("client|help", "O(1)", ""),
    ("client|id", "O(1)", ""),
    ("client|info", "O(1)", ""),
    (
        "client|kill",
        "O(N), N being the number of client connections.",
        concat!(
            "filter=<ip:port | new-format=<[ID client-id] | ",
            "[TYPE normal_master_slave_pubsub=<NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | ",
            "[USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME yes/no] | [MAXAGE maxage]> ",
            "[<[ID client-id] | ",
            "[TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | ",
            "[USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME yes/no] | [MAXAGE maxage]> ...]>",
        ),
    ),
    (
        "client|list",
        "O(N), N being the number of client connections.",
        "[TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID <client-id [client-id ...]>]",
    ),
    ("client|no-evict", "O(1)", "enabled=<ON | OFF>"),
    ("client|no-touch", "O(1)", "enabled=<ON | OFF>"),
    (
        "client|pause",
        "O(1)",
        "timeout mode=[WRITE | ALL]",
    ),
    ("client|reply", "O(1)", "<ON | OFF | SKIP>"),
    ("client|setinfo", "O(1)", "attr=<LIB-NAME libname | LIB-VER libver>"),
    ("client|setname", "O(1)", "connection-name"),
    (
        "client|unblock",
        "O(log N), N being the number of client connections.",
        "client-id [TIMEOUT | ERROR]",
    ),
    ("client|unpause", "O(N), N being the number of paused clients.", ""),
    (
        "client|tracking",
        "O(1). Some options may introduce additional complexity.",
        "status=<ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]",
    ),
    ("client|caching", "O(1)", "mode=<YES | NO>"),
    ("client|getredir", "O(1)", ""),
    ("client|trackinginfo", "O(1)", ""),
    ("echo", "O(1)", "message"),
    (
        "hello",
        "O(1)",
        "arguments=[protover [username_password=AUTH username password] [SETNAME clientname]]",
    ),
    ("ping", "O(1)", "[message]"),
    ("quit", "O(1)", ""),
    ("reset", "O(1)", ""),
    ("select", "O(1)", "index"),
    // --- transactions ---
    ("discard", "O(N), N being the number of commands queued.", ""),
    ("exec", "Depends on the commands in the transaction.", ""),
    ("multi", "O(1)", ""),
    ("unwatch", "O(1)", ""),
    ("watch", "O(1) per key watched.", "key [key ...]"),
    // --- scripting ---
    (
        "eval",
        "Depends on the script that is executed.",
        "script numkeys [key [key ...]] [arg [arg ...]]",
    ),
    (
        "evalsha",
        "Depends on the script that is executed.",
        "sha1 numkeys [key [key ...]] [arg [arg ...]]",
    ),
    (
        "eval_ro",
        "Depends on the script that is executed.",
        "script numkeys [key [key ...]] [arg [arg ...]]",
    ),
    (
        "evalsha_ro",
        "Depends on the script that is executed.",
        "sha1 numkeys [key [key ...]] [arg [arg ...]]",
    ),
    ("script", "Depends on subcommand.", ""),
    (
        "fcall",
        "Depends on the function that is executed.",
        "function numkeys [key [key ...]] [arg [arg ...]]",
    ),
    (
        "fcall_ro",
        "Depends on the function that is executed.",
        "function numkeys [key [key ...]] [arg [arg ...]]",
    ),
    ("function", "Depends on subcommand.", ""),
    ("function|delete", "O(1)", "library-name"),
    ("function|dump", "O(N) where N is the number of functions", ""),
    (
        "function|flush",
        "O(N) where N is the number of functions deleted",
        "flush-type=[ASYNC | SYNC]",
    ),
    ("function|help", "O(1)", ""),
    ("function|kill", "O(1)", ""),
    (
        "function|list",
        "O(N) where N is the number of functions",
        "[LIBRARYNAME library-name-pattern] [WITHCODE]",
    ),
    (
        "function|load",
        "O(1) (considering compilation time is redundant)",
        "[REPLACE] function-code",
    ),
    (
        "function|restore",
        "O(N) where N is the number of functions on the payload",
        "serialized-value [policy=<FLUSH | APPEND | REPLACE>]",
    ),
    ("function|stats", "O(1)", ""),
    (
        "script|exists",
        "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        "sha1 [sha1 ...]",
    ),
    (
        "script|flush",
        "O(N) with N being the number of scripts in cache",
        "flush-type=[ASYNC | SYNC]",
    ),
    ("script|help", "O(1)", ""),
    ("script|kill", "O(1)", ""),
    (
        "script|load",
        "O(N) with N being the length in bytes of the script body.",
        "script",
    ),
    // --- server ---
    ("command", "O(N), N being the total number of commands.", ""),
    ("command|count", "O(1)", ""),
    (
        "command|docs",
        "O(N), N being the number of commands asked for.",
        "[command-name [command-name ...]]",
    ),
    (
        "command|getkeys",
        "O(N), N being the number of arguments of the command.",
        "command [arg [arg ...]]",
    ),
    (
        "command|getkeysandflags",
        "O(N), N being the number of arguments of the command.",
        "command [arg [arg ...]]",
    ),
    ("command|help", "O(1)", ""),
    (
        "command|info",
        "O(N), N being the number of commands asked for.",
        "[command-name [command-name ...]]",
    ),
    (
        "command|list",
        "O(N), N being the total number of commands.",
        "filterby=[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]",
    ),
    ("config", "Depends on the subcommand.", ""),
    (
        "config|get",
        "O(N), N being the number of parameters asked for.",
        "parameter [parameter ...]",
    ),
    ("config|help", "O(1)", ""),
    ("config|resetstat", "O(1)", ""),
    ("config|rewrite", "O(1)", ""),
    (
        "config|set",
        "O(N), N being the number of parameters set.",
        "parameter value [parameter value ...]",
    ),
    ("dbsize", "O(1)", ""),
    ("debug", "Depends on the subcommand.", ""),
    (
        "flushall",
        "O(N), N being the total number of keys in all databases.",
        "async=[ASYNC | SYNC]",
    ),
    (
        "flushdb",
        "O(N), N being the number of keys in the selected database.",
        "async=[ASYNC | SYNC]",
    ),
    ("info", "O(1)", "[section [section ...]]"),
    ("wait", "O(1)", "numreplicas timeout"),
    ("slowlog", "Depends on subcommand.", ""),
    ("slowlog|get", "O(N) where N is the number of entries returned", "[count:integer]"),
    ("slowlog|help", "O(1)", ""),
    ("slowlog|len", "O(1)", ""),
    ("slowlog|reset", "O(N) where N is the number of entries in the slowlog", ""),
    ("lastsave", "O(1)", ""),
    // --- acl ---
    ("acl", "Depends on subcommand.", ""),
    ("acl|cat", "O(1) since the categories and commands are a fixed set.", "[category:string]"),
    ("acl|deluser", "O(1) amortized time considering the typical user.", "username:string [username:string ...]"),
    ("acl|dryrun", "O(1).", "username:string command:string [arg:string [arg:string ...]]"),
    ("acl|genpass", "O(1)", "[bits:integer]"),
    ("acl|getuser", "O(N). Where N is the number of password, command and pattern rules that the user has.", "username:string"),
    ("acl|help", "O(1)", ""),
    ("acl|list", "O(N). Where N is the number of configured users.", ""),
    ("acl|setuser", "O(N). Where N is the number of rules provided.", "username:string [rule:string [rule:string ...]]"),
    ("acl|users", "O(N). Where N is the number of configured users.", ""),
    ("acl|whoami", "O(1)", ""),
    // --- cluster (stand-alone: every subcommand answers that it is disabled) ---
    ("cluster", "Depends on subcommand.", ""),
    ("cluster|addslots", "O(N) where N is the total number of hash slot arguments", "slot:integer [slot:integer ...]"),
    (
        "cluster|addslotsrange",
        "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
        "start-slot:integer end-slot:integer [start-slot:integer end-slot:integer ...]",
    ),
    ("cluster|bumpepoch", "O(1)", ""),
    ("cluster|count-failure-reports", "O(N) where N is the number of failure reports", "node-id:string"),
    ("cluster|countkeysinslot", "O(1)", "slot:integer"),
    ("cluster|delslots", "O(N) where N is the total number of hash slot arguments", "slot:integer [slot:integer ...]"),
    (
        "cluster|delslotsrange",
        "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
        "start-slot:integer end-slot:integer [start-slot:integer end-slot:integer ...]",
    ),
    ("cluster|failover", "O(1)", "options=[FORCE | TAKEOVER]"),
    ("cluster|flushslots", "O(1)", ""),
    ("cluster|forget", "O(1)", "node-id:string"),
    ("cluster|getkeysinslot", "O(N) where N is the number of requested keys", "slot:integer count:integer"),
    ("cluster|help", "O(1)", ""),
    ("cluster|info", "O(1)", ""),
    ("cluster|keyslot", "O(N) where N is the number of bytes in the key", "key:string"),
    ("cluster|links", "O(N) where N is the total number of Cluster nodes", ""),
    ("cluster|meet", "O(1)", "ip:string port:integer [cluster-bus-port:integer]"),
    ("cluster|myid", "O(1)", ""),
    ("cluster|myshardid", "O(1)", ""),
    ("cluster|nodes", "O(N) where N is the total number of Cluster nodes", ""),
    ("cluster|replicas", "O(N) where N is the number of replicas.", "node-id:string"),
    ("cluster|replicate", "O(1)", "node-id:string"),
    (
        "cluster|reset",
        "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.",
        "reset-type=[HARD | SOFT]",
    ),
    ("cluster|saveconfig", "O(1)", ""),
    ("cluster|set-config-epoch", "O(1)", "config-epoch:integer"),
    (
        "cluster|setslot",
        "O(1)",
        "slot:integer subcommand=<IMPORTING importing:string | MIGRATING migrating:string | NODE node:string | STABLE>",
    ),
    ("cluster|shards", "O(N) where N is the total number of cluster nodes", ""),
    ("cluster|slaves", "O(N) where N is the number of replicas.", "node-id:string"),
    ("cluster|slots", "O(N) where N is the total number of Cluster nodes", ""),
    ("asking", "O(1)", ""),
    ("readonly", "O(1)", ""),
    ("readwrite", "O(1)", ""),
    ("memory", "Depends on the subcommand.", ""),
    ("memory|doctor", "O(1)", ""),
    ("memory|help", "O(1)", ""),
    (
        "memory|malloc-stats",
        "Depends on how much memory is allocated; can be slow.",
        "",
    ),
    (
        "memory|purge",
        "Depends on how much memory is allocated; can be slow.",
        "",
    ),
    ("memory|stats", "O(1)", ""),
    (
        "memory|usage",
        "O(N), N being the number of samples.",
        "key [SAMPLES count]",
    ),
    ("object", "Depends on the subcommand.", ""),
    ("object|encoding", "O(1)", "key"),
    ("object|freq", "O(1)", "key"),
    ("object|help", "O(1)", ""),
    ("object|idletime", "O(1)", "key"),
    ("object|refcount", "O(1)", "key"),
    (
        "shutdown",
        "O(N) when saving, N being the total number of keys in all databases; O(1) otherwise.",
        "[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]",
    ),
    (
        "swapdb",
        "O(N), N being the number of clients watching or blocked on keys of either database.",
        "index1 index2",
    ),
    ("time", "O(1)", ""),
];

/// One argument of Redis's COMMAND DOCS `arguments` array.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// `name`.
    pub name: String,
    /// `type`: key, string, integer, double, pattern, unix-time, pure-token,
    /// oneof or block.
    pub ty: &'static str,
    /// `key_spec_index`, for keys.
    pub key_spec_index: Option<i64>,
    /// `token`.
    pub token: Option<&'static str>,
    /// The `optional` flag.
    pub optional: bool,
    /// The `multiple` flag.
    pub multiple: bool,
    /// The `multiple_token` flag.
    pub multiple_token: bool,
    /// `arguments`, for oneof and block.
    pub args: Vec<Arg>,
}

impl Arg {
    fn new(name: impl Into<String>, ty: &'static str) -> Self {
        Arg {
            name: name.into(),
            ty,
            key_spec_index: None,
            token: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            args: Vec::new(),
        }
    }

    /// The COMMAND DOCS map, keys in Redis's order.
    pub fn to_frame(&self) -> Frame {
        let mut m = vec![
            (Frame::bulk("name"), Frame::bulk(&self.name)),
            (Frame::bulk("type"), Frame::bulk(self.ty)),
        ];
        if let Some(i) = self.key_spec_index {
            m.push((Frame::bulk("key_spec_index"), Frame::Integer(i)));
        }
        if let Some(t) = self.token {
            m.push((Frame::bulk("token"), Frame::bulk(t)));
        }
        let flags: Vec<Frame> = [
            (self.optional, "optional"),
            (self.multiple, "multiple"),
            (self.multiple_token, "multiple_token"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, f)| Frame::Simple(f.into()))
        .collect();
        if !flags.is_empty() {
            m.push((Frame::bulk("flags"), Frame::Set(flags)));
        }
        if matches!(self.ty, "oneof" | "block") {
            m.push((
                Frame::bulk("arguments"),
                Frame::Array(self.args.iter().map(Arg::to_frame).collect()),
            ));
        }
        Frame::Map(m)
    }
}

/// A parsed piece of syntax.
#[derive(Debug, Clone)]
enum Node {
    Token(&'static str),
    /// Placeholder: name, type and, for keys, an explicit key spec index.
    Ph(&'static str, &'static str, Option<i64>),
    /// Alternatives; `block` when written with `< >` or `( )`, so a single
    /// item inside still becomes a block.
    Group {
        block: bool,
        alts: Vec<Vec<Item>>,
    },
    Ellipsis,
}

#[derive(Debug, Clone)]
struct Item {
    label: Option<&'static str>,
    node: Node,
    optional: bool,
    multiple: bool,
    multiple_token: bool,
}

impl Item {
    fn new(node: Node) -> Self {
        Item {
            label: None,
            node,
            optional: false,
            multiple: false,
            multiple_token: false,
        }
    }

    fn is_token(&self) -> bool {
        matches!(self.node, Node::Token(_))
    }

    /// Structural equality, ignoring labels (a repeated part need not
    /// repeat them).
    fn same(&self, o: &Item) -> bool {
        let node = match (&self.node, &o.node) {
            (Node::Token(a), Node::Token(b)) => a == b,
            (Node::Ph(a, x, i), Node::Ph(b, y, j)) => a == b && x == y && i == j,
            (Node::Group { block: a, alts: x }, Node::Group { block: b, alts: y }) => {
                a == b && same_alts(x, y)
            }
            (Node::Ellipsis, Node::Ellipsis) => true,
            _ => false,
        };
        node && self.optional == o.optional
            && self.multiple == o.multiple
            && self.multiple_token == o.multiple_token
    }
}

fn same_seq(a: &[Item], b: &[Item]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
}

fn same_alts(a: &[Vec<Item>], b: &[Vec<Item>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_seq(x, y))
}

/// Placeholder types known by name; anything else is a string.
fn default_type(name: &str) -> &'static str {
    match name {
        "key" | "key1" | "key2" | "destination" | "source" | "newkey" | "dst" | "src" => "key",
        "count" | "cursor" | "seconds" | "milliseconds" | "index" | "index1" | "index2"
        | "start" | "stop" | "end" | "offset" | "numkeys" | "db" | "destination-db" | "timeout"
        | "increment" | "decrement" | "rank" | "len" | "num-matches" | "min-match-len"
        | "client-id" | "weight" | "limit" | "protover" | "maxage" => "integer",
        "unix-time-seconds" | "unix-time-milliseconds" => "unix-time",
        "pattern" => "pattern",
        "score" => "double",
        _ => "string",
    }
}

const TYPES: &[&str] = &["key", "string", "integer", "double", "pattern", "unix-time"];

struct Parser {
    src: &'static str,
    pos: usize,
}

fn is_punct(c: u8) -> bool {
    matches!(c, b'[' | b']' | b'<' | b'>' | b'(' | b')' | b'|')
}

impl Parser {
    fn skip_ws(&mut self) {
        let b = self.src.as_bytes();
        while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.src.as_bytes().get(self.pos).copied()
    }

    /// Reads a word up to whitespace, punctuation or a `=`, which ends
    /// a label.
    fn word(&mut self) -> &'static str {
        let b = self.src.as_bytes();
        let start = self.pos;
        while self.pos < b.len() && !b[self.pos].is_ascii_whitespace() && !is_punct(b[self.pos]) {
            self.pos += 1;
            if b[self.pos - 1] == b'=' {
                break;
            }
        }
        &self.src[start..self.pos]
    }

    /// Alternatives up to `close` (or the end when `None`).
    fn alts(&mut self, close: Option<u8>) -> Result<Vec<Vec<Item>>, String> {
        let mut alts = vec![Vec::new()];
        loop {
            let c = self.peek();
            if c == close {
                if close.is_some() {
                    self.pos += 1;
                }
                return Ok(alts);
            }
            match c {
                None => return Err(format!("missing '{}'", close.map_or('?', char::from))),
                Some(b'|') => {
                    self.pos += 1;
                    alts.push(Vec::new());
                }
                Some(b']' | b'>' | b')') => {
                    return Err(format!(
                        "unexpected '{}' at {}",
                        char::from(c.unwrap_or(b'?')),
                        self.pos
                    ))
                }
                _ => {
                    let item = self.item()?;
                    let seq = alts.last_mut().expect("one alternative at least");
                    push_item(seq, item)?;
                }
            }
        }
    }

    fn item(&mut self) -> Result<Item, String> {
        let mut label = None;
        let c = self.peek().ok_or("unexpected end")?;
        let mut item = if is_punct(c) {
            self.group(c)?
        } else {
            let w = self.word();
            if let Some(l) = w.strip_suffix('=') {
                label = Some(l);
                let c = self
                    .src
                    .as_bytes()
                    .get(self.pos)
                    .copied()
                    .ok_or("label at end")?;
                if is_punct(c) {
                    self.group(c)?
                } else {
                    word_item(self.word())?
                }
            } else {
                word_item(w)?
            }
        };
        item.label = label;
        Ok(item)
    }

    fn group(&mut self, open: u8) -> Result<Item, String> {
        self.pos += 1;
        let (close, optional) = match open {
            b'[' => (b']', true),
            b'<' => (b'>', false),
            b'(' => (b')', false),
            c => {
                return Err(format!(
                    "unexpected '{}' at {}",
                    char::from(c),
                    self.pos - 1
                ))
            }
        };
        let alts = self.alts(Some(close))?;
        let mut item = Item::new(Node::Group {
            block: !optional,
            alts,
        });
        item.optional = optional;
        Ok(item)
    }
}

fn word_item(w: &'static str) -> Result<Item, String> {
    if w.is_empty() {
        return Err("empty word".into());
    }
    if w == "..." {
        return Ok(Item::new(Node::Ellipsis));
    }
    let first = w.as_bytes()[0];
    if first.is_ascii_uppercase() && !w.bytes().any(|b| b.is_ascii_lowercase()) {
        return Ok(Item::new(Node::Token(w)));
    }
    let (name, ty, spec) = match w.rsplit_once(':') {
        Some((n, t)) if TYPES.contains(&t) => (n, t, None),
        Some((n, t)) if t.starts_with("key") && t.len() > 3 => {
            let i = t[3..]
                .parse()
                .map_err(|_| format!("bad key spec index in {w}"))?;
            (n, "key", Some(i))
        }
        _ => (w, default_type(w), None),
    };
    Ok(Item::new(Node::Ph(name, ty, spec)))
}

/// Appends an item to a sequence, folding `x [x ...]` into a repeated `x`.
fn push_item(seq: &mut Vec<Item>, item: Item) -> Result<(), String> {
    let Node::Group { alts, .. } = &item.node else {
        seq.push(item);
        return Ok(());
    };
    let rep = match alts.as_slice() {
        [rep] if item.optional && matches!(rep.last().map(|i| &i.node), Some(Node::Ellipsis)) => {
            rep
        }
        _ => {
            if alts.iter().any(|s| has_ellipsis(s)) {
                return Err("'...' outside a repeat".into());
            }
            seq.push(item);
            return Ok(());
        }
    };
    let rep = &rep[..rep.len() - 1];
    let k = rep.len();
    if k == 0 || seq.len() < k || !same_seq(&seq[seq.len() - k..], rep) {
        return Err(format!(
            "repeat {rep:?} does not follow its first occurrence"
        ));
    }
    if k == 1 {
        let last = seq.last_mut().expect("k == 1 item");
        last.multiple = true;
        return Ok(());
    }
    let items = seq.split_off(seq.len() - k);
    let mut folded = Item::new(Node::Group {
        block: false,
        alts: vec![items],
    });
    folded.multiple = true;
    folded.multiple_token = rep[0].is_token();
    seq.push(folded);
    Ok(())
}

fn has_ellipsis(seq: &[Item]) -> bool {
    seq.iter().any(|i| matches!(i.node, Node::Ellipsis))
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn join_names(args: &[Arg]) -> String {
    args.iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join("_")
}

struct Conv {
    keys: i64,
}

impl Conv {
    fn item(&mut self, it: &Item) -> Arg {
        let mut a = match &it.node {
            Node::Token(t) => {
                let mut a = Arg::new(lower(t), "pure-token");
                a.token = Some(t);
                a
            }
            Node::Ph(n, ty, spec) => {
                let mut a = Arg::new(*n, ty);
                if *ty == "key" {
                    a.key_spec_index = Some(spec.unwrap_or(self.keys));
                    if spec.is_none() {
                        self.keys += 1;
                    }
                }
                a
            }
            Node::Group { block, alts } => {
                if alts.len() > 1 {
                    let args: Vec<Arg> = alts.iter().map(|s| self.unit(s, false)).collect();
                    let mut a = Arg::new(join_names(&args), "oneof");
                    a.args = args;
                    a
                } else {
                    self.unit(&alts[0], *block)
                }
            }
            Node::Ellipsis => Arg::new("...", "string"),
        };
        if let Some(l) = it.label {
            a.name = l.to_string();
        }
        a.optional |= it.optional;
        a.multiple |= it.multiple;
        a.multiple_token |= it.multiple_token;
        a
    }

    /// One argument from a sequence: the item itself, a token and its
    /// argument, or a block.
    fn unit(&mut self, seq: &[Item], force_block: bool) -> Arg {
        match seq {
            [x] if !force_block => self.item(x),
            [t, x] if !force_block && t.is_token() && !x.is_token() => self.with_token(t, x),
            [t, rest @ ..] if t.is_token() && !rest.is_empty() => {
                let Node::Token(tok) = t.node else {
                    unreachable!("checked is_token")
                };
                let mut a = self.block(rest);
                a.name = t.label.map_or_else(|| lower(tok), str::to_string);
                a.token = Some(tok);
                a
            }
            _ => self.block(seq),
        }
    }

    /// `x` introduced by token `t`; a block is then named after the token,
    /// and a label on the token names the whole.
    fn with_token(&mut self, t: &Item, x: &Item) -> Arg {
        let mut a = self.item(x);
        if let Node::Token(tok) = t.node {
            a.token = Some(tok);
            if a.ty == "block" && x.label.is_none() {
                a.name = lower(tok);
            }
        }
        if let Some(l) = t.label {
            a.name = l.to_string();
        }
        a
    }

    fn block(&mut self, seq: &[Item]) -> Arg {
        let args = self.seq(seq);
        let mut a = Arg::new(join_names(&args), "block");
        a.args = args;
        a
    }

    /// Arguments of a sequence, a token taking the argument after it.
    fn seq(&mut self, seq: &[Item]) -> Vec<Arg> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < seq.len() {
            if let Some(next) = seq.get(i + 1) {
                if seq[i].is_token() && !next.is_token() {
                    out.push(self.with_token(&seq[i], next));
                    i += 2;
                    continue;
                }
            }
            out.push(self.item(&seq[i]));
            i += 1;
        }
        out
    }
}

/// Parses a syntax string into COMMAND DOCS arguments.
pub fn parse(src: &'static str) -> Result<Vec<Arg>, String> {
    let mut p = Parser { src, pos: 0 };
    let alts = p.alts(None)?;
    if alts.iter().any(|s| has_ellipsis(s)) {
        return Err("'...' outside a repeat".into());
    }
    let mut conv = Conv { keys: 0 };
    match alts.as_slice() {
        [seq] => Ok(conv.seq(seq)),
        _ => Ok(vec![
            conv.item(&Item::new(Node::Group { block: false, alts }))
        ]),
    }
}

type Docs = HashMap<&'static str, (&'static str, Vec<Frame>)>;

fn docs() -> &'static Docs {
    static DOCS_MAP: OnceLock<Docs> = OnceLock::new();
    DOCS_MAP.get_or_init(|| {
        DOCS.iter()
            .map(|&(name, complexity, syntax)| {
                let args = parse(syntax).unwrap_or_else(|e| panic!("docs syntax of {name}: {e}"));
                (name, (complexity, args.iter().map(Arg::to_frame).collect()))
            })
            .collect()
    })
}

/// Complexity and `arguments` for a command (`set`, `config|get`); the
/// arguments are empty for commands that take none.
pub fn docs_for(full_name: &str) -> Option<(&'static str, Vec<Frame>)> {
    docs().get(full_name).map(|(c, a)| (*c, a.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RESP3 of an arguments array.
    fn resp3(args: &[Frame]) -> String {
        let mut out = Vec::new();
        ferrokey_resp::encode(&Frame::Array(args.to_vec()), 3, &mut out);
        String::from_utf8(out).expect("ascii")
    }

    /// Expected RESP3 written one RESP line per word (none of these
    /// strings has a space), one map per text line.
    fn lines(text: &str) -> String {
        text.split_whitespace()
            .map(|w| format!("{w}\r\n"))
            .collect()
    }

    fn check(name: &str, expected: &str) {
        let (_, args) = docs_for(name).unwrap_or_else(|| panic!("no docs for {name}"));
        assert_eq!(resp3(&args), lines(expected), "{name}");
    }

    // The expected replies below are redis-server 7.0.15's COMMAND DOCS
    // `arguments`, byte for byte, less the per-argument `since` and
    // `deprecated_since` entries, which Ferrokey does not report.

    #[test]
    fn set_matches_redis() {
        check(
            "set",
            "*5
            %3 $4 name $3 key $4 type $3 key $14 key_spec_index :0
            %2 $4 name $5 value $4 type $6 string
            %4 $4 name $9 condition $4 type $5 oneof $5 flags ~1 +optional $9 arguments *2
              %3 $4 name $2 nx $4 type $10 pure-token $5 token $2 NX
              %3 $4 name $2 xx $4 type $10 pure-token $5 token $2 XX
            %4 $4 name $3 get $4 type $10 pure-token $5 token $3 GET $5 flags ~1 +optional
            %4 $4 name $10 expiration $4 type $5 oneof $5 flags ~1 +optional $9 arguments *5
              %3 $4 name $7 seconds $4 type $7 integer $5 token $2 EX
              %3 $4 name $12 milliseconds $4 type $7 integer $5 token $2 PX
              %3 $4 name $17 unix-time-seconds $4 type $9 unix-time $5 token $4 EXAT
              %3 $4 name $22 unix-time-milliseconds $4 type $9 unix-time $5 token $4 PXAT
              %3 $4 name $7 keepttl $4 type $10 pure-token $5 token $7 KEEPTTL",
        );
    }

    #[test]
    fn getex_matches_redis() {
        check(
            "getex",
            "*2
            %3 $4 name $3 key $4 type $3 key $14 key_spec_index :0
            %4 $4 name $10 expiration $4 type $5 oneof $5 flags ~1 +optional $9 arguments *5
              %3 $4 name $7 seconds $4 type $7 integer $5 token $2 EX
              %3 $4 name $12 milliseconds $4 type $7 integer $5 token $2 PX
              %3 $4 name $17 unix-time-seconds $4 type $9 unix-time $5 token $4 EXAT
              %3 $4 name $22 unix-time-milliseconds $4 type $9 unix-time $5 token $4 PXAT
              %3 $4 name $7 persist $4 type $10 pure-token $5 token $7 PERSIST",
        );
    }

    #[test]
    fn client_kill_matches_redis_plus_maxage() {
        // Redis 7.0 has six filters; Ferrokey also takes MAXAGE (Redis 7.4).
        check(
            "client|kill",
            "*1
            %3 $4 name $6 filter $4 type $5 oneof $9 arguments *2
              %2 $4 name $7 ip:port $4 type $6 string
              %4 $4 name $10 new-format $4 type $5 oneof $5 flags ~1 +multiple $9 arguments *7
                %4 $4 name $9 client-id $4 type $7 integer $5 token $2 ID $5 flags ~1 +optional
                %5 $4 name $26 normal_master_slave_pubsub $4 type $5 oneof $5 token $4 TYPE $5 flags ~1 +optional $9 arguments *5
                  %3 $4 name $6 normal $4 type $10 pure-token $5 token $6 NORMAL
                  %3 $4 name $6 master $4 type $10 pure-token $5 token $6 MASTER
                  %3 $4 name $5 slave $4 type $10 pure-token $5 token $5 SLAVE
                  %3 $4 name $7 replica $4 type $10 pure-token $5 token $7 REPLICA
                  %3 $4 name $6 pubsub $4 type $10 pure-token $5 token $6 PUBSUB
                %4 $4 name $8 username $4 type $6 string $5 token $4 USER $5 flags ~1 +optional
                %4 $4 name $7 ip:port $4 type $6 string $5 token $4 ADDR $5 flags ~1 +optional
                %4 $4 name $7 ip:port $4 type $6 string $5 token $5 LADDR $5 flags ~1 +optional
                %4 $4 name $6 yes/no $4 type $6 string $5 token $6 SKIPME $5 flags ~1 +optional
                %4 $4 name $6 maxage $4 type $7 integer $5 token $6 MAXAGE $5 flags ~1 +optional",
        );
    }

    #[test]
    fn zadd_matches_redis() {
        check(
            "zadd",
            "*6
            %3 $4 name $3 key $4 type $3 key $14 key_spec_index :0
            %4 $4 name $9 condition $4 type $5 oneof $5 flags ~1 +optional $9 arguments *2
              %3 $4 name $2 nx $4 type $10 pure-token $5 token $2 NX
              %3 $4 name $2 xx $4 type $10 pure-token $5 token $2 XX
            %4 $4 name $10 comparison $4 type $5 oneof $5 flags ~1 +optional $9 arguments *2
              %3 $4 name $2 gt $4 type $10 pure-token $5 token $2 GT
              %3 $4 name $2 lt $4 type $10 pure-token $5 token $2 LT
            %4 $4 name $6 change $4 type $10 pure-token $5 token $2 CH $5 flags ~1 +optional
            %4 $4 name $9 increment $4 type $10 pure-token $5 token $4 INCR $5 flags ~1 +optional
            %4 $4 name $12 score_member $4 type $5 block $5 flags ~1 +multiple $9 arguments *2
              %2 $4 name $5 score $4 type $6 double
              %2 $4 name $6 member $4 type $6 string",
        );
    }

    #[test]
    fn scan_matches_redis() {
        check(
            "scan",
            "*4
            %2 $4 name $6 cursor $4 type $7 integer
            %4 $4 name $7 pattern $4 type $7 pattern $5 token $5 MATCH $5 flags ~1 +optional
            %4 $4 name $5 count $4 type $7 integer $5 token $5 COUNT $5 flags ~1 +optional
            %4 $4 name $4 type $4 type $6 string $5 token $4 TYPE $5 flags ~1 +optional",
        );
    }

    /// Fewest words the arguments can take.
    fn min_args(args: &[Arg]) -> usize {
        args.iter()
            .filter(|a| !a.optional)
            .map(|a| {
                let own = match a.ty {
                    "oneof" => a
                        .args
                        .iter()
                        .map(|x| min_args(std::slice::from_ref(x)))
                        .min()
                        .unwrap_or(0),
                    "block" => min_args(&a.args),
                    "pure-token" => 0,
                    _ => 1,
                };
                own + usize::from(a.token.is_some())
            })
            .sum()
    }

    /// Whether an argument can take more or fewer words than its minimum.
    fn variable(a: &Arg) -> bool {
        a.optional || a.multiple || a.args.iter().any(variable)
    }

    fn arg(name: &str, ty: &'static str) -> Arg {
        Arg::new(name, ty)
    }

    #[test]
    fn parses_repeats_tokens_and_blocks() {
        // A repeated token: multiple_token.
        let a = parse("[GET pattern [GET pattern ...]]").unwrap();
        let mut want = arg("pattern", "pattern");
        want.token = Some("GET");
        (want.optional, want.multiple, want.multiple_token) = (true, true, true);
        assert_eq!(a, vec![want]);

        // A token before a repeated placeholder takes it whole.
        let a = parse("[WEIGHTS weight [weight ...]]").unwrap();
        assert_eq!(
            (a[0].name.as_str(), a[0].ty, a[0].token),
            ("weight", "integer", Some("WEIGHTS"))
        );
        assert!(a[0].optional && a[0].multiple && !a[0].multiple_token);

        // `< >` around one item makes a block, named after its token.
        let a = parse("[ID <client-id [client-id ...]>]").unwrap();
        assert_eq!(
            (a[0].name.as_str(), a[0].ty, a[0].token),
            ("id", "block", Some("ID"))
        );
        assert!(a[0].args[0].multiple);

        // Type suffixes and key spec indexes.
        let a = parse("dst src:key0 min:double newkey").unwrap();
        let got: Vec<_> = a
            .iter()
            .map(|a| (a.name.as_str(), a.ty, a.key_spec_index))
            .collect();
        assert_eq!(
            got,
            [
                ("dst", "key", Some(0)),
                ("src", "key", Some(0)),
                ("min", "double", None),
                ("newkey", "key", Some(1))
            ]
        );
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in [
            "[NX | XX",
            "key]",
            "a [b ...]",
            "key ...",
            "x [x ...] ...",
            "key:key9x",
            "label=",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn covers_the_command_table() {
        let t = crate::command::table();
        let names: Vec<&str> = t.entries.iter().map(|e| e.full_name.as_str()).collect();
        for n in &names {
            assert!(docs_for(n).is_some(), "no docs for {n}");
        }
        for (n, _, _) in DOCS {
            assert!(names.contains(n), "docs for unknown command {n}");
        }
        // The syntax agrees with the arity: as many required arguments as
        // the arity asks for, and optional or repeated ones only when it
        // is negative. As in Redis: DEBUG's subcommands are not documented,
        // QUIT takes (and ignores) any arguments, each CLIENT KILL
        // filter is optional though one is needed, and CLUSTER SETSLOT's
        // alternatives take one word or two.
        let mut bad = Vec::new();
        for e in &t.entries {
            let base = if e.parent.is_some() { 2 } else { 1 };
            let args = parse(DOCS.iter().find(|d| d.0 == e.full_name).expect("checked").2)
                .expect("parses");
            let (min, variable) = (min_args(&args), args.iter().any(variable));
            let want = e.spec.arity.unsigned_abs() as usize - base;
            let ok = if ["quit", "client|kill", "cluster|setslot"].contains(&e.full_name.as_str()) {
                true
            } else if !e.spec.subcommands.is_empty() || e.full_name == "debug" {
                args.is_empty()
            } else if e.spec.arity > 0 {
                min == want && !variable
            } else {
                min == want && variable
            };
            if !ok {
                bad.push(format!(
                    "{}: arity {}, syntax needs {min} (variable: {variable})",
                    e.full_name, e.spec.arity
                ));
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
    }
}
