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
    CommandSpec::new("georadius", -6, WRITE | DENYOOM | MOVABLEKEYS, georadius)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(GEO)
        .doc("geo", "3.2.0", "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result."),
    CommandSpec::new("georadiusbymember", -5, WRITE | DENYOOM | MOVABLEKEYS, georadiusbymember)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(GEO)
        .doc("geo", "3.2.0", "Queries a geospatial index for members within a distance from a member, optionally stores the result."),
    CommandSpec::new("georadius_ro", -6, READONLY, georadius_ro)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(GEO)
        .doc("geo", "3.2.10", "Returns members from a geospatial index that are within a distance from a coordinate."),
    CommandSpec::new("georadiusbymember_ro", -5, READONLY, georadiusbymember_ro)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(GEO)
        .doc("geo", "3.2.10", "Returns members from a geospatial index that are within a distance from a member."),
    CommandSpec::new("geosearch", -7, READONLY, geosearch)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(GEO)
        .doc("geo", "6.2.0", "Queries a geospatial index for members inside an area of a box or a circle."),
    CommandSpec::new("geosearchstore", -8, WRITE | DENYOOM, geosearchstore)
        .keys(1, 2, 1)
        .specs(&[
            KeySpec::new(&["OW", "UPDATE"], 1, 0, 1),
            KeySpec::new(&["RO", "ACCESS"], 2, 0, 1),
        ])
        .acl(GEO)
        .doc("geo", "6.2.0", "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result."),
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
    let (long_min, long_max, lat_min, lat_max) = Cell {
        bits: score as u64,
        step: STEP,
    }
    .area();
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

