import Foundation

/// Where the temporary passwords of new accounts go.
public enum CredentialsDestination: Sendable, Equatable {
    /// Not given: allowed only when no account is new (a re-run) or for a dry run.
    case none
    /// A new file, mode 0600 (see `CredentialsFile`).
    case file(String)
    /// Handed back in the report, for the caller to show once (`--credentials-out -`, the HTTP API).
    case returned
}

/// A temporary password issued by a batch; only in a report whose destination was `.returned`.
public struct IssuedCredential: Sendable, Equatable, Codable, CustomStringConvertible {
    public let userID: String
    public let temporaryPassword: String
    public let expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", temporaryPassword = "temporary_password", expiresAt = "expires_at"
    }

    public var description: String { "IssuedCredential(\(userID), redacted)" }
}

/// What a run did (or, dry, would do), row by row.
public struct BatchReport: Sendable, Codable {
    public enum Outcome: String, Sendable, Codable {
        case created, unchanged
        case wouldCreate = "would_create"
    }

    public struct Row: Sendable, Codable, Equatable {
        public let line: Int
        public let userID: String
        public let outcome: Outcome
        enum CodingKeys: String, CodingKey { case line, userID = "user_id", outcome }
    }

    public let dryRun: Bool
    public let format: BatchFormat
    public let fileSHA256: String
    public let batchID: Int64?
    public let rows: [Row]
    public let created: Int
    public let unchanged: Int
    public let expiresAt: Date?
    public let credentialsOut: String?
    /// What happened to a credentials file an interrupted earlier run left behind, if any.
    public let recoveredCredentials: String?
    public let credentials: [IssuedCredential]?

    enum CodingKeys: String, CodingKey {
        case dryRun = "dry_run", format, fileSHA256 = "file_sha256", batchID = "batch_id", rows, created, unchanged
        case expiresAt = "expires_at", credentialsOut = "credentials_out", recoveredCredentials = "recovered_credentials"
        case credentials
    }

    /// The same report without the passwords, for summaries and logs.
    public var withoutCredentials: BatchReport {
        BatchReport(dryRun: dryRun, format: format, fileSHA256: fileSHA256, batchID: batchID, rows: rows, created: created,
                    unchanged: unchanged, expiresAt: expiresAt, credentialsOut: credentialsOut,
                    recoveredCredentials: recoveredCredentials, credentials: nil)
    }
}

/// How far a run is, for a progress bar or periodic lines.
public struct ProvisioningProgress: Sendable, Equatable {
    public enum Phase: String, Sendable {
        case hashing, writing
    }
    public let phase: Phase
    public let done: Int
    public let total: Int
}

/// Test seams at the points where a crash matters; production passes none.
public struct ProvisioningHooks: Sendable {
    /// Runs after the batch committed and before its credentials file gets its final name.
    public var afterCommit: (@Sendable () async throws -> Void)?

    public init(afterCommit: (@Sendable () async throws -> Void)? = nil) {
        self.afterCommit = afterCommit
    }
}
