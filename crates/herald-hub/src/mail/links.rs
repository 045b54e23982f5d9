//! Signed links in mail. A mail is read outside any signed-in session, so what its links may do
//! is carried in the link itself and signed with the hub's mail key (HMAC-SHA-256):
//! - [`Link::Unsubscribe`]: one-click unsubscribe (RFC 8058) from one type's mail, for one user;
//! - [`Link::Answer`]: the answer page of one confirm-type notification, for its recipient.
//!
//! A token is `payload.signature`, both base64url; the payload names its purpose, so a token
//! of one kind is never taken for the other. Altering any character breaks the signature.
//! Tokens do not expire: an unsubscribe link in a year-old mail must still work (RFC 8058), and
//! an answer link is bounded by the notification (answered once, deleted, expired).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a signed link lets its holder do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Stop mail of these types to user `user_id` (one for a notification's mail; those it
    /// lists for a digest).
    Unsubscribe { user_id: i64, kinds: Vec<String> },
    /// Stop mail of the types digest mail `mail_id` of user `user_id` lists (the store keeps
    /// them: a digest may list more types than fit a header line).
    UnsubscribeDigest { user_id: i64, mail_id: i64 },
    /// Answer notification `notification_id` of user `user_id`.
    Answer { user_id: i64, notification_id: i64 },
}

/// The longest token accepted (a digest's link names each type it lists).
const MAX_TOKEN: usize = 8192;

impl Link {
    fn payload(&self) -> String {
        match self {
            // Type names have no commas (`types::valid_kind`).
            Link::Unsubscribe { user_id, kinds } => format!("unsubscribe:{user_id}:{}", kinds.join(",")),
            Link::UnsubscribeDigest { user_id, mail_id } => format!("unsubscribe-digest:{user_id}:{mail_id}"),
            Link::Answer { user_id, notification_id } => format!("answer:{user_id}:{notification_id}"),
        }
    }

    fn from_payload(payload: &str) -> Option<Self> {
        let mut parts = payload.splitn(3, ':');
        let (purpose, user_id, rest) = (parts.next()?, parts.next()?.parse().ok()?, parts.next()?);
        match purpose {
            "unsubscribe" if !rest.is_empty() => {
                Some(Link::Unsubscribe { user_id, kinds: rest.split(',').map(str::to_owned).collect() })
            }
            "unsubscribe-digest" => Some(Link::UnsubscribeDigest { user_id, mail_id: rest.parse().ok()? }),
            "answer" => Some(Link::Answer { user_id, notification_id: rest.parse().ok()? }),
            _ => None,
        }
    }

    /// This link as a token for a URL path (base64url: no character needs escaping).
    pub fn sign(&self, key: &[u8]) -> String {
        let payload = self.payload();
        let signature = mac(key).chain_update(payload.as_bytes()).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(signature))
    }

    /// The link `token` stands for, if this hub signed it and nothing in it was changed.
    pub fn verify(key: &[u8], token: &str) -> Option<Self> {
        if token.len() > MAX_TOKEN {
            return None;
        }
        let (payload, signature) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        // Compared in constant time: the time taken tells nothing of how much of it was right.
        mac(key).chain_update(&payload).verify_slice(&signature).ok()?;
        Self::from_payload(std::str::from_utf8(&payload).ok()?)
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_signed_link_reads_back_as_itself() {
        for link in [
            Link::Unsubscribe { user_id: 7, kinds: vec!["task.assigned".into()] },
            Link::Unsubscribe { user_id: 7, kinds: vec!["task.assigned".into(), "community.comment".into()] },
            Link::UnsubscribeDigest { user_id: 7, mail_id: 31 },
            Link::Answer { user_id: 12, notification_id: 99 },
        ] {
            let token = link.sign(KEY);
            assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "{token}");
            assert_eq!(Link::verify(KEY, &token), Some(link));
        }
    }

    #[test]
    fn an_altered_forged_or_foreign_token_is_refused() {
        let token = Link::Unsubscribe { user_id: 7, kinds: vec!["task.assigned".into()] }.sign(KEY);
        assert_eq!(Link::verify(b"another hub's key", &token), None);
        // Another user's id with the first one's signature.
        let (_, signature) = token.split_once('.').unwrap();
        let forged = format!("{}.{signature}", URL_SAFE_NO_PAD.encode("unsubscribe:8:task.assigned"));
        assert_eq!(Link::verify(KEY, &forged), None);
        // Every single character changed, in turn.
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            if altered != token {
                assert_eq!(Link::verify(KEY, &altered), None, "{altered}");
            }
        }
        for junk in ["", ".", "abc", "a.b.c", &"x".repeat(10_000)] {
            assert_eq!(Link::verify(KEY, junk), None, "{junk}");
        }
    }

    #[test]
    fn an_unsubscribe_token_is_no_answer_token() {
        // The same numbers under the other purpose sign differently.
        let unsubscribe = Link::Unsubscribe { user_id: 12, kinds: vec!["99".into()] }.sign(KEY);
        assert!(matches!(Link::verify(KEY, &unsubscribe), Some(Link::Unsubscribe { .. })));
        let answer = Link::Answer { user_id: 12, notification_id: 99 }.sign(KEY);
        assert_ne!(unsubscribe, answer);
    }
}
