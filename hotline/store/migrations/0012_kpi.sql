-- The line's figures, counted as the journal writes the events (hotline/store/rollups.py): the
-- facts of the KPI core (hotline/kpi) added into a Tally's counters per minute (kept two days,
-- for the live view's last quarter hour), per `[kpi] interval_min` and per local day (kept), each
-- twice as `Buckets` counts them: by queue (topic, priority class, channel) and by operator.
-- Written in the journal's transaction, so a fact is on disk exactly when its event is.

-- What a restart gives back to the tracker: when an open contact was answered, since when an
-- operator is in its state, and the group of the contact it ended last (its wrap-up's).
ALTER TABLE contacts ADD COLUMN answered_at REAL;
ALTER TABLE operators ADD COLUMN state_since REAL;
ALTER TABLE operators ADD COLUMN last_topic TEXT;
ALTER TABLE operators ADD COLUMN last_priority TEXT;
ALTER TABLE operators ADD COLUMN last_channel TEXT;

UPDATE contacts
   SET answered_at = (SELECT min(e.at) FROM contact_events e
                       WHERE e.contact_id = contacts.id AND e.kind = 'accepted')
 WHERE operator_id IS NOT NULL;

-- Counters of one Tally (hotline.kpi.tally): met_i / abw_i are the answered / abandoned within
-- the i-th service-level threshold (at most six are configured); seconds are REAL.
-- `grain`: minute | interval | day; `start`: the period's first instant (epoch seconds; a day
-- starts at local midnight of the line's zone). The queue side's deadline counts are those of its
-- own priority class; the operator side keeps them per class in kpi_operator_deadline.
CREATE TABLE kpi_queue (
    grain           TEXT NOT NULL CHECK (grain IN ('minute', 'interval', 'day')),
    start           INTEGER NOT NULL,
    topic           TEXT NOT NULL,
    priority        TEXT NOT NULL,
    channel         TEXT NOT NULL,
    offered         INTEGER NOT NULL,
    answered        INTEGER NOT NULL,
    abandoned       INTEGER NOT NULL,
    short_abandoned INTEGER NOT NULL,
    expired         INTEGER NOT NULL,
    wait_sum        REAL NOT NULL,
    wait_max        REAL NOT NULL,
    met_0 INTEGER NOT NULL, met_1 INTEGER NOT NULL, met_2 INTEGER NOT NULL,
    met_3 INTEGER NOT NULL, met_4 INTEGER NOT NULL, met_5 INTEGER NOT NULL,
    abw_0 INTEGER NOT NULL, abw_1 INTEGER NOT NULL, abw_2 INTEGER NOT NULL,
    abw_3 INTEGER NOT NULL, abw_4 INTEGER NOT NULL, abw_5 INTEGER NOT NULL,
    handled         INTEGER NOT NULL,
    talk_sum        REAL NOT NULL,
    wrap_sum        REAL NOT NULL,
    busy_s          REAL NOT NULL,
    open_s          REAL NOT NULL,
    vm_met          INTEGER NOT NULL,
    vm_due          INTEGER NOT NULL,
    deadline_met    INTEGER NOT NULL,
    deadline_due    INTEGER NOT NULL,
    PRIMARY KEY (grain, start, topic, priority, channel)
) STRICT, WITHOUT ROWID;

CREATE TABLE kpi_operator (
    grain           TEXT NOT NULL CHECK (grain IN ('minute', 'interval', 'day')),
    start           INTEGER NOT NULL,
    operator_id     TEXT NOT NULL,
    offered         INTEGER NOT NULL,
    answered        INTEGER NOT NULL,
    abandoned       INTEGER NOT NULL,
    short_abandoned INTEGER NOT NULL,
    expired         INTEGER NOT NULL,
    wait_sum        REAL NOT NULL,
    wait_max        REAL NOT NULL,
    met_0 INTEGER NOT NULL, met_1 INTEGER NOT NULL, met_2 INTEGER NOT NULL,
    met_3 INTEGER NOT NULL, met_4 INTEGER NOT NULL, met_5 INTEGER NOT NULL,
    abw_0 INTEGER NOT NULL, abw_1 INTEGER NOT NULL, abw_2 INTEGER NOT NULL,
    abw_3 INTEGER NOT NULL, abw_4 INTEGER NOT NULL, abw_5 INTEGER NOT NULL,
    handled         INTEGER NOT NULL,
    talk_sum        REAL NOT NULL,
    wrap_sum        REAL NOT NULL,
    busy_s          REAL NOT NULL,
    open_s          REAL NOT NULL,
    vm_met          INTEGER NOT NULL,
    vm_due          INTEGER NOT NULL,
    PRIMARY KEY (grain, start, operator_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE kpi_operator_deadline (
    grain       TEXT NOT NULL CHECK (grain IN ('minute', 'interval', 'day')),
    start       INTEGER NOT NULL,
    operator_id TEXT NOT NULL,
    class       TEXT NOT NULL,
    met         INTEGER NOT NULL,
    due         INTEGER NOT NULL,
    PRIMARY KEY (grain, start, operator_id, class)
) STRICT, WITHOUT ROWID;

-- The rules the rollups were counted with. None yet: the first start counts them from the
-- event tables (hotline/store/kpi_rebuild.py), and so does a start with other thresholds, another
-- short abandon, interval or time zone.
CREATE TABLE kpi_counted_with (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    thresholds      TEXT NOT NULL CHECK (json_valid(thresholds)),
    short_abandon_s REAL NOT NULL,
    interval_s      INTEGER NOT NULL,
    timezone        TEXT NOT NULL
) STRICT;
