//! The C libraries Redis links into its Lua, written again in Rust:
//! `cjson`, `cmsgpack`, `bit` (LuaBitOp) and `struct`.

mod bit;
mod cjson;
mod cmsgpack;
mod structlib;

use mlua::{Lua, Table};

/// Adds the libraries to the real globals table.
pub(crate) fn install(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    globals.raw_set("cjson", cjson::open(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::open(lua)?)?;
    globals.raw_set("bit", bit::open(lua)?)?;
    globals.raw_set("struct", structlib::open(lua)?)?;
    Ok(())
}

/// An error raised from a library function, placed at the calling line
/// (`user_script:3: ...`) as `luaL_error` places it.
pub(crate) fn lib_error(lua: &Lua, msg: &str) -> mlua::Error {
    let place = lua
        .inspect_stack(1, |d| {
            let src = d.source();
            match (src.short_src, d.current_line()) {
                (Some(s), Some(l)) if src.what != "C" => format!("{s}:{l}: "),
                _ => String::new(),
            }
        })
        .unwrap_or_default();
    mlua::Error::runtime(format!("{place}{msg}"))
}

/// C's `%.<precision>g`.
pub(crate) fn fmt_g(n: f64, precision: usize) -> String {
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let p = precision.max(1);
    let sci = format!("{:.*e}", p - 1, n);
    let (mant, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    if exp < -4 || exp >= p as i32 {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{n:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A number argument as the C libraries read it (`luaL_checknumber`),
/// numeric strings included.
pub(crate) fn check_number(
    lua: &Lua,
    v: Option<&mlua::Value>,
    pos: usize,
    func: &str,
) -> mlua::Result<f64> {
    use mlua::Value;
    match v {
        Some(Value::Integer(i)) => Ok(*i as f64),
        Some(Value::Number(n)) => Ok(*n),
        Some(Value::String(s)) => {
            if let Some(n) = s.to_str().ok().and_then(|t| t.trim().parse::<f64>().ok()) {
                return Ok(n);
            }
            Err(lib_error(
                lua,
                &format!("bad argument #{pos} to '{func}' (number expected, got string)"),
            ))
        }
        other => Err(lib_error(
            lua,
            &format!(
                "bad argument #{pos} to '{func}' (number expected, got {})",
                other.map_or("no value", |v| v.type_name())
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::fmt_g;

    #[test]
    fn percent_g() {
        assert_eq!(fmt_g(1.0, 14), "1");
        assert_eq!(fmt_g(1.5, 14), "1.5");
        assert_eq!(fmt_g(1e20, 14), "1e+20");
        assert_eq!(fmt_g(0.1, 14), "0.1");
        assert_eq!(fmt_g(std::f64::consts::PI, 14), "3.1415926535898");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(123456789012345.0, 14), "1.2345678901234e+14");
        assert_eq!(fmt_g(-0.0, 14), "-0");
    }
}
