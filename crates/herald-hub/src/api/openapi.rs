//! `GET /v1/openapi.json`: OpenAPI 3, generated from the handlers' `#[utoipa::path]` annotations
//! and the wire types in herald-proto, so it cannot drift from the code.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    admin, changes, devices, email_links, inbox, ingest, interactions, live_events, notifications, preferences, session,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Herald hub", description = "Herald's notification server. Every error is `{code, message}`."),
    paths(
        notifications::send, notifications::preview, notifications::list, notifications::mark_read, notifications::read_from,
        notifications::read_all, notifications::delete_tagged, notifications::delete_one, notifications::get_one,
        interactions::confirm, interactions::answer,
        live_events::send, live_events::respond,
        changes::page, crate::feed::upgrade,
        preferences::schema, preferences::get, preferences::put, preferences::get_role, preferences::put_role,
        ingest::ingest,
        inbox::summary, session::sign_in, session::who, session::sign_out, devices::add, devices::list, devices::revoke, devices::revoke_current,
        admin::list_users, admin::add_user, admin::change_user, admin::remove_user, admin::grant_role, admin::revoke_role,
        admin::add_member, admin::remove_member, admin::follow, admin::unfollow, admin::add_token, admin::stats,
        email_links::unsubscribe_page, email_links::unsubscribe, email_links::answer_page, email_links::answer,
    ),
    components(schemas(herald_proto::FeedFrame, herald_proto::Change, herald_proto::ChangeKind)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct ApiDoc;

/// Every call takes `Authorization: Bearer <token>`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
