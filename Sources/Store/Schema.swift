import GRDB

/// The store's tables, created and upgraded in order; a migration is never edited once released.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE scans (
                    id TEXT PRIMARY KEY NOT NULL,
                    station TEXT NOT NULL,
                    stationScanId TEXT NOT NULL,
                    site TEXT, profile TEXT, pairKey TEXT, declaration TEXT,
                    source TEXT NOT NULL, format TEXT, rawLayout TEXT,
                    via TEXT NOT NULL, dicom TEXT,
                    path TEXT NOT NULL, byteCount INTEGER NOT NULL, receivedAt DOUBLE NOT NULL,
                    UNIQUE (station, stationScanId));
                CREATE INDEX scansBySite ON scans (site, receivedAt);
                CREATE INDEX scansByTime ON scans (receivedAt);
                CREATE INDEX scansByPairKey ON scans (pairKey);
                CREATE TABLE results (
                    scanId TEXT PRIMARY KEY NOT NULL REFERENCES scans(id),
                    verdict TEXT NOT NULL, json TEXT NOT NULL, completedAt DOUBLE NOT NULL, totalMs DOUBLE);
                CREATE INDEX resultsByVerdict ON results (verdict);
                CREATE TABLE findings (
                    scanId TEXT NOT NULL REFERENCES scans(id), ordinal INTEGER NOT NULL,
                    kind TEXT NOT NULL, label TEXT NOT NULL, confidence DOUBLE NOT NULL, threshold DOUBLE NOT NULL,
                    x INTEGER NOT NULL, y INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
                    model TEXT NOT NULL,
                    PRIMARY KEY (scanId, ordinal));
                CREATE TABLE modelTimings (
                    scanId TEXT NOT NULL REFERENCES scans(id), model TEXT NOT NULL, version TEXT NOT NULL, ms DOUBLE NOT NULL,
                    PRIMARY KEY (scanId, model));
                """)
        }
        migrator.registerMigration("v2-site-thresholds") { db in
            // The history is the source of truth: the current value of (site, model, class) is its
            // latest change; a restore is itself a change, so nothing is ever rewritten.
            try db.execute(sql: """
                CREATE TABLE thresholdChanges (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    site TEXT NOT NULL, model TEXT NOT NULL, label TEXT NOT NULL,
                    oldValue DOUBLE, newValue DOUBLE,
                    user TEXT NOT NULL, reason TEXT NOT NULL, at DOUBLE NOT NULL);
                CREATE INDEX thresholdChangesBySite ON thresholdChanges (site, model, label, id);
                """)
        }
        migrator.registerMigration("v3-reviews") { db in
            // Append-only: an analyst's later decision on the same finding (or scan) supersedes the
            // earlier one, which stays on record.
            try db.execute(sql: """
                CREATE TABLE reviews (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    scanId TEXT NOT NULL REFERENCES scans(id),
                    finding INTEGER,
                    decision TEXT NOT NULL, note TEXT, user TEXT NOT NULL, at DOUBLE NOT NULL);
                CREATE INDEX reviewsByScan ON reviews (scanId, finding, id);
                """)
        }
        migrator.registerMigration("v4-audit") { db in
            // Append-only, hash-chained: each entry's hash covers the previous one's, so an edited or
            // removed entry breaks the chain from there on (`vigil audit verify`). The triggers stop
            // ordinary writes from changing history; the chain catches anything that bypasses them.
            try db.execute(sql: """
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at DOUBLE NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
                    details TEXT NOT NULL, previousHash TEXT NOT NULL, hash TEXT NOT NULL);
                CREATE TRIGGER auditNoUpdate BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER auditNoDelete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """)
        }
        migrator.registerMigration("v6-accounts") { db in
            // Passwords as scrypt hashes, tokens as SHA-256 of the bearer string: neither can be
            // replayed from a copy of the database. Fingerprints: the models and policy files last
            // seen, so a change between two starts is audited.
            try db.execute(sql: """
                CREATE TABLE accounts (
                    name TEXT PRIMARY KEY NOT NULL, role TEXT NOT NULL, site TEXT,
                    passwordHash TEXT NOT NULL, createdAt DOUBLE NOT NULL);
                CREATE TABLE tokens (
                    tokenHash TEXT PRIMARY KEY NOT NULL,
                    account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
                    issuedAt DOUBLE NOT NULL, expiresAt DOUBLE NOT NULL);
                CREATE INDEX tokensByAccount ON tokens (account);
                CREATE TABLE fingerprints (
                    kind TEXT NOT NULL, item TEXT NOT NULL, fingerprint TEXT NOT NULL, PRIMARY KEY (kind, item));
                """)
        }
        migrator.registerMigration("v7-stations") { db in
            // Profiles one per line: a station names a handful, and they are read whole.
            try db.execute(sql: """
                CREATE TABLE stations (
                    name TEXT PRIMARY KEY NOT NULL, site TEXT NOT NULL, profiles TEXT NOT NULL, aeTitle TEXT UNIQUE,
                    registeredBy TEXT NOT NULL, registeredAt DOUBLE NOT NULL);
                """)
        }
        return migrator
    }
}
