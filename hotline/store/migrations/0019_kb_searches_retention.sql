-- Retention of what the knowledge base was asked (hotline/store/retention.py): a query typed
-- during a call can hold a citizen's name. Once `[retention] personal_data_days` old a search
-- keeps its time, hits, who asked and whether something was used after it, and loses its text.

CREATE INDEX kb_searches_personal ON kb_searches (at) WHERE query != '';
