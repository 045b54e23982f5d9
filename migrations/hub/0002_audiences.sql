-- herald-hub schema, step 2: the audiences a notification can be sent to (seed 001):
-- roles and organisations (a user may have several of each) and follows of an object.

CREATE TABLE user_roles (
    role    TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (role, user_id)
) WITHOUT ROWID;
CREATE INDEX user_roles_by_user ON user_roles (user_id);

CREATE TABLE organization_members (
    organization TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (organization, user_id)
) WITHOUT ROWID;
CREATE INDEX organization_members_by_user ON organization_members (user_id);

-- A user follows an object of another system, e.g. {type: "blog.post", id: "7f3c…"}.
CREATE TABLE follows (
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (object_type, object_id, user_id)
) WITHOUT ROWID;
CREATE INDEX follows_by_user ON follows (user_id);
