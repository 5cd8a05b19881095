-- Retention of the feedback's free text (hotline/store/retention.py, as migration 0007 for the
-- other tables): the comments still holding their text, by when they were given. A comment may
-- name the citizen or carry a phone; once `[retention] personal_data_days` old it keeps its
-- themes, topic, operator and time, and loses its text and the stems taken from it.

CREATE INDEX feedback_personal ON feedback (at) WHERE text != '';
