-- herald-hub schema, step 10: the search index holds each user's words apart (see
-- store/words.rs), so a search reads only the caller's own terms. The old index matched every
-- user's rows and filtered after: one user's search cost, and its timing, depended on the rest.

DROP TRIGGER notifications_fts_insert;
DROP TRIGGER notifications_fts_delete;
DROP TRIGGER notifications_fts_update;
DROP TABLE notifications_fts;

-- `words`: `u<user id>x<word>` for each distinct word of subject and body, written by the store
-- with the row (a subject or body never changes after that). Contentless: the text is in
-- `notifications` already. The store has split and folded the words: the `ascii` tokenizer
-- splits only at the spaces between them (no letter of a word is ASCII punctuation), where
-- `unicode61` would split some words the store keeps whole.
CREATE VIRTUAL TABLE notification_words USING fts5(
    words,
    content = '', contentless_delete = 1,
    tokenize = 'ascii'
);
CREATE TRIGGER notification_words_delete AFTER DELETE ON notifications BEGIN
    DELETE FROM notification_words WHERE rowid = old.id;
END;

-- Rows the store has still to index: every existing one, once, when the hub first opens this
-- database (the words are made in Rust, which SQL here cannot call).
CREATE TABLE notification_words_pending (id INTEGER PRIMARY KEY);
INSERT INTO notification_words_pending (id) SELECT id FROM notifications;
