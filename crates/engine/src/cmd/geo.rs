//! Geospatial commands on sorted sets: GEOADD, GEOPOS, GEODIST, GEOHASH.
//! A position is stored as its 52-bit interleaved geohash (26 steps of
//! longitude and latitude, latitude limited to ±85.05112878 as in Web
//! Mercator), computed exactly as Redis computes it, so scores match.

use ferrokey_resp::Frame;

use super::zset::read_zset;
use super::{is, parse_float};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};

const GEO: &[&str] = &["@geo"];

/// The geo family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("geoadd", -5, WRITE | DENYOOM, geoadd)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "UPDATE"], 1, 0, 1)])
        .acl(GEO)
        .doc("geo", "3.2.0", "Adds one or more members to a geospatial index. The key is created if it doesn't exist."),
    CommandSpec::new("geopos", -2, READONLY, geopos)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(GEO)
        .doc("geo", "3.2.0", "Returns the longitude and latitude of members from a geospatial index."),
    CommandSpec::new("geodist", -4, READONLY, geodist)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(GEO)
        .doc("geo", "3.2.0", "Returns the distance between two members of a geospatial index."),
    CommandSpec::new("geohash", -2, READONLY, geohash)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(GEO)
        .doc("geo", "3.2.0", "Returns members from a geospatial index as geohash strings."),
];

const LONG_MIN: f64 = -180.0;
const LONG_MAX: f64 = 180.0;
const LAT_MIN: f64 = -85.051_128_78;
const LAT_MAX: f64 = 85.051_128_78;
const STEP: u32 = 26;
const EARTH_RADIUS_M: f64 = 6_372_797.560_856;

fn interleave(x: u32, y: u32) -> u64 {
    let spread = |v: u32| {
        let mut v = u64::from(v);
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    };
    spread(x) | (spread(y) << 1)
}

fn deinterleave(v: u64) -> (u32, u32) {
    let squash = |mut v: u64| {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        ((v | (v >> 16)) & 0xFFFF_FFFF) as u32
    };
    (squash(v), squash(v >> 1))
}

/// Geohash bits of a position within the given latitude range (Redis
/// truncates the scaled offsets to integers; latitude takes the even bits).
fn encode(long: f64, lat: f64, lat_min: f64, lat_max: f64, step: u32) -> u64 {
    let scale = (1u64 << step) as f64;
    let lat_off = (lat - lat_min) / (lat_max - lat_min) * scale;
    let long_off = (long - LONG_MIN) / (LONG_MAX - LONG_MIN) * scale;
    interleave(lat_off as u32, long_off as u32)
}

/// The score of a position: 52 bits of geohash.
pub fn score_of(long: f64, lat: f64) -> f64 {
    encode(long, lat, LAT_MIN, LAT_MAX, STEP) as f64
}

