//! Access control lists: users, their passwords and permissions, and the
//! check a command passes before it runs.
//!
//! A user's command permissions are one bit per entry of the command table
//! (subcommands have their own entries), plus the rules that produced them
//! since the last `+@all` / `-@all`, kept in order so that ACL LIST and
//! GETUSER describe the user as Redis 7.2 does. Key patterns carry read
//! and write permissions; channel patterns are matched as globs against
//! channels, and literally against the patterns PSUBSCRIBE asks for.
//!
//! Not yet: selectors (`(...)`), ACL LOG, ACL SAVE / LOAD and `aclfile`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ferrokey_resp::Frame;
use parking_lot::RwLock;
use sha2::{Digest, Sha256};

use crate::command::{flags, table, CommandSpec, ACL_ORDER};
use crate::config::glob_match;

/// ACL SETUSER's complaint about a `#` or `!` digest.
const BAD_HASH: &str = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";

/// Read permission on a key pattern.
const READ: u8 = 1;
/// Write permission on a key pattern.
const WRITE: u8 = 2;

/// One user.
#[derive(Debug, Clone)]
pub struct User {
    /// The name.
    pub name: String,
    /// `on`: the user can authenticate.
    pub enabled: bool,
    nopass: bool,
    /// `skip-sanitize-payload` rather than `sanitize-payload`.
    skip_sanitize: bool,
    /// SHA-256 digests of the passwords, in the order they were added.
    passwords: Vec<[u8; 32]>,
    /// One bit per command table entry.
    allowed: Vec<u64>,
    /// Set by `+@all` (and kept while only removals follow): commands
    /// added to the table later would be allowed too.
    all_commands: bool,
    /// Command and category rules applied since the last `+@all`/`-@all`.
    rules: Vec<String>,
    all_keys: bool,
    keys: Vec<(Vec<u8>, u8)>,
    all_channels: bool,
    channels: Vec<Vec<u8>>,
    /// Every command, key and channel allowed: the check is skipped.
    open: bool,
}

