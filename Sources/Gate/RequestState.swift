/// Where a request stands in SOP 004. Each state names the step that is due next.
public enum RequestState: String, Sendable, Codable, CaseIterable {
    /// Step 1 done; step 2 (completeness check, Staf Administrasi) is due.
    case submitted
    /// Step 2 found it incomplete; step 3 (notice to complete, Staf Administrasi) is due.
    case incomplete
    /// Step 3 sent; step 4 (the helpdesk supplements) is due.
    case awaitingSupplement = "awaiting_supplement"
    /// Step 2 found it complete; step 5 (validity check, Admin PPE) is due.
    case complete
    /// Step 5 found it valid; step 6 (execute, Admin PPE) is due.
    case approved
    /// Step 5 found it invalid or incomplete; step 7 (rejection notice, Admin PPE) is due.
    case invalid
    /// Step 6 done; step 8 (notice to the helpdesk, Admin PPE) is due.
    case executed
    /// Step 7 or 8 sent; step 9 (archive, Staf Administrasi) is due.
    case rejected
    case notified
    /// Step 9 done; nothing changes any more.
    case archived

    /// The SOP step that is due in this state, nil when none is.
    public var stepDue: Int? {
        switch self {
        case .submitted: return 2
        case .incomplete: return 3
        case .awaitingSupplement: return 4
        case .complete: return 5
        case .approved: return 6
        case .invalid: return 7
        case .executed: return 8
        case .rejected, .notified: return 9
        case .archived: return nil
        }
    }
}

/// What a request asks for.
public struct RequestKinds: OptionSet, Sendable, Codable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let resetPassword = RequestKinds(rawValue: 1)
    public static let userIDInfo = RequestKinds(rawValue: 2)

    public var names: [String] {
        (contains(.resetPassword) ? ["reset_password"] : []) + (contains(.userIDInfo) ? ["user_id_info"] : [])
    }

    public init(names: [String]) throws(GateError) {
        var kinds: RequestKinds = []
        for name in names {
            switch name {
            case "reset_password": kinds.insert(.resetPassword)
            case "user_id_info": kinds.insert(.userIDInfo)
            default: throw .unknownKind(name)
            }
        }
        guard !kinds.isEmpty else { throw .noKind }
        self = kinds
    }
}

/// Supporting documents of a request file.
public enum DocumentType: String, Sendable, Codable, CaseIterable {
    case suratPermohonan = "surat_permohonan"
    case skPengangkatan = "sk_pengangkatan"
    case other
}
