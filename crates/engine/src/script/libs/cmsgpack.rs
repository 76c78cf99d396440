//! `cmsgpack`: MessagePack as the lua-cmsgpack build in Redis writes and
//! reads it (integers in the smallest form, floats as float32 when exact,
//! tables without holes as arrays, nesting capped at 16).

use mlua::{Lua, MultiValue, Table, Value};

use super::lib_error;

/// Deeper tables are packed as nil, as lua-cmsgpack does.
const MAX_NESTING: usize = 16;

/// Builds the `cmsgpack` table.
pub(crate) fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return Err(lib_error(lua, "MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for v in args.iter() {
                pack(v, 0, &mut out)?;
            }
            lua.create_string(out)
        })?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, s: mlua::LuaString| {
            let bytes = s.as_bytes();
            let mut r = Reader { s: &bytes, pos: 0 };
            let mut out = Vec::new();
            while r.pos < bytes.len() {
                out.push(r.value(lua).map_err(|e| lib_error(lua, e))?);
            }
            Ok(MultiValue::from_iter(out))
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, (s, offset): (mlua::LuaString, Option<i64>)| {
            unpack_limited(lua, &s.as_bytes(), 1, offset.unwrap_or(0))
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(
            |lua, (s, limit, offset): (mlua::LuaString, i64, Option<i64>)| {
                unpack_limited(lua, &s.as_bytes(), limit, offset.unwrap_or(0))
            },
        )?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    Ok(t)
}

/// unpack_one / unpack_limit: the offset of what follows (-1 at the end),
/// then up to `limit` values (0: all).
fn unpack_limited(lua: &Lua, s: &[u8], limit: i64, offset: i64) -> mlua::Result<MultiValue> {
    if offset < 0 || offset as usize > s.len() {
        return Err(lib_error(
            lua,
            &format!(
                "Start offset {offset} greater than input length {}.",
                s.len()
            ),
        ));
    }
    let mut r = Reader {
        s,
        pos: offset as usize,
    };
    let mut out = Vec::new();
    while r.pos < s.len() && (limit <= 0 || (out.len() as i64) < limit) {
        out.push(r.value(lua).map_err(|e| lib_error(lua, e))?);
    }
    let next = if r.pos >= s.len() { -1 } else { r.pos as i64 };
    let mut all = vec![Value::Integer(next)];
    all.extend(out);
    Ok(MultiValue::from_iter(all))
}

fn pack_int(i: i64, out: &mut Vec<u8>) {
    if i >= 0 {
        let u = i as u64;
        if u <= 127 {
            out.push(u as u8);
        } else if u <= 0xff {
            out.extend_from_slice(&[0xcc, u as u8]);
        } else if u <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(u as u16).to_be_bytes());
        } else if u <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(u as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
    } else if i >= -32 {
        out.push(i as i8 as u8);
    } else if i >= -128 {
        out.extend_from_slice(&[0xd0, i as i8 as u8]);
    } else if i >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn pack_number(n: f64, out: &mut Vec<u8>) {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if n.fract() == 0.0 && (-TWO_63..2.0 * TWO_63).contains(&n) {
        if n >= TWO_63 {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        } else {
            pack_int(n as i64, out);
        }
    } else if f64::from(n as f32) == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn pack_len(
    len: usize,
    small: u8,
    small_max: usize,
    codes: [u8; 3],
    with8: bool,
    out: &mut Vec<u8>,
) {
    if len <= small_max {
        out.push(small | len as u8);
    } else if with8 && len <= 0xff {
        out.extend_from_slice(&[codes[0], len as u8]);
    } else if len <= 0xffff {
        out.push(codes[1]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(codes[2]);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// Whether `t` is an array: keys 1..n with no holes.
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
    let mut count = 0usize;
    let mut max = 0usize;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        match k {
            Value::Integer(i) if i >= 1 => max = max.max(i as usize),
            Value::Number(f) if f >= 1.0 && f.fract() == 0.0 => max = max.max(f as usize),
            _ => return Ok(None),
        }
        count += 1;
    }
    Ok((max == count).then_some(count))
}

fn pack(v: &Value, depth: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    match v {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => pack_int(*i, out),
        Value::Number(n) => pack_number(*n, out),
        Value::String(s) => {
            let b = s.as_bytes();
            pack_len(b.len(), 0xa0, 31, [0xd9, 0xda, 0xdb], true, out);
            out.extend_from_slice(&b);
        }
        Value::Table(t) if depth < MAX_NESTING => match array_len(t)? {
            Some(n) => {
                pack_len(n, 0x90, 15, [0, 0xdc, 0xdd], false, out);
                for i in 1..=n {
                    let item: Value = t.raw_get(i)?;
                    pack(&item, depth + 1, out)?;
                }
            }
            None => {
                // Two passes (count, then pack) rather than holding every
                // pair: a Lua value held from Rust takes a slot of mlua's
                // reference stack, which a big table would exhaust.
                let mut n = 0usize;
                for pair in t.pairs::<Value, Value>() {
                    pair?;
                    n += 1;
                }
                pack_len(n, 0x80, 15, [0, 0xde, 0xdf], false, out);
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    pack(&k, depth + 1, out)?;
                    pack(&v, depth + 1, out)?;
                }
            }
        },
        _ => out.push(0xc0),
    }
    Ok(())
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
}

const MISSING: &str = "Missing bytes in input.";
const BAD: &str = "Bad data format in input.";

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], &'static str> {
        let end = self.pos.checked_add(n).ok_or(MISSING)?;
        let b = self.s.get(self.pos..end).ok_or(MISSING)?;
        self.pos = end;
        Ok(b)
    }

    fn uint(&mut self, n: usize) -> Result<u64, &'static str> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn string(&mut self, lua: &Lua, n: usize) -> Result<Value, &'static str> {
        let b = self.take(n)?;
        lua.create_string(b).map(Value::String).map_err(|_| BAD)
    }

    fn array(&mut self, lua: &Lua, n: usize) -> Result<Value, &'static str> {
        let t = lua.create_table().map_err(|_| BAD)?;
        for i in 1..=n {
            let v = self.value(lua)?;
            t.raw_set(i, v).map_err(|_| BAD)?;
        }
        Ok(Value::Table(t))
    }

    fn map(&mut self, lua: &Lua, n: usize) -> Result<Value, &'static str> {
        let t = lua.create_table().map_err(|_| BAD)?;
        for _ in 0..n {
            let k = self.value(lua)?;
            let v = self.value(lua)?;
            if !matches!(k, Value::Nil) {
                t.raw_set(k, v).map_err(|_| BAD)?;
            }
        }
        Ok(Value::Table(t))
    }

    fn value(&mut self, lua: &Lua) -> Result<Value, &'static str> {
        let c = self.take(1)?[0];
        Ok(match c {
            0x00..=0x7f => Value::Number(f64::from(c)),
            0x80..=0x8f => return self.map(lua, usize::from(c & 0x0f)),
            0x90..=0x9f => return self.array(lua, usize::from(c & 0x0f)),
            0xa0..=0xbf => return self.string(lua, usize::from(c & 0x1f)),
            0xc0 => Value::Nil,
            0xc2 => Value::Boolean(false),
            0xc3 => Value::Boolean(true),
            0xc4 | 0xd9 => {
                let n = self.uint(1)? as usize;
                return self.string(lua, n);
            }
            0xc5 | 0xda => {
                let n = self.uint(2)? as usize;
                return self.string(lua, n);
            }
            0xc6 | 0xdb => {
                let n = self.uint(4)? as usize;
                return self.string(lua, n);
            }
            0xca => Value::Number(f64::from(f32::from_bits(self.uint(4)? as u32))),
            0xcb => Value::Number(f64::from_bits(self.uint(8)?)),
            0xcc => Value::Number(self.uint(1)? as f64),
            0xcd => Value::Number(self.uint(2)? as f64),
            0xce => Value::Number(self.uint(4)? as f64),
            0xcf => Value::Number(self.uint(8)? as f64),
            0xd0 => Value::Number(f64::from(self.uint(1)? as u8 as i8)),
            0xd1 => Value::Number(f64::from(self.uint(2)? as u16 as i16)),
            0xd2 => Value::Number(f64::from(self.uint(4)? as u32 as i32)),
            0xd3 => Value::Number(self.uint(8)? as i64 as f64),
            0xdc => {
                let n = self.uint(2)? as usize;
                return self.array(lua, n);
            }
            0xdd => {
                let n = self.uint(4)? as usize;
                return self.array(lua, n);
            }
            0xde => {
                let n = self.uint(2)? as usize;
                return self.map(lua, n);
            }
            0xdf => {
                let n = self.uint(4)? as usize;
                return self.map(lua, n);
            }
            0xe0..=0xff => Value::Number(f64::from(c as i8)),
            _ => return Err(BAD),
        })
    }
}
