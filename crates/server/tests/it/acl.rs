//! ACL: users, rules, AUTH, and the checks commands pass. Replies Redis
//! 7.0 and 7.2 word alike are compared with redis-server; the 7.2 wording
//! (NOPERM texts, rule descriptions) is checked against Ferrokey and, when
//! FERROKEY_IT_REDIS72 names one, a Redis 7.2 server.

use ferrokey_resp::Frame;

use crate::harness::{check72, diff, expect, servers};

#[test]
fn acl_commands_and_errors() {
    diff(&[
        &["ACL", "WHOAMI"],
        &["ACL", "USERS"],
        &["ACL", "GETUSER", "nobody"],
        &[
            "ACL",
            "SETUSER",
            "bob",
            "on",
            ">123",
            "+@scripting",
            "+set",
            "~x*",
        ],
        &["ACL", "USERS"],
        &["ACL", "SETUSER", "bob", "+nosuch"],
        &["ACL", "SETUSER", "bob", "+@nosuch"],
        &["ACL", "SETUSER", "bob", "bogus"],
        &["ACL", "SETUSER", "bob", "~x*", "allkeys", "~y"],
        &["ACL", "SETUSER", "bob", "&a", "allchannels", "&b"],
        &["ACL", "SETUSER", "bob", "#abc"],
        &["ACL", "SETUSER", "bob", "<nopassword"],
        &["ACL", "SETUSER", "bad name"],
        &["ACL", "SETUSER", "carol"],
        &["ACL", "USERS"],
        &["ACL", "DELUSER", "default"],
        &["ACL", "DELUSER", "carol", "nobody"],
        &["ACL", "USERS"],
        &["ACL", "DRYRUN", "nobody", "get", "x"],
        &["ACL", "DRYRUN", "bob", "nosuch"],
        &["ACL", "DRYRUN", "bob", "get"],
        &["ACL", "DRYRUN", "bob", "set", "x1", "v"],
        &["ACL", "GENPASS", "0"],
        &["ACL", "GENPASS", "4097"],
        &["ACL", "GENPASS", "x"],
        &["ACL", "CAT"],
        &["ACL", "CAT", "nosuch"],
        &["ACL", "CAT", "a", "b"],
        &["ACL", "nosuch"],
        &["AUTH", "bob", "wrong"],
        &["AUTH", "nobody", "123"],
        &["AUTH", "bob", "123"],
        &["SET", "x1", "v"],
        &["EVAL", "return redis.call('set', KEYS[1], 'w')", "1", "x1"],
        &[
            "EVAL",
            "return redis.acl_check_cmd('set', 'xx', 1)",
            "1",
            "xx",
        ],
        &[
            "EVAL",
            "return redis.acl_check_cmd('hset', 'xx', 'f', 1)",
            "1",
            "xx",
        ],
        &["EVAL", "return redis.acl_check_cmd('set', 'yy', 1)", "0"],
        &["EVAL", "return redis.acl_check_cmd('nosuch')", "0"],
        &["AUTH", "default", "anything"],
        &["ACL", "WHOAMI"],
        &["ACL", "SETUSER", "bob", "off"],
        &["AUTH", "bob", "123"],
    ]);
}

