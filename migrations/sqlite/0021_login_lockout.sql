-- UAA's account lockout: failed password logins counted since the first
-- of the current window (epoch seconds), and until when the user may not
-- log in.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN first_failed_login_at INTEGER;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