/// The position a score stands for: the middle of its cell.
pub fn decode(score: f64) -> (f64, f64) {
    let bits = score as u64;
    let (ilat, ilong) = deinterleave(bits);
    let scale = (1u64 << STEP) as f64;
    let lat_min = LAT_MIN + (f64::from(ilat) / scale) * (LAT_MAX - LAT_MIN);
    let lat_max = LAT_MIN + ((f64::from(ilat) + 1.0) / scale) * (LAT_MAX - LAT_MIN);
    let long_min = LONG_MIN + (f64::from(ilong) / scale) * (LONG_MAX - LONG_MIN);
    let long_max = LONG_MIN + ((f64::from(ilong) + 1.0) / scale) * (LONG_MAX - LONG_MIN);
    let long = ((long_min + long_max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((lat_min + lat_max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (long, lat)
}

/// Great-circle distance in meters (haversine), as Redis computes it.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let d_r = std::f64::consts::PI / 180.0;
    let (lon1r, lon2r) = (lon1 * d_r, lon2 * d_r);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return EARTH_RADIUS_M * (lat2 * d_r - lat1 * d_r).abs();
    }
    let (lat1r, lat2r) = (lat1 * d_r, lat2 * d_r);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// Meters per unit, or Redis's error.
pub fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    if is(arg, "m") {
        Ok(1.0)
    } else if is(arg, "km") {
        Ok(1000.0)
    } else if is(arg, "ft") {
        Ok(0.3048)
    } else if is(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(CmdError::msg(
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ))
    }
}

/// A longitude/latitude pair, or Redis's errors.
fn long_lat(a: &[u8], b: &[u8]) -> Result<(f64, f64), CmdError> {
    let long = parse_float(a).ok_or(CmdError::NotFloat)?;
    let lat = parse_float(b).ok_or(CmdError::NotFloat)?;
    if !(LONG_MIN..=LONG_MAX).contains(&long) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return Err(CmdError::owned(format!(
            "ERR invalid longitude,latitude pair {long:.6},{lat:.6}"
        )));
    }
    Ok((long, lat))
}

fn geoadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "ch") {
            ch = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if !rest.len().is_multiple_of(3) || (nx && xx) {
        return Err(CmdError::Syntax);
    }
    let mut pairs = Vec::with_capacity(rest.len() / 3);
    for c in rest.chunks(3) {
        let (long, lat) = long_lat(c[0], c[1])?;
        pairs.push((score_of(long, lat), c[2]));
    }
    super::zset::add_scores(ctx, args[1], nx, xx, ch, &pairs)
}

/// `%.17Lf` with trailing zeros (and a bare dot) removed, as Redis shows
/// coordinates.
fn human(d: f64) -> String {
    let s = format!("{d:.17}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn geopos(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let members = &args[2..];
    let missing = Frame::Array(vec![Frame::NullArray; members.len()]);
    read_zset(ctx, args[1], missing, |z| {
        Ok(Frame::Array(
            members
                .iter()
                .map(|m| match z.score(m) {
                    None => Frame::NullArray,
                    Some(s) => {
                        let (long, lat) = decode(s);
                        let c = |d: f64| Frame::DoubleText(human(d));
                        Frame::Array(vec![c(long), c(lat)])
                    }
                })
                .collect(),
        ))
    })
}

/// `%.4f` as Redis's fixed-point formatter writes it (llrint rounding).
pub fn fixed4(d: f64) -> String {
    let v = (d * 10000.0).round_ties_even() as i64;
    let neg = v < 0;
    let a = v.unsigned_abs();
    format!(
        "{}{}.{:04}",
        if neg { "-" } else { "" },
        a / 10000,
        a % 10000
    )
}

fn geodist(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let to_m = match args.len() {
        4 => 1.0,
        5 => unit(args[4])?,
        _ => return Err(CmdError::Syntax),
    };
    read_zset(ctx, args[1], Frame::Null, |z| {
        match (z.score(args[2]), z.score(args[3])) {
            (Some(a), Some(b)) => {
                let (lo1, la1) = decode(a);
                let (lo2, la2) = decode(b);
                Ok(Frame::Bulk(
                    fixed4(distance(lo1, la1, lo2, la2) / to_m).into_bytes(),
                ))
            }
            _ => Ok(Frame::Null),
        }
    })
}

fn geohash(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    const ALPHABET: &[u8] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let members = &args[2..];
    let missing = Frame::Array(vec![Frame::Null; members.len()]);
    read_zset(ctx, args[1], missing, |z| {
        Ok(Frame::Array(
            members
                .iter()
                .map(|m| match z.score(m) {
                    None => Frame::Null,
                    Some(s) => {
                        // Re-encoded with the standard latitude range.
                        let (long, lat) = decode(s);
                        let bits = encode(long, lat, -90.0, 90.0, STEP);
                        let text: Vec<u8> = (0..11)
                            .map(|i| {
                                let idx = if i == 10 {
                                    0
                                } else {
                                    ((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize
                                };
                                ALPHABET[idx]
                            })
                            .collect();
                        Frame::Bulk(text)
                    }
                })
                .collect(),
        ))
    })
}
