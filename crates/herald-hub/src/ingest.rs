//! Ingest templates (seeds 002, 004): how another system's event becomes one notification per
//! recipient. The templates live in a TOML file (see config/ingest.toml) that is re-read when it
//! changes, so they are edited without recompiling or restarting.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use minijinja::{Environment, UndefinedBehavior};
use serde::Deserialize;
use serde_json::Value;

/// The copy in the repository, used when the hub is started without `--ingest`.
const BUILT_IN: &str = include_str!("../../../config/ingest.toml");
/// Template fields of an event, in the order they are rendered.
const FIELDS: [&str; 9] = ["type", "subject", "body", "link", "tag", "sub_tag", "priority", "object_type", "object_id"];

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("no ingest source {0:?} is configured")]
    UnknownSource(String),
    #[error("source {origin} has no template for event type {kind:?}")]
    UnknownEventType { origin: String, kind: String },
    #[error("the event is not an envelope {{event_id, type, created, data: {{recipients, …}}}}: {0}")]
    BadEnvelope(String),
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("the ingest file is broken, so nothing is ingested until it is fixed: {0}")]
    BrokenConfig(String),
}

/// One notification rendered for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The Herald user name the `recipient` template gave.
    pub user: String,
    /// The recipient as the event named it.
    pub recipient: Value,
    /// Each non-empty rendered field by name (`type`, `subject`, …).
    pub fields: BTreeMap<&'static str, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestFile {
    sources: BTreeMap<String, SourceEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceEntry {
    /// The app tokens allowed to post this source's events; absent: any app.
    apps: Option<Vec<String>>,
    recipient: String,
    #[serde(default)]
    prelude: String,
    events: BTreeMap<String, EventEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventEntry {
    #[serde(rename = "type")]
    kind: String,
    subject: String,
    body: Option<String>,
    link: Option<String>,
    tag: Option<String>,
    sub_tag: Option<String>,
    priority: Option<String>,
    object_type: Option<String>,
    object_id: Option<String>,
}

impl EventEntry {
    fn fields(&self) -> [(&'static str, Option<&String>); 9] {
        [
            ("type", Some(&self.kind)),
            ("subject", Some(&self.subject)),
            ("body", self.body.as_ref()),
            ("link", self.link.as_ref()),
            ("tag", self.tag.as_ref()),
            ("sub_tag", self.sub_tag.as_ref()),
            ("priority", self.priority.as_ref()),
            ("object_type", self.object_type.as_ref()),
            ("object_id", self.object_id.as_ref()),
        ]
    }
}

/// Every source's compiled templates.
pub struct Templates {
    env: Environment<'static>,
    /// Source name → its event types.
    sources: HashMap<String, Vec<String>>,
    /// Source name → the apps allowed to post its events (no entry: any app).
    apps: HashMap<String, Vec<String>>,
}

impl Templates {
    pub fn parse(text: &str) -> Result<Self, IngestError> {
        let file: IngestFile = toml::from_str(text).map_err(|e| IngestError::BrokenConfig(e.to_string()))?;
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Notification text is plain: nothing is escaped for HTML here, and nothing needs it.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.add_filter("plain", plain);
        let mut sources = HashMap::new();
        let mut apps = HashMap::new();
        for (source, entry) in file.sources {
            if let Some(allowed) = &entry.apps {
                apps.insert(source.clone(), allowed.clone());
            }
            let mut add = |name: String, body: &str| {
                let text = format!("{}{body}", entry.prelude);
                env.add_template_owned(name.clone(), text)
                    .map_err(|e| IngestError::Template { name, message: describe(&e) })
            };
            add(format!("{source}/recipient"), &entry.recipient)?;
            for (kind, event) in &entry.events {
                for (field, template) in event.fields() {
                    if let Some(template) = template {
                        add(format!("{source}/{kind}/{field}"), template)?;
                    }
                }
            }
            sources.insert(source, entry.events.into_keys().collect());
        }
        Ok(Self { env, sources, apps })
    }

    pub fn built_in() -> Self {
        Self::parse(BUILT_IN).expect("config/ingest.toml is checked by a test")
    }

    /// Whether `app` may post `source`'s events (an unknown source is reported by [`Self::render`]).
    pub fn allows(&self, source: &str, app: &str) -> bool {
        self.apps.get(source).is_none_or(|allowed| allowed.iter().any(|a| a == app))
    }

    /// Every event type `source` has templates for.
    pub fn event_types(&self, source: &str) -> Option<&[String]> {
        self.sources.get(source).map(Vec::as_slice)
    }

    /// Renders `envelope` into one notification per distinct recipient (in the event's order).
    /// The envelope is converted for the templates once, not once per recipient (which made an
    /// event of 30,000 recipients take 25 s), and duplicates are dropped before rendering.
    pub fn render(&self, source: &str, envelope: &Value) -> Result<Vec<Rendered>, IngestError> {
        let kinds = self.sources.get(source).ok_or_else(|| IngestError::UnknownSource(source.to_owned()))?;
        let kind = envelope.get("type").and_then(Value::as_str).ok_or_else(|| bad("'type' is missing"))?;
        if !kinds.iter().any(|k| k == kind) {
            return Err(IngestError::UnknownEventType { origin: source.to_owned(), kind: kind.to_owned() });
        }
        let data = envelope.get("data").filter(|d| d.is_object()).ok_or_else(|| bad("'data' is not an object"))?;
        let recipients =
            data.get("recipients").and_then(Value::as_array).ok_or_else(|| bad("'data.recipients' is not a list"))?;
        let mut seen = std::collections::HashSet::new();
        let recipients: Vec<&Value> = recipients.iter().filter(|r| seen.insert(r.to_string())).collect();
        if recipients.len() > crate::store::MAX_RECIPIENTS {
            let message =
                format!("the event names {} recipients, more than {}", recipients.len(), crate::store::MAX_RECIPIENTS);
            return Err(IngestError::BadEnvelope(message));
        }
        let (event, data) = (minijinja::Value::from_serialize(envelope), minijinja::Value::from_serialize(data));
        let mut rendered = Vec::with_capacity(recipients.len());
        for recipient in recipients {
            let context = minijinja::context! { event => event.clone(), data => data.clone(), recipient => recipient };
            let user = self.render_one(&format!("{source}/recipient"), &context)?;
            let mut fields = BTreeMap::new();
            for field in FIELDS {
                let name = format!("{source}/{kind}/{field}");
                if self.env.get_template(&name).is_err() {
                    continue;
                }
                let value = self.render_one(&name, &context)?;
                if !value.is_empty() {
                    fields.insert(field, value);
                }
            }
            rendered.push(Rendered { user, recipient: recipient.clone(), fields });
        }
        Ok(rendered)
    }

    fn render_one(&self, name: &str, context: &minijinja::Value) -> Result<String, IngestError> {
        let template = self.env.get_template(name).map_err(|e| template_error(name, &e))?;
        let text = template.render(context).map_err(|e| template_error(name, &e))?;
        Ok(text.trim().to_owned())
    }
}

fn bad(message: &str) -> IngestError {
    IngestError::BadEnvelope(message.to_owned())
}

fn template_error(name: &str, e: &minijinja::Error) -> IngestError {
    IngestError::Template { name: name.to_owned(), message: describe(e) }
}

/// The error with its cause chain, on one line (minijinja puts the useful part in the detail).
fn describe(e: &minijinja::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The `plain` filter: HTML to text — tags dropped, the common entities decoded, white space
/// collapsed. Only ever used to make text; its output is never treated as HTML.
fn plain(html: String) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The templates in force: the file's, re-read whenever its modification time changes.
pub struct IngestConfig {
    path: Option<PathBuf>,
    loaded: Mutex<(Option<SystemTime>, Loaded)>,
}

/// The templates as last read, or why the file could not be read.
pub type Loaded = Arc<Result<Templates, String>>;

impl IngestConfig {
    pub fn built_in() -> Self {
        Self { path: None, loaded: Mutex::new((None, Arc::new(Ok(Templates::built_in())))) }
    }

    /// Loads `path` now; a broken file is an error at start-up (later edits are checked per request).
    pub fn from_file(path: &Path) -> Result<Self, IngestError> {
        let modified = modified(path);
        let text = std::fs::read_to_string(path).map_err(|e| IngestError::BrokenConfig(e.to_string()))?;
        let templates = Templates::parse(&text)?;
        Ok(Self { path: Some(path.to_owned()), loaded: Mutex::new((modified, Arc::new(Ok(templates)))) })
    }

    /// The templates to use now, re-reading the file if it changed.
    pub fn current(&self) -> Loaded {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(path) = &self.path {
            let now = modified(path);
            if now != loaded.0 {
                let parsed = std::fs::read_to_string(path)
                    .map_err(|e| e.to_string())
                    .and_then(|text| Templates::parse(&text).map_err(|e| e.to_string()));
                match &parsed {
                    Ok(_) => tracing::info!(path = %path.display(), "ingest templates reloaded"),
                    Err(e) => tracing::error!(path = %path.display(), error = %e, "ingest templates broken"),
                }
                *loaded = (now, Arc::new(parsed));
            }
        }
        loaded.1.clone()
    }
}

impl std::fmt::Debug for IngestConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestConfig").field("path", &self.path).finish_non_exhaustive()
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_filter_makes_text_of_html() {
        assert_eq!(plain("<p>Hi <b>Ann</b> &amp; co</p>\n<script>x</script>".into()), "Hi Ann & co x");
        assert_eq!(plain("a &lt;b&gt; c".into()), "a <b> c", "decoded entities stay text");
    }

    #[test]
    fn the_built_in_file_renders_every_event_of_seed_004() {
        // One sample envelope per `notification.*` event of the seed's catalogue.
        let samples: Vec<Value> =
            serde_json::from_str(include_str!("../tests/fixtures/selfcommunity_events.json")).unwrap();
        assert_eq!(samples.len(), 30);
        let templates = Templates::built_in();
        for sample in &samples {
            let rendered =
                templates.render("selfcommunity", sample).unwrap_or_else(|e| panic!("{}: {e}", sample["type"]));
            assert_eq!(rendered.len(), 1);
            assert_eq!(rendered[0].user, "sc-7");
            let subject = &rendered[0].fields["subject"];
            assert!(!subject.is_empty() && !subject.contains("{{"), "{}: {subject:?}", sample["type"]);
            assert!(rendered[0].fields["type"].starts_with("community."));
        }
    }

    #[test]
    fn a_missing_field_is_a_template_error_naming_the_template() {
        let templates = Templates::built_in();
        let event =
            serde_json::json!({"event_id": 1, "type": "notification.private_message", "data": {"recipients": [7]}});
        let err = templates.render("selfcommunity", &event).unwrap_err();
        assert!(
            matches!(&err, IngestError::Template { name, .. } if name.ends_with("private_message/subject")),
            "{err}"
        );
    }

    #[test]
    fn a_syntax_error_in_the_file_is_reported_with_the_template_name() {
        let text = "[sources.x]\nrecipient = \"{{ recipient }}\"\n[sources.x.events.\"e\"]\ntype = \"a.b\"\nsubject = \"{{ oops\"";
        let err = Templates::parse(text).err().unwrap();
        assert!(err.to_string().contains("x/e/subject"), "{err}");
    }
}