#[test]
fn permissions_are_checked_with_redis_72_wording() {
    check72(|c| {
        expect(
            c,
            &[
                "ACL",
                "SETUSER",
                "bob",
                "on",
                ">pw",
                "+get",
                "+set",
                "+publish",
                "+subscribe",
                "%R~r*",
                "~rw*",
                "&news.*",
            ],
            b"+OK\r\n",
        );
        expect(
            c,
            &["ACL", "LIST"],
            b"*2\r\n$163\r\nuser bob on sanitize-payload #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 %R~r* ~rw* resetchannels &news.* -@all +get +set +publish +subscribe\r\n$51\r\nuser default on nopass sanitize-payload ~* &* +@all\r\n",
        );
        expect(c, &["ACL", "DRYRUN", "bob", "get", "r1"], b"+OK\r\n");
        expect(
            c,
            &["ACL", "DRYRUN", "bob", "set", "r1", "v"],
            b"$50\r\nUser bob has no permissions to access the 'r1' key\r\n",
        );
        expect(
            c,
            &["ACL", "DRYRUN", "bob", "hget", "r1", "f"],
            b"$53\r\nUser bob has no permissions to run the 'hget' command\r\n",
        );
        expect(c, &["AUTH", "bob", "pw"], b"+OK\r\n");
        expect(c, &["SET", "rw1", "v"], b"+OK\r\n");
        expect(c, &["GET", "r1"], b"$-1\r\n");
        expect(
            c,
            &["SET", "r1", "v"],
            b"-NOPERM No permissions to access a key\r\n",
        );
        expect(
            c,
            &["DEL", "rw1"],
            b"-NOPERM User bob has no permissions to run the 'del' command\r\n",
        );
        expect(c, &["PUBLISH", "news.a", "m"], b":0\r\n");
        expect(
            c,
            &["PUBLISH", "other", "m"],
            b"-NOPERM No permissions to access a channel\r\n",
        );
        expect(
            c,
            &["ACL", "WHOAMI"],
            b"-NOPERM User bob has no permissions to run the 'acl|whoami' command\r\n",
        );
        expect(
            c,
            &["EVAL", "return redis.call('get', KEYS[1])", "0"],
            b"-NOPERM User bob has no permissions to run the 'eval' command\r\n",
        );
    });
    // Inside a script, the refusal names the script.
    check72(|c| {
        c.cmd(&["ACL", "SETUSER", "s", "on", "nopass", "+eval", "+set", "~*"]);
        expect(c, &["AUTH", "s", "x"], b"+OK\r\n");
        expect(
            c,
            &["EVAL", "return redis.call('get', 'k')", "0"],
            b"-ERR ACL failure in script: User s has no permissions to run the 'get' command script: 2845dc5d9bfb60b33a15b681dee13ea33da18095, on @user_script:1.\r\n",
        );
    });
}

#[test]
fn getuser_describes_the_rules() {
    for s in servers() {
        let mut c = s.connect();
        c.cmd(&["HELLO", "3"]);
        c.cmd(&[
            "ACL", "SETUSER", "u", "on", "nopass", "+@read", "-get", "~k*", "%W~w*",
        ]);
        let Frame::Map(fields) = c.cmd(&["ACL", "GETUSER", "u"]).frame else {
            panic!("GETUSER is a map");
        };
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| *k == Frame::Bulk(name.as_bytes().to_vec()))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        assert_eq!(field("keys"), Frame::Bulk(b"~k* %W~w*".to_vec()));
        assert_eq!(field("channels"), Frame::Bulk(Vec::new()));
        assert_eq!(field("passwords"), Frame::Array(Vec::new()));
        assert_eq!(
            field("commands"),
            Frame::Bulk(b"-@all +@read -get".to_vec())
        );
    }
}

#[test]
fn deleting_a_user_closes_its_connections() {
    for s in servers() {
        let mut admin = s.connect();
        admin.cmd(&["ACL", "SETUSER", "gone", "on", ">pw", "+@all", "~*"]);
        let mut c = s.connect();
        expect(&mut c, &["AUTH", "gone", "pw"], b"+OK\r\n");
        assert!(admin.cmd(&["CLIENT", "LIST"]).text().contains("user=gone"));
        expect(&mut admin, &["ACL", "DELUSER", "gone"], b":1\r\n");
        assert!(c.read_to_close().1, "connection kept");
    }
}

#[test]
fn requirepass_is_the_default_users_password() {
    for s in servers() {
        let mut c = s.connect();
        expect(
            &mut c,
            &["CONFIG", "SET", "requirepass", "secret"],
            b"+OK\r\n",
        );
        let mut other = s.connect();
        expect(
            &mut other,
            &["GET", "x"],
            b"-NOAUTH Authentication required.\r\n",
        );
        expect(&mut other, &["AUTH", "default", "secret"], b"+OK\r\n");
        let Frame::Array(lines) = other.cmd(&["ACL", "LIST"]).frame else {
            panic!("ACL LIST is an array");
        };
        // The password is the default user's, by its SHA-256.
        assert!(lines.iter().any(|l| matches!(l, Frame::Bulk(b) if String::from_utf8_lossy(b).contains("#2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"))));
        expect(
            &mut other,
            &["CONFIG", "SET", "requirepass", ""],
            b"+OK\r\n",
        );
        let mut third = s.connect();
        expect(&mut third, &["GET", "x"], b"$-1\r\n");
    }
}
