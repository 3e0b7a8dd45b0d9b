-- Who may do what: a role on every API key (and, later, console user), and one audit log.

-- api_keys.role: hq_admin | hq_marketer | store | store_manager; store_id for the store roles.
-- Keys made before roles keep what they could do: HQ keys become hq_admin, store keys store.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'hq_admin';
ALTER TABLE api_keys ADD COLUMN store_id TEXT;
UPDATE api_keys SET role = 'store', store_id = substr(scope, 7) WHERE scope LIKE 'store:%';
ALTER TABLE api_keys DROP COLUMN scope;

-- Who did what to which object: campaign transitions, allowed cross-store actions and
-- head-office overrides. Campaign history moves here from campaign_events.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT,
    action      TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    store_id    TEXT,
    detail      TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO audit_log (at, actor, action, object_kind, object_id, detail)
    SELECT at, actor, action, 'campaign', campaign_id, detail FROM campaign_events ORDER BY id;
DROP TABLE campaign_events;
CREATE INDEX audit_log_object ON audit_log (object_kind, object_id, id);
CREATE INDEX audit_log_store ON audit_log (store_id, id);
