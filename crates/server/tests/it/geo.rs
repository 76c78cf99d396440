//! Geospatial commands compared byte for byte with redis-server: the
//! scores GEOADD stores (Redis's 52-bit geohash), positions, distances in
//! every unit, geohash strings, the edges of the coordinate range and the
//! errors, in RESP2 and RESP3.

use crate::harness::*;

fn both(script: &[&[&str]]) {
    let p = Pair::new();
    p.diff(script);
    p.diff3(script);
}

#[test]
fn geoadd_geopos_geodist_geohash() {
    both(&[
        &[
            "geoadd",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ],
        &["zrange", "Sicily", "0", "-1", "withscores"],
        &["geodist", "Sicily", "Palermo", "Catania"],
        &["geodist", "Sicily", "Palermo", "Catania", "km"],
        &["geodist", "Sicily", "Palermo", "Catania", "mi"],
        &["geodist", "Sicily", "Palermo", "Catania", "ft"],
        &["geodist", "Sicily", "Palermo", "nokey"],
        &["geodist", "nokey", "a", "b"],
        &["geodist", "Sicily", "Palermo", "Catania", "xx"],
        &["geodist", "Sicily", "Palermo", "Catania", "km", "extra"],
        &["geopos", "Sicily", "Palermo", "Catania", "NonExisting"],
        &["geopos", "nokey", "a", "b"],
        &["geohash", "Sicily", "Palermo", "Catania", "nope"],
        &["geohash", "nokey", "a"],
        &["geoadd", "Sicily", "200", "100", "bad"],
        &["geoadd", "Sicily", "nx", "xx", "1", "1", "a"],
        &["geoadd", "Sicily", "1", "1"],
        &["geoadd", "Sicily", "x", "1", "a"],
        &[
            "geoadd",
            "Sicily",
            "ch",
            "13.361389",
            "38.115556",
            "Palermo",
            "1",
            "2",
            "n",
        ],
        &[
            "geoadd",
            "Sicily",
            "xx",
            "ch",
            "13.361389",
            "38.2",
            "Palermo",
            "3",
            "4",
            "x2",
        ],
        &[
            "geoadd", "Sicily", "nx", "0", "0", "Palermo", "0", "0", "zero",
        ],
        &["geopos", "Sicily", "zero", "Palermo"],
        &[
            "geoadd",
            "g",
            "-180",
            "-85.05112878",
            "sw",
            "180",
            "85.05112878",
            "ne",
            "0.000001",
            "-0.000001",
            "tiny",
        ],
        &["geopos", "g", "sw", "ne", "tiny"],
        &["geohash", "g", "sw", "ne", "tiny"],
        &["geodist", "g", "sw", "ne"],
        &["zrange", "g", "0", "-1", "withscores"],
        &["set", "s", "x"],
        &["geoadd", "s", "1", "1", "a"],
        &["geopos", "s", "a"],
        &["geodist", "s", "a", "b"],
        &["geohash", "s", "a"],
    ]);
}
