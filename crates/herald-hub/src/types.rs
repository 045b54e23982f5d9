//! The notification-type registry: the types a config file declares, by module, with their
//! default and locked channels (`GET /v1/schema`). Unknown types are allowed and get the defaults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use herald_proto::{Channel, ModuleSchema, Schema, TypeChannels, TypeSchema, DEFAULT_KIND};
use serde::Deserialize;

/// The copy in the repository, used when the hub is started without `--types`.
const BUILT_IN: &str = include_str!("../../../config/types.toml");

/// The channels a type goes to by default and those nobody may turn off. `inbox` is in both,
/// always; a locked channel is also on. `email` says how the type reaches email when that
/// channel is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRule {
    pub channels: BTreeSet<Channel>,
    pub locked: BTreeSet<Channel>,
    pub email: EmailMode,
}

/// How a type reaches email (types.toml's `email` and `email_after_minutes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailMode {
    /// Sent within seconds.
    #[default]
    Immediate,
    /// Sent only if the notification is still unread (and unanswered, not deleted) after this.
    Unread { after: std::time::Duration },
    /// Kept for the user's daily digest.
    Digest,
}

impl EmailMode {
    /// The name the queue and types.toml use.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailMode::Immediate => "immediate",
            EmailMode::Unread { .. } => "unread",
            EmailMode::Digest => "digest",
        }
    }

    /// Minutes an `unread` mode waits; None for the others.
    pub fn after_minutes(self) -> Option<f64> {
        match self {
            EmailMode::Unread { after } => Some(after.as_secs_f64() / 60.0),
            _ => None,
        }
    }

    /// A user's own mode for `kind` among their `chosen` ones (type or module keys): the type's
    /// beats its module's. None: they chose none, the types file's applies.
    pub fn chosen_for(chosen: &[(String, EmailMode)], kind: &str) -> Option<EmailMode> {
        let find = |key: &str| chosen.iter().find(|(k, _)| k == key).map(|(_, mode)| *mode);
        find(kind).or_else(|| find(module_of(kind)))
    }

    /// A mode as a user chose it (preferences) or the store kept it: the same rules as
    /// types.toml's, the error naming what is wrong.
    pub fn from_stored(mode: &str, after_minutes: Option<f64>) -> Result<Self, String> {
        Self::parse(Some(mode), after_minutes, "").map_err(|e| match e {
            TypesError::BadEmail { why, .. } => why,
            other => other.to_string(),
        })
    }

    fn parse(mode: Option<&str>, after_minutes: Option<f64>, kind: &str) -> Result<Self, TypesError> {
        let bad = |why: String| Err(TypesError::BadEmail { kind: kind.to_owned(), why });
        match (mode, after_minutes) {
            (None | Some("immediate"), None) => Ok(EmailMode::Immediate),
            (Some("digest"), None) => Ok(EmailMode::Digest),
            (Some("unread"), Some(minutes)) if minutes.is_finite() && (0.0..=10_080.0).contains(&minutes) => {
                Ok(EmailMode::Unread { after: std::time::Duration::from_secs_f64(minutes * 60.0) })
            }
            (Some("unread"), Some(minutes)) => {
                bad(format!("email_after_minutes = {minutes} is not 0 to 10080 (a week)"))
            }
            (Some("unread"), None) => bad("email = \"unread\" needs email_after_minutes".into()),
            (_, Some(_)) => bad("email_after_minutes goes only with email = \"unread\"".into()),
            (Some(other), None) => bad(format!("email = {other:?} is not \"immediate\", \"unread\" or \"digest\"")),
        }
    }
}

impl Default for ChannelRule {
    /// Inbox and the pop-ups (desktop toasts, browser notifications): what a hub with no
    /// types file would do.
    fn default() -> Self {
        Self::new(&[Channel::Inbox, Channel::Desktop, Channel::WebPush], &[], false)
    }
}

