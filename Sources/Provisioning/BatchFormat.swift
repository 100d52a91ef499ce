/// How a provisioning file is written: CSV with a header row, or one JSON object per line.
public enum BatchFormat: String, Sendable, Codable, CaseIterable {
    case csv
    case jsonl

    /// The format a file name suggests (`.csv`, `.jsonl`, `.ndjson`), if any.
    public init?(fileName: String) {
        let lowered = fileName.lowercased()
        if lowered.hasSuffix(".csv") {
            self = .csv
        } else if lowered.hasSuffix(".jsonl") || lowered.hasSuffix(".ndjson") {
            self = .jsonl
        } else {
            return nil
        }
    }
}

/// The columns of a provisioning file, named as in the header and the JSON keys.
public enum BatchColumn: String, Sendable, Codable, CaseIterable {
    case userID = "user_id"
    case role
    case fullName = "full_name"
    case nip
    case email
    case agency
}

/// One row of the file as written, before validation. `line` is where the row starts (1-based,
/// the header being line 1 in CSV), so an operator can find it in an editor.
public struct BatchRecord: Sendable, Equatable {
    public let line: Int
    public let values: [BatchColumn: String]
}