/// A coordinate as Redis shows it (`addReplyHumanLongDouble`).
fn human(d: f64) -> String {
    crate::longdouble::LongDouble::from_f64(d).to_human()
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

// ---- GEOSEARCH, GEOSEARCHSTORE, GEORADIUS* ---------------------------------

/// Search variants, as Redis's `georadiusGeneric` flags.
const RADIUS_COORDS: u32 = 1;
const RADIUS_MEMBER: u32 = 2;
const RADIUS_NOSTORE: u32 = 4;
const SEARCH: u32 = 8;
const SEARCH_STORE: u32 = 16;

/// The area searched: a circle (radius) or an axis-aligned box, in the
/// request's unit (`conversion` meters per unit).
#[derive(Clone, Copy, Default)]
struct Shape {
    long: f64,
    lat: f64,
    radius: Option<f64>,
    width: f64,
    height: f64,
    conversion: f64,
}

/// A geohash cell: bits and precision.
#[derive(Clone, Copy, PartialEq, Default)]
struct Cell {
    bits: u64,
    step: u32,
}

impl Cell {
    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    fn moved(mut self, dx: i8, dy: i8) -> Cell {
        let s = 64 - self.step * 2;
        if dx != 0 {
            let x = self.bits & 0xaaaa_aaaa_aaaa_aaaa;
            let y = self.bits & 0x5555_5555_5555_5555;
            let zz = 0x5555_5555_5555_5555u64 >> s;
            let x = if dx > 0 {
                x.wrapping_add(zz + 1)
            } else {
                (x | zz).wrapping_sub(zz + 1)
            } & (0xaaaa_aaaa_aaaa_aaaau64 >> s);
            self.bits = x | y;
        }
        if dy != 0 {
            let x = self.bits & 0xaaaa_aaaa_aaaa_aaaa;
            let y = self.bits & 0x5555_5555_5555_5555;
            let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> s;
            let y = if dy > 0 {
                y.wrapping_add(zz + 1)
            } else {
                (y | zz).wrapping_sub(zz + 1)
            } & (0x5555_5555_5555_5555u64 >> s);
            self.bits = x | y;
        }
        self
    }

    /// (long min, long max, lat min, lat max) of the cell.
    fn area(&self) -> (f64, f64, f64, f64) {
        let (ilat, ilong) = deinterleave(self.bits);
        let scale = (1u64 << self.step) as f64;
        let lat_min = LAT_MIN + (f64::from(ilat) / scale) * (LAT_MAX - LAT_MIN);
        let lat_max = LAT_MIN + ((f64::from(ilat) + 1.0) / scale) * (LAT_MAX - LAT_MIN);
        let long_min = LONG_MIN + (f64::from(ilong) / scale) * (LONG_MAX - LONG_MIN);
        let long_max = LONG_MIN + ((f64::from(ilong) + 1.0) / scale) * (LONG_MAX - LONG_MIN);
        (long_min, long_max, lat_min, lat_max)
    }

    /// The score range [min, max) of the members inside the cell.
    fn scores(&self) -> (f64, f64) {
        let shift = 52 - self.step * 2;
        (
            (self.bits << shift) as f64,
            ((self.bits + 1) << shift) as f64,
        )
    }
}

fn steps_for(range_m: f64, lat: f64) -> u32 {
    const MERCATOR_MAX: f64 = 20_037_726.37;
    if range_m == 0.0 {
        return 26;
    }
    let mut r = range_m;
    let mut step: i32 = 1;
    while r < MERCATOR_MAX {
        r *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u32
}

/// The nine cells to scan (center first, then N, S, E, W, NE, NW, SE, SW;
/// useless ones zeroed), as Redis's `geohashCalculateAreasByShapeWGS84`.
fn cells_for(shape: &Shape) -> [Cell; 9] {
    let d_r = std::f64::consts::PI / 180.0;
    let (long, lat) = (shape.long, shape.lat);
    let (height, width) = match shape.radius {
        Some(r) => (r * shape.conversion, r * shape.conversion),
        None => (
            shape.conversion * shape.height / 2.0,
            shape.conversion * shape.width / 2.0,
        ),
    };
    let lat_delta = (height / EARTH_RADIUS_M) / d_r;
    let long_delta_top = (width / EARTH_RADIUS_M / ((lat + lat_delta) * d_r).cos()) / d_r;
    let long_delta_bottom = (width / EARTH_RADIUS_M / ((lat - lat_delta) * d_r).cos()) / d_r;
    let south = lat < 0.0;
    let min_lon = if south {
        long - long_delta_bottom
    } else {
        long - long_delta_top
    };
    let max_lon = if south {
        long + long_delta_bottom
    } else {
        long + long_delta_top
    };
    let (min_lat, max_lat) = (lat - lat_delta, lat + lat_delta);
    let radius_m = match shape.radius {
        Some(r) => r,
        None => ((shape.width / 2.0).powi(2) + (shape.height / 2.0).powi(2)).sqrt(),
    } * shape.conversion;
    let mut steps = steps_for(radius_m, lat);
    let center = |steps: u32| Cell {
        bits: encode(long, lat, LAT_MIN, LAT_MAX, steps),
        step: steps,
    };
    let mut hash = center(steps);
    let north = hash.moved(0, 1).area();
    let south_a = hash.moved(0, -1).area();
    let east = hash.moved(1, 0).area();
    let west = hash.moved(-1, 0).area();
    let decrease = north.3 < max_lat || south_a.2 > min_lat || east.1 < max_lon || west.0 > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        hash = center(steps);
    }
    let mut n = [
        hash,
        hash.moved(0, 1),
        hash.moved(0, -1),
        hash.moved(1, 0),
        hash.moved(-1, 0),
        hash.moved(1, 1),
        hash.moved(-1, 1),
        hash.moved(1, -1),
        hash.moved(-1, -1),
    ];
    if steps >= 2 {
        let a = hash.area();
        let zero = Cell::default();
        if a.2 < min_lat {
            n[2] = zero;
            n[8] = zero;
            n[7] = zero;
        }
        if a.3 > max_lat {
            n[1] = zero;
            n[5] = zero;
            n[6] = zero;
        }
        if a.0 < min_lon {
            n[4] = zero;
            n[8] = zero;
            n[6] = zero;
        }
        if a.1 > max_lon {
            n[3] = zero;
            n[7] = zero;
            n[5] = zero;
        }
    }
    n
}

/// A member found in the shape.
struct Found {
    member: Vec<u8>,
    score: f64,
    dist: f64,
    long: f64,
    lat: f64,
}

/// Whether a point is in the shape, and its distance from the center.
fn within(shape: &Shape, long: f64, lat: f64) -> Option<f64> {
    match shape.radius {
        Some(r) => {
            let d = distance(shape.long, shape.lat, long, lat);
            (d <= r * shape.conversion).then_some(d)
        }
        None => {
            let (w, h) = (
                shape.width * shape.conversion,
                shape.height * shape.conversion,
            );
            let d_r = std::f64::consts::PI / 180.0;
            let lat_d = EARTH_RADIUS_M * (shape.lat * d_r - lat * d_r).abs();
            if lat_d > h / 2.0 {
                return None;
            }
            if distance(long, lat, shape.long, lat) > w / 2.0 {
                return None;
            }
            Some(distance(shape.long, shape.lat, long, lat))
        }
    }
}

fn scan(z: &crate::types::zset::ZSet, shape: &Shape, limit: usize) -> Vec<Found> {
    let cells = cells_for(shape);
    let mut out = Vec::new();
    let mut last: Option<usize> = None;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        if let Some(l) = last {
            if cells[l] == *cell {
                continue;
            }
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
        let (min, max) = cell.scores();
        let r = z.partition_point(&|s, _| s < min);
        for (score, m) in z.iter_from(r) {
            if score >= max {
                break;
            }
            let (long, lat) = decode(score);
            if let Some(dist) = within(shape, long, lat) {
                out.push(Found {
                    member: m.to_vec(),
                    score,
                    dist,
                    long,
                    lat,
                });
            }
            if limit > 0 && out.len() >= limit {
                break;
            }
        }
        last = Some(i);
    }
    out
}

fn extract_distance(v: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let d = parse_float(v).ok_or(CmdError::msg("ERR need numeric radius"))?;
    if d < 0.0 {
        return Err(CmdError::msg("ERR radius cannot be negative"));
    }
    Ok((d, unit(u)?))
}

fn search_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], src_idx: usize, flags: u32) -> CmdResult {
    let src = args[src_idx];
    // Lock the source and every key the command may store into.
    let mut keys: Vec<&[u8]> = vec![src];
    if flags & SEARCH_STORE != 0 {
        keys.push(args[1]);
    }
    for w in args.windows(2) {
        if is(w[0], "store") || is(w[0], "storedist") {
            keys.push(w[1]);
        }
    }
    let hashes: Vec<u64> = keys.iter().map(|k| ctx.hash(k)).collect();
    let mut locked = crate::keyspace::Locked::new(ctx.db(), hashes.iter().copied());
    let h_src = hashes[0];
    // The set stays borrowed (no copy) until the matches are collected.
    let zset: Option<&crate::types::zset::ZSet> =
        match super::lookup_read(ctx, locked.shard(h_src), h_src, src) {
            Some(e) => Some(super::zset::as_zset(e)?),
            None => None,
        };
    let member_pos = |z: &crate::types::zset::ZSet, m: &[u8]| -> Result<(f64, f64), CmdError> {
        z.score(m)
            .map(decode)
            .ok_or(CmdError::msg("ERR could not decode requested zset member"))
    };
    let mut shape = Shape::default();
    let mut store: Option<&[u8]> = None;
    let mut storedist = false;
    let base;
    if flags & RADIUS_COORDS != 0 {
        base = 6;
        (shape.long, shape.lat) = long_lat(args[2], args[3])?;
        let (r, c) = extract_distance(args[4], args[5])?;
        (shape.radius, shape.conversion) = (Some(r), c);
    } else if flags & RADIUS_MEMBER != 0 {
        base = 5;
        if let Some(z) = zset {
            (shape.long, shape.lat) = member_pos(z, args[2])?;
            let (r, c) = extract_distance(args[3], args[4])?;
            (shape.radius, shape.conversion) = (Some(r), c);
        }
    } else {
        base = if flags & SEARCH_STORE != 0 { 3 } else { 2 };
        if flags & SEARCH_STORE != 0 {
            store = Some(args[1]);
        }
    }
    let (mut withdist, mut withhash, mut withcoord) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort: Option<bool> = None; // Some(true) ascending
    let mut any = false;
    let mut count: i64 = 0;
    let rest = &args[base.min(args.len())..];
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i];
        let left = rest.len() - i - 1;
        if is(a, "withdist") {
            withdist = true;
        } else if is(a, "withhash") {
            withhash = true;
        } else if is(a, "withcoord") {
            withcoord = true;
        } else if is(a, "any") {
            any = true;
        } else if is(a, "asc") {
            sort = Some(true);
        } else if is(a, "desc") {
            sort = Some(false);
        } else if is(a, "count") && left >= 1 {
            count = super::parse_int(rest[i + 1])?;
            if count <= 0 {
                return Err(CmdError::msg("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if (is(a, "store") || is(a, "storedist"))
            && left >= 1
            && flags & (RADIUS_NOSTORE | SEARCH) == 0
        {
            store = Some(rest[i + 1]);
            storedist = is(a, "storedist");
            i += 1;
        } else if is(a, "storedist") && flags & SEARCH_STORE != 0 {
            storedist = true;
        } else if is(a, "frommember") && left >= 1 && flags & SEARCH != 0 && !fromloc {
            if let Some(z) = zset {
                (shape.long, shape.lat) = member_pos(z, rest[i + 1])?;
            }
            frommember = true;
            i += 1;
        } else if is(a, "fromlonlat") && left >= 2 && flags & SEARCH != 0 && !frommember {
            (shape.long, shape.lat) = long_lat(rest[i + 1], rest[i + 2])?;
            fromloc = true;
            i += 2;
        } else if is(a, "byradius") && left >= 2 && flags & SEARCH != 0 && !bybox {
            let (r, c) = extract_distance(rest[i + 1], rest[i + 2])?;
            (shape.radius, shape.conversion) = (Some(r), c);
            byradius = true;
            i += 2;
        } else if is(a, "bybox") && left >= 3 && flags & SEARCH != 0 && !byradius {
            let w = parse_float(rest[i + 1]).ok_or(CmdError::msg("ERR need numeric width"))?;
            let h = parse_float(rest[i + 2]).ok_or(CmdError::msg("ERR need numeric height"))?;
            if w < 0.0 || h < 0.0 {
                return Err(CmdError::msg("ERR height or width cannot be negative"));
            }
            shape.conversion = unit(rest[i + 3])?;
            (shape.width, shape.height, shape.radius) = (w, h, None);
            bybox = true;
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let name = String::from_utf8_lossy(args[0]);
    if store.is_some() && (withdist || withhash || withcoord) {
        return Err(CmdError::owned(format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if flags & SEARCH_STORE != 0 {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    if flags & SEARCH != 0 && !(frommember || fromloc) {
        return Err(CmdError::owned(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if flags & SEARCH != 0 && !(byradius || bybox) {
        return Err(CmdError::owned(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if any && count == 0 {
        return Err(CmdError::msg(
            "ERR the ANY argument requires COUNT argument",
        ));
    }
    let Some(z) = zset else {
        return match store {
            Some(dst) => {
                let h = ctx.hash(dst);
                if super::remove_deleted(ctx, locked.shard(h), h, dst) {
                    super::notify(ctx, super::NOTIFY_GENERIC, "del", dst);
                    super::dirty(ctx, 1);
                }
                Ok(Frame::Integer(0))
            }
            None => Ok(Frame::Array(Vec::new())),
        };
    };
    if count != 0 && sort.is_none() && !any {
        sort = Some(true);
    }
    let mut found = scan(z, &shape, if any { count as usize } else { 0 });
    if let Some(asc) = sort {
        found.sort_by(|a, b| {
            let o = a
                .dist
                .partial_cmp(&b.dist)
                .unwrap_or(std::cmp::Ordering::Equal);
            if asc {
                o
            } else {
                o.reverse()
            }
        });
    }
    let n = if count == 0 {
        found.len()
    } else {
        found.len().min(count as usize)
    };
    found.truncate(n);
    let Some(dst) = store else {
        let opts = usize::from(withdist) + usize::from(withhash) + usize::from(withcoord);
        return Ok(Frame::Array(
            found
                .into_iter()
                .map(|f| {
                    let dist = f.dist / shape.conversion;
                    if opts == 0 {
                        return Frame::Bulk(f.member);
                    }
                    let mut v = vec![Frame::Bulk(f.member)];
                    if withdist {
                        v.push(Frame::Bulk(fixed4(dist).into_bytes()));
                    }
                    if withhash {
                        v.push(Frame::Integer(f.score as i64));
                    }
                    if withcoord {
                        v.push(Frame::Array(vec![
                            Frame::DoubleText(human(f.long)),
                            Frame::DoubleText(human(f.lat)),
                        ]));
                    }
                    Frame::Array(v)
                })
                .collect(),
        ));
    };
    let h = ctx.hash(dst);
    let shard = locked.shard(h);
    if n > 0 {
        let entries: Vec<(f64, Vec<u8>)> = found
            .into_iter()
            .map(|f| {
                let score = if storedist {
                    f.dist / shape.conversion
                } else {
                    f.score
                };
                (score, f.member)
            })
            .collect();
        let lim = crate::types::Limits::of(ctx);
        let z = crate::types::zset::ZSet::from_entries(entries, &lim);
        super::insert_key(
            ctx,
            &mut *shard,
            ctx.client.db,
            h,
            dst,
            crate::value::Value::ZSet(z),
            0,
            ctx.new_stamp(),
        );
        let event = if flags & SEARCH != 0 {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        super::notify(ctx, super::NOTIFY_ZSET, event, dst);
        super::dirty(ctx, n as u64);
    } else if super::remove_deleted(ctx, shard, h, dst) {
        super::notify(ctx, super::NOTIFY_GENERIC, "del", dst);
        super::dirty(ctx, 1);
    }
    Ok(Frame::Integer(n as i64))
}

fn georadius(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    search_generic(ctx, args, 1, RADIUS_COORDS)
}

fn georadiusbymember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    search_generic(ctx, args, 1, RADIUS_MEMBER)
}

fn georadius_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    search_generic(ctx, args, 1, RADIUS_COORDS | RADIUS_NOSTORE)
}

fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    search_generic(ctx, args, 1, RADIUS_MEMBER | RADIUS_NOSTORE)
}

fn geosearch(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    search_generic(ctx, args, 1, SEARCH)
}

fn geosearchstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    search_generic(ctx, args, 2, SEARCH | SEARCH_STORE)
}
