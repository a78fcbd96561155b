-- Hand-written migration: statements the planner cannot derive from schema/, such as
-- functions and triggers. Keep schema/ describing the same objects, then run
-- `api migrate hash` after editing this file (never after it was applied anywhere).

-- Every change of a user's role or activity, and every removal, is announced on the
-- channel user_auth_state with the user's id. The same function and trigger are
-- described in schema/users.sql.
CREATE FUNCTION users_notify_auth_state() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('user_auth_state', OLD.id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_notify_auth_state
    AFTER UPDATE OF role, is_active OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_notify_auth_state();
