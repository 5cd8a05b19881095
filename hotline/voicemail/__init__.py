"""Voicemail: recordings from the switch, called back within one working hour of the voice line.

Pure parts: `audio` (what a recording is, from its first bytes), `policy` (callback deadlines,
what follows an attempt, one-hour compliance per day). The shell: `recordings` (files on disk,
written durably), the use cases the API calls (`intake` takes a voicemail in, `views` reads one,
its audio and the figures, `callbacks` queues callback contacts and records their outcomes), the
`watcher` (the actor that queues due retries, repairs what a crash left half done and deletes old
recordings) and `settings` (`[voicemail]` of the configuration). Nothing is imported here, so that
`hotline.config` can load the settings without pulling in the services.
"""
