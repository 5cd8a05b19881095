-- The acceptance and the breach of a callback contact reach its voicemail through the journal's
-- projection (`hotline.store.events.append_router_events`), in the same transaction as the
-- contact's events, as the two triggers of 0005 did: router events become rows in one place.
-- Nothing to copy: the triggers kept the rows up to date until now, the projection from now on.

DROP TRIGGER IF EXISTS voicemail_callback_accepted;
DROP TRIGGER IF EXISTS voicemail_callback_breached;
