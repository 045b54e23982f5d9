//! `GET /v1/schema`, `GET/PUT /v1/preferences` and the role defaults under `/v1/admin/roles`
//! (seed 001: "rows = notification kinds, columns = channels; defaults inherited from the role;
//! users override per row").

use axum::extract::{Path, State};
use axum::Json;
use herald_proto::{
    Channel, EmailDelivery, EmailModeOverride, EmailStatus, ErrorCode, FeedFrame, PreferenceOverride, PreferenceSource,
    Preferences, PreferencesUpdate, QuietHours, Schema, TypeEmail, TypePreferences,
};

use super::json::JsonBody;
use super::{AppState, Failure};
use crate::auth::{AuthAdmin, AuthUser, Authenticated};
use crate::preferences::{resolve, Switch};
use crate::store::{normalize_time, PreferencesChange, StoredPreferences};
use crate::types::{valid_kind, EmailMode, TypeRegistry};

const MAX_SWITCHES: usize = 1_000;
const MAX_QUIET_PERIODS: usize = 28;

#[utoipa::path(get, path = "/v1/schema", tag = "preferences", responses((status = 200, body = herald_proto::Schema), (status = 401, body = herald_proto::ApiError)))]
pub async fn schema(State(state): State<AppState>, _: Authenticated) -> Json<Schema> {
    Json(state.config.types.schema())
}

#[utoipa::path(get, path = "/v1/preferences", tag = "preferences", responses((status = 200, body = herald_proto::Preferences), (status = 401, body = herald_proto::ApiError)))]
pub async fn get(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<Preferences>, Failure> {
    let stored = state.store.preferences(user.id).await?;
    Ok(Json(effective(&state.config, stored)))
}

#[utoipa::path(put, path = "/v1/preferences", tag = "preferences", request_body = herald_proto::PreferencesUpdate, responses((status = 200, body = herald_proto::Preferences), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn put(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(update): JsonBody<PreferencesUpdate>,
) -> Result<Json<Preferences>, Failure> {
    let overrides = update.overrides.map(|o| switches(&o, &state.config.types, true)).transpose()?;
    let email_modes = update.email_modes.map(|m| email_modes(&m)).transpose()?;
    if let Some(Some(quiet)) = &update.quiet_hours {
        check_quiet_hours(quiet)?;
    }
    let dnd_until = match update.dnd_until {
        Some(Some(at)) => Some(Some(
            normalize_time(&at)
                .ok_or_else(|| Failure::new(ErrorCode::InvalidRequest, "'dnd_until' is not an RFC 3339 time"))?,
        )),
        other => other,
    };
    let quiet_changed = update.quiet_hours.is_some() || dnd_until.is_some();
    let change = PreferencesChange { overrides, email_modes, quiet_hours: update.quiet_hours, dnd_until };
    let now = state.store.set_preferences(user.id, change).await?;
    if quiet_changed {
        // Every open feed of the user learns it at once; one that connects later gets it after `hello`.
        state.live.push_frame(&[user.id], FeedFrame::DoNotDisturb(now), None);
    }
    let stored = state.store.preferences(user.id).await?;
    Ok(Json(effective(&state.config, stored)))
}

#[utoipa::path(get, path = "/v1/admin/roles/{role}/preferences", tag = "admin", params(("role" = String, Path)), responses((status = 200, body = Vec<herald_proto::PreferenceOverride>), (status = 403, body = herald_proto::ApiError)))]
pub async fn get_role(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path(role): Path<String>,
) -> Result<Json<Vec<PreferenceOverride>>, Failure> {
    let stored = state.store.role_preferences(&role).await?;
    Ok(Json(stored.into_iter().map(wire).collect()))
}

#[utoipa::path(put, path = "/v1/admin/roles/{role}/preferences", tag = "admin", params(("role" = String, Path)), request_body = Vec<herald_proto::PreferenceOverride>, responses((status = 200, body = Vec<herald_proto::PreferenceOverride>), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn put_role(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path(role): Path<String>,
    JsonBody(overrides): JsonBody<Vec<PreferenceOverride>>,
) -> Result<Json<Vec<PreferenceOverride>>, Failure> {
    // A role may switch a locked channel: it changes nothing, and refusing would only make admins
    // edit their list whenever the types file locks something new.
    let switches = switches(&overrides, &state.config.types, false)?;
    state.store.set_role_preferences(&role, switches).await?;
    let stored = state.store.role_preferences(&role).await?;
    Ok(Json(stored.into_iter().map(wire).collect()))
}

/// The matrix a settings page shows: every declared type, each channel with its state and its
/// mail mode; the user's address and whether this hub sends mail.
fn effective(config: &crate::HubConfig, stored: StoredPreferences) -> Preferences {
    let types = &config.types;
    let digest = config.mail.as_ref().map(|m| m.digest.clone()).unwrap_or_default();
    let own_zone = stored.do_not_disturb.quiet_hours.as_ref().map(|q| q.timezone.clone());
    let digest_timezone = own_zone
        .filter(|zone| jiff::tz::TimeZone::get(zone).is_ok())
        .unwrap_or_else(|| digest.zone.iana_name().unwrap_or("UTC").to_owned());
    Preferences {
        types: types
            .kinds()
            .map(|kind| TypePreferences {
                kind: kind.to_owned(),
                channels: resolve(types.rule_for(kind), kind, &stored.roles, &stored.user),
                email: Some(type_email(types.rule_for(kind).email, kind, &stored.email_modes)),
            })
            .collect(),
        overrides: stored.user.into_iter().map(wire).collect(),
        email_modes: stored
            .email_modes
            .iter()
            .map(|(key, mode)| EmailModeOverride {
                kind: key.clone(),
                mode: delivery(*mode),
                after_minutes: mode.after_minutes().map(herald_proto::Minutes),
            })
            .collect(),
        email: EmailStatus {
            address: stored.email,
            hub_sends_mail: config.mail.is_some(),
            digest_hour: digest.hour as u8,
            digest_timezone,
        },
        do_not_disturb: stored.do_not_disturb,
    }
}

