//! The windows' read-only view of the mirror: pages of the inbox under the user's filters and
//! search, one notification, the types to filter by, how fresh the inbox is, and which links
//! may be opened.

use std::path::PathBuf;
use std::sync::Mutex;

use herald_proto::Notification;
use serde::Deserialize;
use ts_rs::TS;

use crate::ipc::{IpcError, IpcErrorCode};
use crate::mirror::{Before, Mirror, MirrorError, Query};

/// Largest page a window may ask for.
const MAX_PAGE: u32 = 200;
/// Longest search text taken: more is not a search anyone types, and FTS cost grows with it.
const MAX_SEARCH_CHARS: usize = 200;

/// What the inbox window shows; every field narrows it. Default: everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct InboxFilter {
    /// Only unread ones.
    #[serde(default)]
    pub unread_only: bool,
    /// Every type of a module (`social`), or one type (`social.reply`): a value with a dot is a type.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    /// Words typed in the search box; each must begin a word of the subject or the body.
    #[serde(default)]
    pub text: Option<String>,
}

impl InboxFilter {
    fn query(&self, before: Option<Before>, limit: u32) -> Query {
        let kind = self.kind.as_deref().map(str::trim).filter(|k| !k.is_empty());
        let (module, kind) = match kind {
            Some(k) if k.contains('.') => (None, Some(k.to_owned())),
            Some(m) => (Some(m.to_owned()), None),
            None => (None, None),
        };
        let text = self.text.as_deref().map(|t| t.chars().take(MAX_SEARCH_CHARS).collect::<String>());
        Query {
            before,
            limit: limit.clamp(1, MAX_PAGE),
            unread: self.unread_only.then_some(true),
            kind,
            module,
            tag: self.tag.clone().filter(|t| !t.is_empty()),
            text: text.filter(|t| !t.trim().is_empty()),
            ..Query::default()
        }
    }
}

/// Read-only access to the mirror, opened on first use (the agent may create it later).
pub struct InboxReader {
    path: PathBuf,
    mirror: Mutex<Option<Mirror>>,
}

impl InboxReader {
    pub fn new(path: PathBuf) -> Self {
        Self { path, mirror: Mutex::new(None) }
    }

    /// A page of what `filter` lets through, newest first, after `before` (the previous page's
    /// last). Nothing synced yet is an empty inbox.
    pub fn search(
        &self,
        filter: &InboxFilter,
        before: Option<Before>,
        limit: u32,
    ) -> Result<Vec<Notification>, IpcError> {
        let query = filter.query(before, limit);
        Ok(self.read(|m| m.search(&query))?.unwrap_or_default())
    }

    /// One notification; None if the mirror does not hold it (deleted, or nothing synced yet).
    pub fn get(&self, id: i64) -> Result<Option<Notification>, IpcError> {
        Ok(self.read(|m| m.get(id))?.flatten())
    }

    /// The types in the inbox, in order, for the type filter.
    pub fn types(&self) -> Result<Vec<String>, IpcError> {
        Ok(self.read(Mirror::types)?.unwrap_or_default())
    }

    /// When every account was last in step with its hub (RFC 3339 UTC); None: not yet.
    pub fn synced_at(&self) -> Result<Option<String>, IpcError> {
        Ok(self.read(Mirror::synced_at)?.flatten())
    }

    /// The web address notification `id` links to, if it may be opened: only http and https
    /// go to the browser. Anything else (`javascript:`, `file:`, an app route) is refused.
    pub fn link(&self, id: i64) -> Result<url::Url, IpcError> {
        let link = self.get(id)?.and_then(|n| n.link).ok_or_else(|| refused("this notification has no link"))?;
        web_address(&link)
    }

    /// Runs `f` on the mirror, opened on first use; None if there is no mirror yet.
    fn read<T>(&self, f: impl FnOnce(&Mirror) -> Result<T, MirrorError>) -> Result<Option<T>, IpcError> {
        let mut mirror = self.mirror.lock().unwrap_or_else(|p| p.into_inner());
        if mirror.is_none() {
            if !self.path.exists() {
                return Ok(None);
            }
            *mirror = Some(Mirror::open_read_only(&self.path).map_err(unreadable)?);
        }
        f(mirror.as_ref().expect("opened above")).map(Some).map_err(unreadable)
    }
}

