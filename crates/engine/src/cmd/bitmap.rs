//! Bitmap commands on string values: SETBIT and GETBIT. (BITCOUNT, BITPOS,
//! BITOP and BITFIELD come with issue 9.)

use ferrokey_resp::Frame;

use super::{as_str, as_str_mut, dirty, lookup_read, lookup_write};
use super::{notify, NOTIFY_STRING};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::shard_of;
use crate::value::{Str, Value};

const BM: &[&str] = &["@bitmap"];

/// The bitmap family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, WRITE | DENYOOM, setbit)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE"], 1, 0, 1)])
        .acl(BM)
        .doc("bitmap", "2.2.0", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist."),
    CommandSpec::new("getbit", 3, READONLY | FAST, getbit)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(BM)
        .doc("bitmap", "2.2.0", "Returns a bit value by offset."),
];

/// Largest bit offset: a string may hold at most 512 MB.
const BIT_OFFSET_MAX: i64 = 512 * 1024 * 1024 * 8 - 1;

/// Parses a bit offset as Redis's `getBitOffsetFromArgument` does.
fn parse_offset(arg: &[u8]) -> Result<usize, CmdError> {
    match ferrokey_resp::parse_i64(arg) {
        Some(v) if (0..=BIT_OFFSET_MAX).contains(&v) => Ok(v as usize),
        _ => Err(CmdError::msg(
            "ERR bit offset is not an integer or out of range",
        )),
    }
}

fn setbit(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let offset = parse_offset(args[2])?;
    let on = match args[3] {
        b"1" => true,
        b"0" => false,
        _ => return Err(CmdError::msg("ERR bit is not an integer or out of range")),
    };
    let (byte, mask) = (offset >> 3, 0x80u8 >> (offset & 7));
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    // Whether anything changed: a created key, a grown string or a
    // flipped bit. Redis announces (and counts) only a change.
    let (old, changed) = match lookup_write(ctx, &mut shard, h, key) {
        Some(e) => {
            let raw = as_str_mut(e)?.make_raw();
            let grown = raw.len() <= byte;
            if grown {
                raw.resize(byte + 1, 0);
            }
            let old = raw[byte] & mask != 0;
            if on {
                raw[byte] |= mask;
            } else {
                raw[byte] &= !mask;
            }
            (old, grown || old != on)
        }
        None => {
            let mut raw = vec![0u8; byte + 1];
            if on {
                raw[byte] |= mask;
            }
            let mut s = Str::Raw(Vec::new());
            *s.make_raw() = raw;
            super::insert_key(
                ctx,
                &mut shard,
                ctx.client.db,
                h,
                key,
                Value::Str(s),
                0,
                ctx.lru_s(),
            );
            (false, true)
        }
    };
    if changed {
        notify(ctx, NOTIFY_STRING, "setbit", key);
        dirty(ctx, 1);
    }
    Ok(Frame::Integer(i64::from(old)))
}

fn getbit(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let offset = parse_offset(args[2])?;
    let (byte, mask) = (offset >> 3, 0x80u8 >> (offset & 7));
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_read(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let v = as_str(e)?.to_vec();
    Ok(Frame::Integer(i64::from(
        v.get(byte).is_some_and(|b| b & mask != 0),
    )))
}