/// `kind`'s mail mode for this user: their choice for the type, else its module, else the file's.
fn type_email(default: EmailMode, kind: &str, chosen: &[(String, EmailMode)]) -> TypeEmail {
    let (mode, source) = match EmailMode::chosen_for(chosen, kind) {
        Some(mode) => (mode, PreferenceSource::User),
        None => (default, PreferenceSource::Default),
    };
    TypeEmail { mode: delivery(mode), after_minutes: mode.after_minutes().map(herald_proto::Minutes), source }
}

fn delivery(mode: EmailMode) -> EmailDelivery {
    match mode {
        EmailMode::Immediate => EmailDelivery::Immediate,
        EmailMode::Unread { .. } => EmailDelivery::Unread,
        EmailMode::Digest => EmailDelivery::Digest,
    }
}

/// Checks email modes from a request: each a type or module once, `after_minutes` with
/// `unread` only and within a week.
fn email_modes(modes: &[EmailModeOverride]) -> Result<Vec<(String, EmailMode)>, Failure> {
    let invalid = |message: String| Failure::new(ErrorCode::InvalidRequest, message);
    if modes.len() > MAX_SWITCHES {
        return Err(invalid(format!("at most {MAX_SWITCHES} email modes")));
    }
    let mut out: Vec<(String, EmailMode)> = Vec::with_capacity(modes.len());
    for m in modes {
        if !valid_kind(&m.kind) {
            return Err(invalid(format!("'type' {:?} is not a type or module name", m.kind)));
        }
        if out.iter().any(|(key, _)| *key == m.kind) {
            return Err(invalid(format!("{} has two email modes", m.kind)));
        }
        let name = match m.mode {
            EmailDelivery::Immediate => "immediate",
            EmailDelivery::Unread => "unread",
            EmailDelivery::Digest => "digest",
        };
        let mode = EmailMode::from_stored(name, m.after_minutes.map(|m| m.0))
            .map_err(|why| invalid(format!("{}: {why}", m.kind)))?;
        out.push((m.kind.clone(), mode));
    }
    Ok(out)
}

fn wire(switch: Switch) -> PreferenceOverride {
    PreferenceOverride { kind: switch.key, channel: switch.channel, enabled: switch.enabled }
}

/// Checks switches from a request. `strict`: turning off what cannot be turned off is an error
/// (a user should learn that their click did nothing).
fn switches(overrides: &[PreferenceOverride], types: &TypeRegistry, strict: bool) -> Result<Vec<Switch>, Failure> {
    let invalid = |message: String| Failure::new(ErrorCode::InvalidRequest, message);
    if overrides.len() > MAX_SWITCHES {
        return Err(invalid(format!("at most {MAX_SWITCHES} switches")));
    }
    let mut out: Vec<Switch> = Vec::with_capacity(overrides.len());
    for o in overrides {
        if !valid_kind(&o.kind) {
            return Err(invalid(format!("'type' {:?} is not a type or module name", o.kind)));
        }
        if out.iter().any(|s| s.key == o.kind && s.channel == o.channel) {
            return Err(invalid(format!("{} / {} is switched twice", o.kind, o.channel.as_str())));
        }
        if strict && !o.enabled {
            if o.channel == Channel::Inbox {
                return Err(invalid("the inbox channel is always on".into()));
            }
            // A full type (known, or unknown and so under the defaults) with that channel locked.
            let is_type = types.is_known(&o.kind) || o.kind.contains('.');
            if is_type && types.rule_for(&o.kind).locked.contains(&o.channel) {
                return Err(invalid(format!("{} cannot be turned off for {}", o.channel.as_str(), o.kind)));
            }
        }
        out.push(Switch { key: o.kind.clone(), channel: o.channel, enabled: o.enabled });
    }
    Ok(out)
}

fn check_quiet_hours(quiet: &QuietHours) -> Result<(), Failure> {
    let invalid = |message: String| Failure::new(ErrorCode::InvalidRequest, message);
    if jiff::tz::TimeZone::get(&quiet.timezone).is_err() {
        return Err(invalid(format!("{:?} is not an IANA time zone (e.g. Europe/Berlin)", quiet.timezone)));
    }
    if quiet.periods.len() > MAX_QUIET_PERIODS {
        return Err(invalid(format!("at most {MAX_QUIET_PERIODS} quiet periods")));
    }
    for (i, period) in quiet.periods.iter().enumerate() {
        if period.days.is_empty() {
            return Err(invalid(format!("quiet period {i} names no day")));
        }
        let (Some(from), Some(to)) = (minutes(&period.from), minutes(&period.to)) else {
            return Err(invalid(format!("quiet period {i}: 'from' and 'to' are HH:MM, 00:00–23:59")));
        };
        if from == to {
            return Err(invalid(format!("quiet period {i} starts and ends at the same time")));
        }
    }
    Ok(())
}

/// `HH:MM` as minutes after midnight.
fn minutes(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_are_strict() {
        assert_eq!(minutes("07:30"), Some(450));
        assert_eq!(minutes("23:59"), Some(1439));
        for bad in ["24:00", "7:30", "07:60", "0730", "ab:cd", ""] {
            assert_eq!(minutes(bad), None, "{bad}");
        }
    }
}
