/// Who an account belongs to: the two LPSE operator roles and the four kinds the Admin PPE manages.
public enum Role: String, Sendable, CaseIterable, Codable {
    case adminPPE = "admin_ppe"
    case stafAdministrasi = "staf_administrasi"
    case helpdesk
    case adminAgency = "admin_agency"
    case verifikator
    case auditor

    public init(parsing text: String) throws(AccountsError) {
        guard let role = Role(rawValue: text) else { throw .invalidField(.role, "must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))") }
        self = role
    }
}

/// Whether an account may log in at all.
public enum AccountStatus: String, Sendable, Codable {
    case active
    case disabled
}
