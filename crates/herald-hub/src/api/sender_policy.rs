//! What a user may send (apps and admins may send anything): a personal notification, of a
//! type declared `personal` in types.toml, at most `high` priority, to named users; a whole
//! role, organisation or the followers of an object only with the built-in role `composer`
//! (seed 002's "Create notification" for one-time notices to groups).

use herald_proto::{Audience, ErrorCode, Priority, SendRequest};

use super::{AppState, Failure};
use crate::store::User;

/// The built-in role whose holders may send to groups.
pub const COMPOSER: &str = "composer";

pub(super) async fn check(state: &AppState, user: &User, request: &SendRequest) -> Result<(), Failure> {
    let forbidden = |message: String| Err(Failure::new(ErrorCode::Forbidden, message));
    if request.priority == Priority::Critical {
        return forbidden(
            "a user's notification is at most 'high' priority; 'critical' (which breaks through do-not-disturb) comes only from apps and admins".into(),
        );
    }
    let types = &state.config.types;
    if !types.is_personal(&request.kind) {
        return forbidden(format!(
            "type {:?} comes only from apps and admins; a user may send {}",
            request.kind,
            types.personal_kinds().iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ")
        ));
    }
    let group = match &request.to {
        Audience::Role(_) => Some("a role"),
        Audience::Organization(_) => Some("an organisation"),
        Audience::FollowersOf(_) => Some("the followers of an object"),
        Audience::User(_) | Audience::Users(_) | Audience::Everyone(_) => None,
    };
    if let Some(group) = group {
        if !state.store.has_role(user.id, COMPOSER).await? {
            return forbidden(format!(
                "sending to {group} needs the role '{COMPOSER}' (herald-hub role grant {COMPOSER} {}); anyone may send to named users",
                user.name
            ));
        }
    }
    Ok(())
}
