-- Retention of personal data (hotline/store/retention.py): for each table, a partial index of
-- the finished rows that still hold a phone, a name or a text, by the time they finished. A
-- sweep reads only rows it is about to scrub; a scrubbed row leaves its index. Each WHERE is
-- repeated word for word in retention.py's queries (SQLite matches partial indexes by terms).

CREATE INDEX contacts_personal ON contacts (ended_at)
    WHERE (phone IS NOT NULL OR outcome IS NOT NULL);

CREATE INDEX tickets_personal ON tickets (updated_at)
    WHERE status = 'completed' AND phone != '';

CREATE INDEX messages_personal ON messages (updated_at)
    WHERE state IN ('sent', 'delivered', 'failed') AND recipient != '';

CREATE INDEX voicemails_personal ON voicemails (updated_at)
    WHERE state IN ('completed', 'closed') AND phone != '';

CREATE INDEX identity_checks_personal ON identity_checks (at)
    WHERE phone IS NOT NULL;
