//! The inbox filters, as SQL: the hub's history search and the desktop mirror's search take the
//! same ones over the same columns, so they are written here once.

use rusqlite::types::ToSql;

use crate::fts_query;

/// Every field narrows the result; `None` leaves it open.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filters<'a> {
    /// Only unread (true) or only read (false).
    pub unread: Option<bool>,
    /// Exact type, e.g. `social.reply`.
    pub kind: Option<&'a str>,
    /// Every type of a module, e.g. `social`.
    pub module: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub sub_tag: Option<&'a str>,
    /// Created at or after / before (RFC 3339 UTC, as stored).
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    /// Words that must all appear in subject or body (see [`fts_query`]); needs a
    /// `notifications_fts` table over the rows.
    pub text: Option<&'a str>,
    /// The caller knows the module is a good part of the rows: walking them newest first and
    /// skipping the others finds a page sooner than the type index, whose range of several
    /// types needs a sort of every match (SQLite cannot know this and picks the sort).
    pub module_is_common: bool,
}

/// Appends an ` AND …` clause to `sql` for each filter set, numbering its parameters after those
/// already in `args`.
pub fn append(filters: &Filters<'_>, sql: &mut String, args: &mut Vec<Box<dyn ToSql>>) {
    // A literal, not a parameter: only then can SQLite use an index made `WHERE read = 0`.
    match filters.unread {
        Some(true) => sql.push_str(" AND read = 0"),
        Some(false) => sql.push_str(" AND read = 1"),
        None => {}
    }
    let mut add = |clause: &str, value: Box<dyn ToSql>| {
        args.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(kind) = filters.kind {
        add(" AND type = ?", Box::new(kind.to_owned()));
    }
    if let Some(module) = filters.module {
        // A range, so a type index serves it: `social.` ≤ type < `social/` ('/' follows '.').
        // `+type` keeps SQLite off that index.
        let clause = if filters.module_is_common {
            " AND (+type = ? OR (+type >= ? || '.' AND +type < ? || '/'))"
        } else {
            " AND (type = ? OR (type >= ? || '.' AND type < ? || '/'))"
        };
        add(clause, Box::new(module.to_owned()));
    }
    if let Some(tag) = filters.tag {
        add(" AND tag = ?", Box::new(tag.to_owned()));
    }
    if let Some(sub_tag) = filters.sub_tag {
        add(" AND sub_tag = ?", Box::new(sub_tag.to_owned()));
    }
    if let Some(from) = filters.from {
        add(" AND created_at >= ?", Box::new(from.to_owned()));
    }
    if let Some(to) = filters.to {
        add(" AND created_at < ?", Box::new(to.to_owned()));
    }
    if let Some(words) = filters.text.and_then(fts_query) {
        add(" AND id IN (SELECT rowid FROM notifications_fts WHERE notifications_fts MATCH ?)", Box::new(words));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_never_becomes_fts_syntax() {
        assert_eq!(fts_query("purchase ord").as_deref(), Some("\"purchase\" \"ord\"*"));
        assert_eq!(fts_query("a\" OR b").as_deref(), Some("\"a\"\"\" \"OR\" \"b\"*"));
        assert_eq!(fts_query("purchase order ").as_deref(), Some("\"purchase\" \"order\""), "a finished word");
        assert_eq!(fts_query("   "), None);
    }

    #[test]
    fn each_filter_is_one_numbered_clause() {
        let (mut sql, mut args): (String, Vec<Box<dyn ToSql>>) = ("WHERE id < ?1".into(), vec![Box::new(7)]);
        append(&Filters { unread: Some(true), module: Some("social"), ..Filters::default() }, &mut sql, &mut args);
        assert_eq!(sql, "WHERE id < ?1 AND read = 0 AND (type = ?2 OR (type >= ?2 || '.' AND type < ?2 || '/'))");
        assert_eq!(args.len(), 2);
    }
}
