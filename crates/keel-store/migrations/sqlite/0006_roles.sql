-- Custom roles: a name, a label and the role's definition (grants per CRM entity and
-- field rules) as JSON text in the shape of keel_domain::policy::RoleDef. Built-in roles
-- (admin, manager, rep) live in code and are not stored. users.role holds a role name.
CREATE TABLE roles (
    name TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX users_role ON users (role);
