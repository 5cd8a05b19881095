"""Voicemail use cases, beside the other services: taking one in (`intake`), calling back and
recording each attempt's outcome (`callbacks`), and reading them (`views`).

They use the pure parts of `hotline.voicemail` (policy, audio sniffing, recordings, settings);
that package never imports these, except its watcher task, which runs the callbacks' repairs
and retries.
"""