/// `link` as a web address the browser may open, or why not.
pub fn web_address(link: &str) -> Result<url::Url, IpcError> {
    let url = url::Url::parse(link.trim()).map_err(|_| refused("the link is not a web address"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(refused("only http and https links are opened"));
    }
    Ok(url)
}

fn refused(message: &str) -> IpcError {
    IpcError { code: IpcErrorCode::LinkRefused, message: message.to_owned() }
}

fn unreadable(e: impl std::fmt::Display) -> IpcError {
    IpcError { code: IpcErrorCode::MirrorUnavailable, message: format!("cannot read the local inbox: {e}") }
}

#[cfg(test)]
mod tests {
    use herald_proto::{Change, ChangeKind};

    use super::*;

    fn mirror_with(notifications: Vec<Notification>) -> (tempfile::TempDir, InboxReader) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mirror.sqlite3");
        let mut writer = Mirror::open(&path).unwrap();
        let changes: Vec<Change> = notifications
            .into_iter()
            .enumerate()
            .map(|(i, notification)| Change { seq: i as i64 + 1, kind: ChangeKind::Created { notification } })
            .collect();
        writer.apply(1, &changes, changes.len() as i64, true).unwrap();
        while writer.index_some(1000).unwrap() > 0 {}
        (dir, InboxReader::new(path))
    }

    fn notification(id: i64, kind: &str, subject: &str, tag: Option<&str>) -> Notification {
        let mut n = Notification::plain(id, subject, format!("2026-11-21T10:00:{id:02}.000Z"));
        n.kind = kind.into();
        n.tag = tag.map(String::from);
        n
    }

    fn subjects(page: Vec<Notification>) -> Vec<String> {
        page.into_iter().map(|n| n.subject).collect()
    }

    #[test]
    fn an_inbox_that_was_never_synced_is_empty_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let reader = InboxReader::new(dir.path().join("mirror.sqlite3"));
        assert!(reader.search(&InboxFilter::default(), None, 50).unwrap().is_empty());
        assert!(reader.types().unwrap().is_empty());
        assert_eq!(reader.synced_at().unwrap(), None);
    }

    #[test]
    fn the_reader_sees_the_agents_writes() {
        let (_dir, reader) = mirror_with(vec![notification(1, "task.due", "Task due", None)]);
        assert_eq!(subjects(reader.search(&InboxFilter::default(), None, 50).unwrap()), ["Task due"]);
        assert!(reader.synced_at().unwrap().is_some(), "the catch-up completed");
    }

    #[test]
    fn filters_narrow_by_unread_module_type_tag_and_words() {
        let (_dir, reader) = mirror_with(vec![
            notification(1, "crm.deal", "Deal won: Acme", Some("deal-7")),
            notification(2, "crm.task", "Call Acme back", None),
            notification(3, "social.reply", "Ann replied to your comment", None),
            notification(4, "crm.deal", "Deal lost: Globex", Some("deal-8")),
        ]);
        let search = |filter: InboxFilter| subjects(reader.search(&filter, None, 50).unwrap());
        let module = InboxFilter { kind: Some("crm".into()), ..InboxFilter::default() };
        assert_eq!(search(module), ["Deal lost: Globex", "Call Acme back", "Deal won: Acme"]);
        let kind = InboxFilter { kind: Some("crm.deal".into()), ..InboxFilter::default() };
        assert_eq!(search(kind), ["Deal lost: Globex", "Deal won: Acme"]);
        let tag = InboxFilter { tag: Some("deal-7".into()), ..InboxFilter::default() };
        assert_eq!(search(tag), ["Deal won: Acme"]);
        let words = InboxFilter { text: Some("acm".into()), ..InboxFilter::default() };
        assert_eq!(search(words), ["Call Acme back", "Deal won: Acme"], "as typed: a prefix matches");
        let blank = InboxFilter { text: Some("  ".into()), kind: Some(" ".into()), ..InboxFilter::default() };
        assert_eq!(search(blank).len(), 4, "an empty box filters nothing");
        assert_eq!(reader.types().unwrap(), ["crm.deal", "crm.task", "social.reply"]);
    }

    #[test]
    fn only_web_links_are_opened() {
        let mut web = notification(1, "crm.deal", "web", None);
        web.link = Some("https://crm.example/deals/7".into());
        let mut script = notification(2, "crm.deal", "script", None);
        script.link = Some("javascript:alert(1)".into());
        let (_dir, reader) = mirror_with(vec![web, script, notification(3, "crm.deal", "none", None)]);
        assert_eq!(reader.link(1).unwrap().as_str(), "https://crm.example/deals/7");
        assert_eq!(reader.link(2).unwrap_err().code, IpcErrorCode::LinkRefused);
        assert_eq!(reader.link(3).unwrap_err().code, IpcErrorCode::LinkRefused);
        assert_eq!(reader.link(99).unwrap_err().code, IpcErrorCode::LinkRefused, "not in the mirror");
        for bad in ["file:///etc/passwd", "/deals/7", "http://", "data:text/html,<script>", " vbscript:x"] {
            assert_eq!(web_address(bad).unwrap_err().code, IpcErrorCode::LinkRefused, "{bad}");
        }
        assert!(web_address(" http://intranet/approve?id=1 ").is_ok());
    }
}