impl ChannelRule {
    fn new(channels: &[Channel], locked: &[Channel], critical: bool) -> Self {
        let mut locked: BTreeSet<Channel> = locked.iter().copied().collect();
        locked.insert(Channel::Inbox);
        let mut channels: BTreeSet<Channel> = channels.iter().copied().collect();
        channels.extend(locked.iter().copied());
        if critical {
            locked = channels.clone();
        }
        Self { channels, locked, email: EmailMode::Immediate }
    }

    fn wire(&self) -> TypeChannels {
        TypeChannels {
            channels: self.channels.iter().copied().collect(),
            locked: self.locked.iter().copied().collect(),
        }
    }
}

#[derive(Debug, Clone)]
struct TypeInfo {
    title: String,
    rule: ChannelRule,
    critical: bool,
    personal: bool,
}

#[derive(Debug, Clone)]
pub struct TypeRegistry {
    defaults: ChannelRule,
    types: BTreeMap<String, TypeInfo>,
}

#[derive(Debug, thiserror::Error)]
pub enum TypesError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{0}")]
    Parse(#[from] toml::de::Error),
    #[error("type {0:?} is not `module.name` in a-z, 0-9, '_', '-', '.'")]
    BadName(String),
    #[error("type {0:?} is declared twice")]
    Duplicate(String),
    #[error("type {kind:?}: {why}")]
    BadEmail { kind: String, why: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypesFile {
    defaults: DefaultsEntry,
    #[serde(default)]
    types: Vec<TypeEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsEntry {
    channels: Vec<Channel>,
    #[serde(default)]
    locked: Vec<Channel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeEntry {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    channels: Option<Vec<Channel>>,
    #[serde(default)]
    locked: Vec<Channel>,
    #[serde(default)]
    critical: bool,
    /// Users may send it to each other (a personal notification); other types come only from
    /// apps and admins.
    personal: Option<bool>,
    /// How it reaches email: "immediate" (the default), "unread" or "digest".
    email: Option<String>,
    /// With `email = "unread"`: how long it must stay unread before a mail goes.
    email_after_minutes: Option<f64>,
}

impl TypeRegistry {
    pub fn parse(text: &str) -> Result<Self, TypesError> {
        let file: TypesFile = toml::from_str(text)?;
        let defaults = ChannelRule::new(&file.defaults.channels, &file.defaults.locked, false);
        let mut types = BTreeMap::new();
        for entry in file.types {
            if !valid_kind(&entry.kind) {
                return Err(TypesError::BadName(entry.kind));
            }
            let channels = entry.channels.unwrap_or_else(|| defaults.channels.iter().copied().collect());
            let mut rule = ChannelRule::new(&channels, &entry.locked, entry.critical);
            rule.email = EmailMode::parse(entry.email.as_deref(), entry.email_after_minutes, &entry.kind)?;
            let info = TypeInfo {
                title: entry.title,
                rule,
                critical: entry.critical,
                personal: entry.personal.unwrap_or(entry.kind == DEFAULT_KIND),
            };
            if types.insert(entry.kind.clone(), info).is_some() {
                return Err(TypesError::Duplicate(entry.kind));
            }
        }
        let mut registry = Self { defaults, types };
        registry.pop_ups_reach_browsers_unless_told();
        Ok(registry)
    }

    /// A file written before `web_push` existed names only `desktop` for pop-ups, which the web
    /// inbox used to honour too: then `desktop` means both, on and locked alike, so no type
    /// (a critical one least of all) stops reaching browsers. A file that names `web_push`
    /// anywhere says for itself where it goes.
    fn pop_ups_reach_browsers_unless_told(&mut self) {
        let rules = std::iter::once(&self.defaults).chain(self.types.values().map(|t| &t.rule));
        if rules.into_iter().any(|r| r.channels.contains(&Channel::WebPush) || r.locked.contains(&Channel::WebPush)) {
            return;
        }
        tracing::info!("the types file names no web_push channel: browser pop-ups follow desktop ones");
        let rules = std::iter::once(&mut self.defaults).chain(self.types.values_mut().map(|t| &mut t.rule));
        for rule in rules {
            if rule.channels.contains(&Channel::Desktop) {
                rule.channels.insert(Channel::WebPush);
            }
            if rule.locked.contains(&Channel::Desktop) {
                rule.locked.insert(Channel::WebPush);
            }
        }
    }

    pub fn load(path: &Path) -> Result<Self, TypesError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TypesError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }

    pub fn built_in() -> Self {
        Self::parse(BUILT_IN).expect("config/types.toml is checked by a test")
    }

    /// The rule of `kind`, or the defaults for a type the file does not list.
    pub fn rule_for(&self, kind: &str) -> &ChannelRule {
        self.types.get(kind).map_or(&self.defaults, |t| &t.rule)
    }

    /// Whether users may send `kind` to each other: a type declared `personal = true`, or the
    /// default type (`general`, what a send that names none gets) unless the file says otherwise.
    pub fn is_personal(&self, kind: &str) -> bool {
        self.types.get(kind).map_or(kind == DEFAULT_KIND, |t| t.personal)
    }

    /// Every type users may send to each other, in name order.
    pub fn personal_kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.types.iter().filter(|(_, t)| t.personal).map(|(k, _)| k.as_str()).collect();
        if !self.types.contains_key(DEFAULT_KIND) {
            kinds.insert(kinds.binary_search(&DEFAULT_KIND).unwrap_or_else(|i| i), DEFAULT_KIND);
        }
        kinds
    }

    /// What people call `kind` ("Replies to your comments"); its own name if the file has none.
    pub fn title_of<'a>(&'a self, kind: &'a str) -> &'a str {
        self.types.get(kind).map_or(kind, |t| t.title.as_str())
    }

    pub fn is_known(&self, kind: &str) -> bool {
        self.types.contains_key(kind)
    }

    /// Every declared type, in name order (so by module).
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }

    pub fn schema(&self) -> Schema {
        let mut modules: Vec<ModuleSchema> = Vec::new();
        for (kind, info) in &self.types {
            let module = module_of(kind);
            let entry = TypeSchema {
                kind: kind.clone(),
                title: info.title.clone(),
                channels: info.rule.wire(),
                critical: info.critical,
            };
            match modules.last_mut() {
                Some(last) if last.module == module => last.types.push(entry),
                _ => modules.push(ModuleSchema { module: module.to_owned(), types: vec![entry] }),
            }
        }
        Schema { channels: Channel::ALL.to_vec(), defaults: self.defaults.wire(), modules }
    }
}

/// The part of a type before the first dot: `social.reply` is in `social`.
pub fn module_of(kind: &str) -> &str {
    kind.split_once('.').map_or(kind, |(module, _)| module)
}

/// `module.name`: lower-case words joined by dots; the module is the first.
pub fn valid_kind(kind: &str) -> bool {
    kind.len() <= 256
        && !kind.is_empty()
        && kind.split('.').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Channel::*;

    #[test]
    fn the_built_in_file_parses_and_groups_types_by_module() {
        let registry = TypeRegistry::built_in();
        let schema = registry.schema();
        let modules: Vec<&str> = schema.modules.iter().map(|m| m.module.as_str()).collect();
        let mut sorted = modules.clone();
        sorted.dedup();
        assert_eq!(modules, sorted, "each module once");
        assert!(modules.contains(&"community") && modules.contains(&"system"));
        let maintenance =
            schema.modules.iter().flat_map(|m| &m.types).find(|t| t.kind == "system.maintenance").unwrap();
        assert!(maintenance.critical);
        assert_eq!(maintenance.channels.locked, maintenance.channels.channels, "critical locks every channel");
    }

    #[test]
    fn inbox_is_always_on_and_locked_and_unknown_types_get_the_defaults() {
        let registry = TypeRegistry::parse(
            r#"
            [defaults]
            channels = ["desktop"]
            [[types]]
            type = "crm.deal"
            title = "Deals"
            channels = ["email"]
            locked = ["desktop"]
            "#,
        )
        .unwrap();
        let deal = registry.rule_for("crm.deal");
        assert_eq!(deal.channels, BTreeSet::from([Inbox, Desktop, WebPush, Email]), "a locked channel is on");
        assert_eq!(
            deal.locked,
            BTreeSet::from([Inbox, Desktop, WebPush]),
            "desktop brings web_push (no file names it)"
        );
        let unknown = registry.rule_for("whatever.else");
        assert_eq!(unknown.channels, BTreeSet::from([Inbox, Desktop, WebPush]));
        assert_eq!(unknown.locked, BTreeSet::from([Inbox]));
    }

    #[test]
    fn a_file_without_web_push_gives_browsers_the_desktop_pop_ups() {
        let old = TypeRegistry::parse(
            "[defaults]\nchannels = [\"inbox\", \"desktop\"]\n[[types]]\ntype = \"a.b\"\ntitle = \"x\"\nchannels = [\"email\"]\nlocked = [\"desktop\"]",
        )
        .unwrap();
        assert_eq!(old.rule_for("not.listed").channels, BTreeSet::from([Inbox, Desktop, WebPush]));
        assert_eq!(old.rule_for("a.b").locked, BTreeSet::from([Inbox, Desktop, WebPush]));
        let new = TypeRegistry::parse(
            "[defaults]\nchannels = [\"inbox\", \"desktop\"]\n[[types]]\ntype = \"a.b\"\ntitle = \"x\"\nchannels = [\"web_push\"]",
        )
        .unwrap();
        assert_eq!(new.rule_for("not.listed").channels, BTreeSet::from([Inbox, Desktop]), "it said for itself");
    }

    #[test]
    fn a_bad_file_says_what_is_wrong() {
        let err = TypeRegistry::parse("[defaults]\nchannels = [\"pager\"]").unwrap_err();
        assert!(err.to_string().contains("pager"), "{err}");
        let twice = "[defaults]\nchannels = []\n[[types]]\ntype = \"a.b\"\ntitle = \"x\"\n[[types]]\ntype = \"a.b\"\ntitle = \"y\"";
        assert!(matches!(TypeRegistry::parse(twice), Err(TypesError::Duplicate(_))));
        let bad = "[defaults]\nchannels = []\n[[types]]\ntype = \"A B\"\ntitle = \"x\"";
        assert!(matches!(TypeRegistry::parse(bad), Err(TypesError::BadName(_))));
        for (email, why) in [
            ("email = \"weekly\"", "is not"),
            ("email = \"unread\"", "needs email_after_minutes"),
            ("email = \"unread\"\nemail_after_minutes = -1", "is not 0 to 10080"),
            ("email = \"digest\"\nemail_after_minutes = 5", "goes only with"),
        ] {
            let file = format!("[defaults]\nchannels = []\n[[types]]\ntype = \"a.b\"\ntitle = \"x\"\n{email}");
            let err = TypeRegistry::parse(&file).unwrap_err().to_string();
            assert!(err.contains("\"a.b\"") && err.contains(why), "{email}: {err}");
        }
    }

    #[test]
    fn a_type_says_how_it_reaches_email() {
        let registry = TypeRegistry::parse(
            r#"
            [defaults]
            channels = ["inbox", "email"]
            [[types]]
            type = "a.now"
            title = "x"
            [[types]]
            type = "a.later"
            title = "x"
            email = "unread"
            email_after_minutes = 15
            [[types]]
            type = "a.daily"
            title = "x"
            email = "digest"
            "#,
        )
        .unwrap();
        assert_eq!(registry.rule_for("a.now").email, EmailMode::Immediate);
        assert_eq!(
            registry.rule_for("a.later").email,
            EmailMode::Unread { after: std::time::Duration::from_secs(900) }
        );
        assert_eq!(registry.rule_for("a.daily").email, EmailMode::Digest);
        assert_eq!(registry.rule_for("not.listed").email, EmailMode::Immediate);
    }
}
