"""Notifications to citizens: SMS, e-mail and personal-account events, out of the outbox.

`sender` holds the actors that deliver what `hotline.store.outbox` holds; `providers` the
adapters they deliver through; `settings` the `[notify]` configuration; `pacing` the rate limit
and the retry backoff. The pure text modules (`segments`, `templates`) sit beside them.
"""