impl User {
    /// A new user as ACL SETUSER creates it: disabled, no password, no
    /// commands, keys or channels.
    fn new(name: &str) -> User {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            skip_sanitize: false,
            passwords: Vec::new(),
            allowed: vec![0; table().entries.len().div_ceil(64)],
            all_commands: false,
            rules: Vec::new(),
            all_keys: false,
            keys: Vec::new(),
            all_channels: false,
            channels: Vec::new(),
            open: false,
        }
    }

    /// The default user: everything allowed, no password.
    fn default_user() -> User {
        let mut u = User::new("default");
        for rule in ["on", "nopass", "~*", "&*", "+@all"] {
            u.apply(rule.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        }
        u.refresh_open();
        u
    }

    fn refresh_open(&mut self) {
        self.open = self.all_commands
            && self.all_keys
            && self.all_channels
            && (0..table().entries.len()).all(|id| self.bit(id));
    }

    fn bit(&self, id: usize) -> bool {
        self.allowed[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if on {
            self.allowed[id / 64] |= 1 << (id % 64);
        } else {
            self.allowed[id / 64] &= !(1 << (id % 64));
        }
    }

    /// Whether nothing is restricted: every command, key and channel.
    #[inline]
    pub fn unrestricted(&self) -> bool {
        self.open
    }

    /// Whether `pass` authenticates this user.
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let digest: [u8; 32] = Sha256::digest(pass).into();
        self.passwords.contains(&digest)
    }

    /// Allows or denies a command entry, and a container's subcommands
    /// with it.
    fn set_command(&mut self, id: usize, on: bool) {
        self.set_bit(id, on);
        let t = table();
        for (sub, _) in t.children(id) {
            self.set_bit(sub, on);
        }
    }

    /// Records a command or category rule, replacing an earlier rule on
    /// the same name (and, for a command, on its subcommands).
    fn record(&mut self, rule: &str, allow: bool) {
        let name = rule.to_ascii_lowercase();
        self.rules.retain(|r| {
            let r = &r[1..];
            !(r == name || (r.starts_with(&name) && r.as_bytes().get(name.len()) == Some(&b'|')))
        });
        self.rules
            .push(format!("{}{name}", if allow { '+' } else { '-' }));
    }

    /// Applies one ACL SETUSER rule.
    fn apply(&mut self, rule: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(rule);
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "on" => self.enabled = true,
            "off" => self.enabled = false,
            "nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            "resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            "sanitize-payload" => self.skip_sanitize = false,
            "skip-sanitize-payload" => self.skip_sanitize = true,
            "allkeys" => {
                self.all_keys = true;
                self.keys.clear();
            }
            "resetkeys" => {
                self.all_keys = false;
                self.keys.clear();
            }
            "allchannels" => {
                self.all_channels = true;
                self.channels.clear();
            }
            "resetchannels" => {
                self.all_channels = false;
                self.channels.clear();
            }
            "allcommands" | "+@all" => {
                self.allowed.iter_mut().for_each(|w| *w = !0);
                self.all_commands = true;
                self.rules.clear();
            }
            "nocommands" | "-@all" => {
                self.allowed.iter_mut().for_each(|w| *w = 0);
                self.all_commands = false;
                self.rules.clear();
            }
            "reset" => {
                for r in ["resetpass", "resetkeys", "resetchannels", "off", "-@all"] {
                    self.apply(r.as_bytes())?;
                }
            }
            _ => return self.apply_pattern(rule, &text),
        }
        Ok(())
    }

    /// The rules with an argument: passwords, patterns, commands.
    fn apply_pattern(&mut self, rule: &[u8], text: &str) -> Result<(), String> {
        match rule[0] {
            b'>' => {
                let digest: [u8; 32] = Sha256::digest(&rule[1..]).into();
                if !self.passwords.contains(&digest) {
                    self.passwords.push(digest);
                }
                self.nopass = false;
            }
            b'#' => {
                let digest = parse_digest(&rule[1..]).ok_or(BAD_HASH)?;
                if !self.passwords.contains(&digest) {
                    self.passwords.push(digest);
                }
                self.nopass = false;
            }
            b'<' | b'!' => {
                let digest: [u8; 32] = if rule[0] == b'<' {
                    Sha256::digest(&rule[1..]).into()
                } else {
                    parse_digest(&rule[1..]).ok_or(BAD_HASH)?
                };
                let before = self.passwords.len();
                self.passwords.retain(|p| *p != digest);
                if self.passwords.len() == before {
                    return Err(
                        "The password you are trying to remove from the user does not exist".into(),
                    );
                }
            }
            b'~' | b'%' => {
                let (perms, pat) = key_rule(rule)?;
                if self.all_keys {
                    return Err("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns".into());
                }
                if pat == b"*" && perms == READ | WRITE {
                    self.all_keys = true;
                    self.keys.clear();
                } else if let Some(k) = self.keys.iter_mut().find(|(p, _)| *p == pat) {
                    k.1 |= perms;
                } else {
                    self.keys.push((pat.to_vec(), perms));
                }
            }
            b'&' => {
                let pat = &rule[1..];
                if self.all_channels {
                    return Err("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels".into());
                }
                if pat == b"*" {
                    self.all_channels = true;
                    self.channels.clear();
                } else if !self.channels.iter().any(|c| c == pat) {
                    self.channels.push(pat.to_vec());
                }
            }
            b'+' | b'-' => {
                let allow = rule[0] == b'+';
                let name = &text[1..];
                if let Some(cat) = name.strip_prefix('@') {
                    let cat = format!("@{}", cat.to_ascii_lowercase());
                    if !ACL_ORDER.contains(&cat.as_str()) {
                        return Err("Unknown command or category name in ACL".into());
                    }
                    self.record(&cat, allow);
                    let t = table();
                    for (id, e) in t.entries.iter().enumerate() {
                        if e.spec.acl_categories().contains(&cat.as_str()) {
                            self.set_command(id, allow);
                        }
                    }
                } else {
                    let id = lookup(name).ok_or("Unknown command or category name in ACL")?;
                    self.record(name, allow);
                    self.set_command(id, allow);
                }
            }
            b'(' => return Err("Selectors are not supported by Ferrokey yet".into()),
            _ => return Err("Syntax error".into()),
        }
        Ok(())
    }

    /// Whether the user may run command entry `id` with `args` (the whole
    /// command line): the command itself, then its keys and channels.
    pub fn check(&self, id: usize, args: &[&[u8]]) -> Result<(), Denied> {
        let t = table();
        let spec = t.entries[id].spec;
        if !self.bit(id) && !spec.has(flags::NO_AUTH) {
            return Err(Denied::Command);
        }
        if !self.all_keys {
            for (pos, kflags) in crate::cmd::admin::keys_with_flags(spec, args).unwrap_or_default()
            {
                let mut need = 0;
                if kflags.contains(&"ACCESS") {
                    need |= READ;
                }
                if kflags
                    .iter()
                    .any(|f| matches!(*f, "INSERT" | "DELETE" | "UPDATE"))
                {
                    need |= WRITE;
                }
                let ok = self
                    .keys
                    .iter()
                    .any(|(p, perms)| perms & need == need && glob_match(p, args[pos], false));
                if !ok {
                    return Err(Denied::Key(pos));
                }
            }
        }
        if !self.all_channels {
            self.check_channels(spec, args)?;
        }
        Ok(())
    }

    fn check_channels(&self, spec: &CommandSpec, args: &[&[u8]]) -> Result<(), Denied> {
        // (first channel argument, whether the arguments are patterns)
        let (from, patterns, only_first) = match spec.name {
            "publish" | "spublish" => (1, false, true),
            "subscribe" | "ssubscribe" => (1, false, false),
            "psubscribe" => (1, true, false),
            _ => return Ok(()),
        };
        let end = if only_first { from + 1 } else { args.len() };
        for (pos, ch) in args.iter().enumerate().take(end).skip(from) {
            let ok = self.channels.iter().any(|p| {
                if patterns {
                    p == ch
                } else {
                    glob_match(p, ch, false)
                }
            });
            if !ok {
                return Err(Denied::Channel(pos));
            }
        }
        Ok(())
    }

    /// The command rules, as ACL GETUSER and ACL LIST describe them.
    fn describe_commands(&self) -> String {
        let mut s = String::from(if self.all_commands { "+@all" } else { "-@all" });
        for r in &self.rules {
            s.push(' ');
            s.push_str(r);
        }
        s
    }

    fn describe_keys(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        self.keys
            .iter()
            .map(|(p, perms)| {
                let prefix = match *perms {
                    READ => "%R~",
                    WRITE => "%W~",
                    _ => "~",
                };
                format!("{prefix}{}", String::from_utf8_lossy(p))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn describe_channels(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        self.channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn flag_names(&self) -> Vec<&'static str> {
        let mut f = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            f.push("nopass");
        }
        f.push(if self.skip_sanitize {
            "skip-sanitize-payload"
        } else {
            "sanitize-payload"
        });
        f
    }

    /// The user as one line of ACL LIST.
    pub fn describe(&self) -> String {
        let mut s = format!("user {}", self.name);
        for f in self.flag_names() {
            s.push(' ');
            s.push_str(f);
        }
        for p in &self.passwords {
            s.push_str(" #");
            s.push_str(&hex(p));
        }
        let keys = self.describe_keys();
        if !keys.is_empty() {
            s.push(' ');
            s.push_str(&keys);
        }
        if self.all_channels {
            s.push_str(" &*");
        } else {
            s.push_str(" resetchannels");
            let ch = self.describe_channels();
            if !ch.is_empty() {
                s.push(' ');
                s.push_str(&ch);
            }
        }
        s.push(' ');
        s.push_str(&self.describe_commands());
        s
    }

    /// ACL GETUSER's reply.
    pub fn getuser_frame(&self) -> Frame {
        let b = |s: &str| Frame::Bulk(s.as_bytes().to_vec());
        Frame::Map(vec![
            (
                b("flags"),
                Frame::Set(self.flag_names().into_iter().map(b).collect()),
            ),
            (
                b("passwords"),
                Frame::Array(self.passwords.iter().map(|p| b(&hex(p))).collect()),
            ),
            (b("commands"), b(&self.describe_commands())),
            (b("keys"), b(&self.describe_keys())),
            (b("channels"), b(&self.describe_channels())),
            (b("selectors"), Frame::Array(Vec::new())),
        ])
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The command (or subcommand).
    Command,
    /// The key at this argument position.
    Key(usize),
    /// The channel at this argument position.
    Channel(usize),
}

impl Denied {
    /// The error message, without a code (`NOPERM` or a script's prefix).
    pub fn message(self, user: &str, full_name: &str) -> String {
        match self {
            Denied::Command => {
                format!("User {user} has no permissions to run the '{full_name}' command")
            }
            Denied::Key(_) => "No permissions to access a key".into(),
            Denied::Channel(_) => "No permissions to access a channel".into(),
        }
    }
}

impl Denied {
    /// ACL DRYRUN's wording, naming the key or channel.
    pub fn verbose_message(self, user: &str, full_name: &str, args: &[&[u8]]) -> String {
        match self {
            Denied::Command => self.message(user, full_name),
            Denied::Key(p) => format!(
                "User {user} has no permissions to access the '{}' key",
                String::from_utf8_lossy(args[p])
            ),
            Denied::Channel(p) => format!(
                "User {user} has no permissions to access the '{}' channel",
                String::from_utf8_lossy(args[p])
            ),
        }
    }
}

/// A command table entry by ACL name: `get`, `config|get`.
fn lookup(name: &str) -> Option<usize> {
    let t = table();
    let mut parts = name.splitn(2, '|');
    let top = t.lookup(parts.next()?.as_bytes())?;
    match parts.next() {
        None => Some(top),
        Some(sub) => t.lookup_sub(top, sub.as_bytes()),
    }
}

/// `%R~pat`, `%W~pat`, `%RW~pat` or `~pat`: the permissions and the pattern.
fn key_rule(rule: &[u8]) -> Result<(u8, &[u8]), String> {
    if rule[0] == b'~' {
        return Ok((READ | WRITE, &rule[1..]));
    }
    let tilde = rule.iter().position(|&c| c == b'~').ok_or("Syntax error")?;
    let mut perms = 0;
    for &c in &rule[1..tilde] {
        perms |= match c.to_ascii_uppercase() {
            b'R' => READ,
            b'W' => WRITE,
            _ => return Err("Syntax error".into()),
        };
    }
    if perms == 0 {
        return Err("Syntax error".into());
    }
    Ok((perms, &rule[tilde + 1..]))
}

fn parse_digest(h: &[u8]) -> Option<[u8; 32]> {
    if h.len() != 64 || !h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in h.chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The users, by name.
#[derive(Debug)]
pub struct Acl {
    users: RwLock<BTreeMap<String, Arc<User>>>,
    /// Bumped on every change, so clients refresh their copy of their user.
    epoch: AtomicU64,
}

impl Default for Acl {
    fn default() -> Self {
        let mut users = BTreeMap::new();
        users.insert("default".to_string(), Arc::new(User::default_user()));
        Acl {
            users: RwLock::new(users),
            epoch: AtomicU64::new(1),
        }
    }
}

impl Acl {
    /// The current change count.
    #[inline]
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// A user by name.
    pub fn get(&self, name: &str) -> Option<Arc<User>> {
        self.users.read().get(name).cloned()
    }

    /// Every user, by name.
    pub fn all(&self) -> Vec<Arc<User>> {
        self.users.read().values().cloned().collect()
    }

    /// ACL SETUSER: applies `rules` to the user (created when missing),
    /// all or nothing.
    pub fn set_user(&self, name: &str, rules: &[&[u8]]) -> Result<(), String> {
        let mut users = self.users.write();
        let mut u = users
            .get(name)
            .map_or_else(|| User::new(name), |u| (**u).clone());
        for r in rules {
            if r.is_empty() {
                return Err("Error in ACL SETUSER modifier '': Syntax error".into());
            }
            u.apply(r).map_err(|e| {
                format!(
                    "Error in ACL SETUSER modifier '{}': {e}",
                    String::from_utf8_lossy(r)
                )
            })?;
        }
        u.refresh_open();
        users.insert(name.to_string(), Arc::new(u));
        drop(users);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Removes users; returns how many existed.
    pub fn delete(&self, names: &[&str]) -> usize {
        let mut users = self.users.write();
        let n = names.iter().filter(|n| users.remove(**n).is_some()).count();
        drop(users);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        n
    }

    /// Whether a new connection must authenticate: the default user has a
    /// password or is disabled.
    pub fn auth_required(&self) -> bool {
        self.get("default").is_none_or(|u| !(u.enabled && u.nopass))
    }

    /// `requirepass`: the default user's password becomes `pass` (none:
    /// no password), as Redis maps the directive onto the default user.
    pub fn set_default_password(&self, pass: Option<&[u8]>) {
        let rules: Vec<Vec<u8>> = match pass {
            Some(p) => vec![b"resetpass".to_vec(), [b">".as_slice(), p].concat()],
            None => vec![b"nopass".to_vec()],
        };
        let refs: Vec<&[u8]> = rules.iter().map(Vec::as_slice).collect();
        let _ = self.set_user("default", &refs);
    }
}

/// A client's view of its user, refreshed when the ACL changes.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user's name.
    pub name: String,
    user: Option<Arc<User>>,
    epoch: u64,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            name: "default".into(),
            user: None,
            epoch: 0,
        }
    }
}

impl Session {
    /// The user, current as of `acl`'s last change; `None` when it was
    /// deleted.
    #[inline]
    pub fn user(&mut self, acl: &Acl) -> Option<&Arc<User>> {
        let now = acl.epoch();
        if self.epoch != now {
            self.user = acl.get(&self.name);
            self.epoch = now;
        }
        self.user.as_ref()
    }

    /// Switches to another user (AUTH).
    pub fn switch(&mut self, name: &str) {
        self.name = name.to_string();
        self.epoch = 0;
    }
}

/// ACL CAT: the categories, or the commands of one.
pub fn cat(category: Option<&[u8]>) -> Result<Frame, String> {
    let t = table();
    let Some(c) = category else {
        return Ok(Frame::Array(
            ACL_ORDER
                .iter()
                .map(|c| Frame::Bulk(c.as_bytes()[1..].to_vec()))
                .collect(),
        ));
    };
    let want = format!("@{}", String::from_utf8_lossy(c).to_ascii_lowercase());
    if !ACL_ORDER.contains(&want.as_str()) {
        return Err(format!(
            "ERR Unknown category '{}'",
            String::from_utf8_lossy(c)
        ));
    }
    Ok(Frame::Array(
        t.entries
            .iter()
            .filter(|e| e.spec.acl_categories().contains(&want.as_str()))
            .map(|e| Frame::Bulk(e.full_name.clone().into_bytes()))
            .collect(),
    ))
}
