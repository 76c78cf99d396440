//! `bit`: LuaBitOp's operations on 32-bit integers.

use mlua::{Lua, MultiValue, Table};

use super::check_number;

/// A Lua number as LuaBitOp normalises it: rounded, then its low 32 bits.
fn tobit(n: f64) -> i32 {
    let r = n.round_ties_even();
    if r.is_finite() && r.abs() < 9.0e15 {
        r as i64 as i32
    } else {
        // Far from the range: only the low bits of the integer matter.
        (r % 4_294_967_296.0) as i64 as i32
    }
}

fn arg(lua: &Lua, args: &MultiValue, i: usize, func: &str) -> mlua::Result<i32> {
    check_number(lua, args.get(i), i + 1, func).map(tobit)
}

/// Builds the `bit` table.
pub(crate) fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "tobit",
        lua.create_function(|lua, a: MultiValue| arg(lua, &a, 0, "tobit"))?,
    )?;
    t.raw_set(
        "bnot",
        lua.create_function(|lua, a: MultiValue| Ok(!arg(lua, &a, 0, "bnot")?))?,
    )?;
    t.raw_set(
        "bswap",
        lua.create_function(|lua, a: MultiValue| Ok(arg(lua, &a, 0, "bswap")?.swap_bytes()))?,
    )?;
    for (name, op) in [
        ("band", (|a, b| a & b) as fn(i32, i32) -> i32),
        ("bor", |a, b| a | b),
        ("bxor", |a, b| a ^ b),
    ] {
        t.raw_set(
            name,
            lua.create_function(move |lua, a: MultiValue| {
                let mut acc = arg(lua, &a, 0, name)?;
                for i in 1..a.len() {
                    acc = op(acc, arg(lua, &a, i, name)?);
                }
                Ok(acc)
            })?,
        )?;
    }
    for (name, op) in [
        (
            "lshift",
            (|a: i32, n: u32| ((a as u32) << n) as i32) as fn(i32, u32) -> i32,
        ),
        ("rshift", |a, n| ((a as u32) >> n) as i32),
        ("arshift", |a, n| a >> n),
        ("rol", |a, n| (a as u32).rotate_left(n) as i32),
        ("ror", |a, n| (a as u32).rotate_right(n) as i32),
    ] {
        t.raw_set(
            name,
            lua.create_function(move |lua, a: MultiValue| {
                let x = arg(lua, &a, 0, name)?;
                let n = arg(lua, &a, 1, name)? as u32 & 31;
                Ok(op(x, n))
            })?,
        )?;
    }
    t.raw_set(
        "tohex",
        lua.create_function(|lua, a: MultiValue| {
            let x = arg(lua, &a, 0, "tohex")? as u32;
            let n = if a.len() > 1 {
                arg(lua, &a, 1, "tohex")?
            } else {
                8
            };
            let upper = n < 0;
            let digits = n.unsigned_abs().min(8) as usize;
            let masked = if digits == 8 {
                x
            } else {
                x & ((1u32 << (4 * digits)) - 1)
            };
            let s = if upper {
                format!("{masked:0digits$X}")
            } else {
                format!("{masked:0digits$x}")
            };
            Ok(s)
        })?,
    )?;
    Ok(t)
}
