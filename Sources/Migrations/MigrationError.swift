import Postgres

/// Why migrations could not be applied or checked.
public enum MigrationError: Error, Sendable, CustomStringConvertible {
    case directoryUnreadable(path: String, reason: String)
    /// A `.sql` file in the migrations directory that is not `NNN_name.sql`.
    case invalidFileName(String)
    case duplicateVersion(Int, [String])
    /// An applied migration's file was edited afterwards: the database no longer matches the file.
    case checksumMismatch(version: Int, name: String, applied: String, file: String)
    /// The database has a migration that no file in the directory describes (newer code ran here).
    case unknownAppliedMigration(version: Int, name: String)
    /// A migration's SQL failed; nothing of it was applied.
    case failed(version: Int, name: String, PostgresError)
    /// The database has migrations still to apply (for `serve`, which does not migrate by itself).
    case behind(pending: [String])

    public var description: String {
        switch self {
        case .directoryUnreadable(let path, let reason):
            return "cannot read migrations at \(path): \(reason)"
        case .invalidFileName(let name):
            return "migration file \(name) is not named NNN_name.sql (lower-case letters, digits, _)"
        case .duplicateVersion(let version, let files):
            return "migration version \(version) appears more than once: \(files.joined(separator: ", "))"
        case .checksumMismatch(let version, let name, let applied, let file):
            return "migration \(version) (\(name)) was edited after it was applied: the database has checksum \(applied.prefix(12))…, the file \(file.prefix(12))…; add a new migration instead of editing an applied one"
        case .unknownAppliedMigration(let version, let name):
            return "the database has migration \(version) (\(name)) that no file here describes; is this an older build?"
        case .failed(let version, let name, let error):
            return "migration \(version) (\(name)) failed and was rolled back: \(error)"
        case .behind(let pending):
            return "the database is behind: \(pending.count) migration(s) pending (\(pending.joined(separator: ", "))); run `spse-accounts migrate`"
        }
    }
}
