-- A contact's required skills, when they are not just its topic (a callback needs `callback` and
-- the topic): kept so that a restart routes it exactly as before. NULL means "the topic alone".
ALTER TABLE contacts ADD COLUMN skills TEXT CHECK (skills IS NULL OR json_valid(skills));
