/// What a role may do outside the SOP's steps (whose roles are `RequestStateMachine`'s): the one
/// table every operation consults, so HTTP, the CLI and the console cannot disagree.
public enum Capability: String, Sendable, CaseIterable {
    case lookUpAccounts = "look up accounts"
    case showAccounts = "show accounts"
    case createAccounts = "create accounts"
    case changeAccountStatus = "disable or enable accounts"
    case unlockAccounts = "unlock accounts"
    /// A forgotten operator password (admin_ppe, staf_administrasi): the SOP gate is for managed accounts.
    case resetOperatorPasswords = "reset an operator's password"
    case provisionAccounts = "provision accounts"
    /// Step 1: Staf Administrasi for a paper file, a managed user for themself.
    case submitRequests = "submit requests"
    /// The queue, any request and its documents, the archive export.
    case readAllRequests = "read every request"
    case readSLAReports = "read SLA reports"
    /// The audit rows, their export and the chain's verification.
    case readAudit = "read the audit trail"
    /// Step 6's limit per priority.
    case editStandards = "edit the SOP's standards"
    /// The retention purge of archived documents, and exporting a file before it is archived.
    case manageArchive = "manage the archive"
    /// A lost authenticator, reset by another admin_ppe.
    case resetSecondFactors = "reset an operator's second factor"
    /// Registering the applications that sign their users in here (OpenID Connect clients).
    case manageApplications = "manage the applications that sign in with spse-accounts"
}

public enum AccessPolicy {
    static let operators: Set<Role> = [.adminPPE, .stafAdministrasi]
    /// The accounts the Admin PPE manages; they file requests for themselves.
    public static let managedRoles: Set<Role> = [.helpdesk, .adminAgency, .verifikator, .auditor]

    public static func roles(for capability: Capability) -> Set<Role> {
        switch capability {
        case .lookUpAccounts, .showAccounts, .readAllRequests: return operators
        case .createAccounts, .changeAccountStatus, .unlockAccounts, .provisionAccounts, .resetOperatorPasswords, .editStandards, .manageArchive,
             .resetSecondFactors, .manageApplications:
            return [.adminPPE]
        case .submitRequests: return managedRoles.union([.stafAdministrasi])
        case .readSLAReports: return operators.union([.auditor])
        case .readAudit: return [.adminPPE, .auditor]
        }
    }

    public static func allows(_ role: Role, _ capability: Capability) -> Bool { roles(for: capability).contains(role) }

    /// Refuses a role that may not; the first thing every operation does after authentication.
    public static func require(_ role: Role, _ capability: Capability) throws(AccountsError) {
        guard allows(role, capability) else { throw .notPermitted(role: role, operation: capability.rawValue) }
    }
}
