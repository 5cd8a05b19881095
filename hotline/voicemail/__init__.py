"""Voicemail: recordings from the switch, called back within one working hour of the voice line.

Pure parts: `audio` (what a recording is, from its first bytes), `policy` (callback deadlines,
what follows an attempt, one-hour compliance per day). The shell: `recordings` (files on disk,
written durably), the `watcher` (the actor that queues due retries, repairs what a crash left half
done and deletes old recordings), `wakeup` and `settings` (`[voicemail]` of the configuration).
The use cases the API calls live with the other services, in `hotline.services.voicemails`: they
import from here, and nothing here imports them but the watcher, which runs them. Nothing is
imported in this file, so that `hotline.config` can load the settings without the services.
"""
