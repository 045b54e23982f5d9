//! The hub's search index, one user's words apart from another's.
//!
//! Every word is indexed as `u<user id>x<word>` (folded to lower case, diacritics removed), so a
//! search reads only the caller's own terms of the FTS5 index: its cost depends on the caller's
//! rows, never on how often a word appears in other users' notifications, and its timing tells
//! nothing about them. The words are made here rather than by SQLite's tokenizer because the
//! user id must be part of each term. Queries are built from the same words, quoted: no text of a
//! caller ever becomes FTS syntax.

use rusqlite::{params, Connection};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Longest `q`, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Most words in one `q`.
pub const MAX_QUERY_WORDS: usize = 16;

/// Why a search text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the search text is longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("the search text has more than {MAX_QUERY_WORDS} words")]
    TooManyWords,
    #[error("the search text holds a control character")]
    ControlCharacter,
}

/// The words of `text` as the index holds them: case folded, diacritics removed, split at
/// anything that is not a letter or digit.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(fold)
}

fn fold(word: &str) -> String {
    word.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

fn term(user_id: i64, word: &str) -> String {
    format!("u{user_id}x{word}")
}

/// What the index holds for one notification of `user_id`: each distinct word once.
pub fn indexed(user_id: i64, subject: &str, body: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    words(subject)
        .chain(words(body))
        .filter(|w| seen.insert(w.clone()))
        .map(|w| term(user_id, &w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The FTS5 query for `user_id`'s search `text`: every word must appear, the last one as a prefix
/// while it is being typed (no space after it). `None`: nothing to search for.
pub fn query(user_id: i64, text: &str) -> Result<Option<String>, QueryError> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    if text.chars().any(char::is_control) {
        return Err(QueryError::ControlCharacter);
    }
    let mut all: Vec<String> = words(text).collect();
    if all.len() > MAX_QUERY_WORDS {
        return Err(QueryError::TooManyWords);
    }
    let typing = text.ends_with(|c: char| c.is_alphanumeric());
    let Some(last) = all.pop() else { return Ok(None) };
    let mut seen = std::collections::HashSet::new();
    let mut parts: Vec<String> =
        all.into_iter().filter(|w| seen.insert(w.clone())).map(|w| format!("\"{}\"", term(user_id, &w))).collect();
    parts.push(if typing { format!("\"{}\"*", term(user_id, &last)) } else { format!("\"{}\"", term(user_id, &last)) });
    Ok(Some(parts.join(" ")))
}

/// Indexes notification `id` of `user_id`, in the transaction that stores it.
pub(super) fn index(conn: &Connection, id: i64, user_id: i64, subject: &str, body: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO notification_words (rowid, words) VALUES (?1, ?2)")?
        .execute(params![id, indexed(user_id, subject, body)])?;
    Ok(())
}

/// Indexes the rows migration 10 left waiting (every row of a hub made before it), once.
pub(super) fn index_pending(conn: &Connection) -> rusqlite::Result<()> {
    let pending: i64 = conn.query_row("SELECT count(*) FROM notification_words_pending", [], |r| r.get(0))?;
    if pending == 0 {
        return Ok(());
    }
    tracing::info!(rows = pending, "indexing notifications for search (once, after an upgrade)");
    let tx = conn.unchecked_transaction()?;
    {
        let mut rows = tx.prepare(
            "SELECT n.id, n.user_id, n.subject, n.body FROM notification_words_pending p
             JOIN notifications n ON n.id = p.id",
        )?;
        let mut rows = rows.query([])?;
        while let Some(row) = rows.next()? {
            index(&tx, row.get(0)?, row.get(1)?, &row.get::<_, String>(2)?, &row.get::<_, String>(3)?)?;
        }
    }
    tx.execute("DELETE FROM notification_words_pending", [])?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_kept_per_user() {
        assert_eq!(indexed(7, "Café-Bar", "café BAR, 42"), "u7xcafe u7xbar u7x42");
        assert_eq!(query(7, "CAFE ba").unwrap().as_deref(), Some("\"u7xcafe\" \"u7xba\"*"));
        assert_eq!(query(7, "cafe bar ").unwrap().as_deref(), Some("\"u7xcafe\" \"u7xbar\""), "a finished word");
        assert_eq!(query(7, "\" OR *").unwrap(), Some("\"u7xor\"".into()), "syntax is only a separator");
        assert_eq!(query(7, "  -- "), Ok(None));
    }

    #[test]
    fn a_user_id_and_a_word_never_run_together() {
        // User 1's word "2x3" and user 12's word "3" are different terms.
        assert_ne!(term(1, "2x3"), term(12, "3"));
    }

    #[test]
    fn long_repeated_or_odd_texts_are_refused_or_reduced() {
        assert_eq!(query(1, &"zebra ".repeat(5_000)), Err(QueryError::TooLong));
        assert_eq!(query(1, &"a ".repeat(20)), Err(QueryError::TooManyWords));
        assert_eq!(query(1, "a\0b"), Err(QueryError::ControlCharacter));
        assert_eq!(query(1, "zebra zebra zebra").unwrap().as_deref(), Some("\"u1xzebra\" \"u1xzebra\"*"));
    }
}
