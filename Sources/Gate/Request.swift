import Accounts
import Foundation
import Inputs

/// How the request file reached the LPSE.
public enum SubmissionChannel: String, Sendable, Codable {
    case hardcopy
    case email
    /// Filed by the requester themself through the public door, with a tracking code.
    case online
}

/// SPSE's problem-priority levels; a setting per request.
public enum Priority: String, Sendable, Codable {
    case low, normal, high, urgent
}

/// What the requester knows of the account concerned; resolved to one account at step 5.
public struct SubjectHint: Sendable, Codable, Equatable {
    public var userID: String?
    public var fullName: String?
    public var nip: String?
    public var email: String?
    public var agency: String?

    public init(userID: String? = nil, fullName: String? = nil, nip: String? = nil, email: String? = nil, agency: String? = nil) {
        self.userID = userID
        self.fullName = fullName
        self.nip = nip
        self.email = email
        self.agency = agency
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", fullName = "full_name", nip, email, agency
    }

    /// The hint with each given field checked by its own rule (a NIP must be a NIP even when it
    /// is only a hint) and blanks dropped; at least one field must remain.
    public func validated() throws -> SubjectHint {
        func checked(_ text: String?, _ field: String, maxLength: Int = 200, _ rule: (String) throws -> String) throws -> String? {
            guard let text = try FreeText.optional(text, field: "subject.\(field)", maxLength: maxLength)?.value else { return nil }
            do { return try rule(text) } catch let error as AccountsError {
                if case .invalidField(_, let reason) = error { throw InputError(field: "subject.\(field)", reason: reason) }
                throw error
            }
        }
        let hint = SubjectHint(
            userID: try checked(userID, "user_id") { try UserID($0).value }, fullName: try checked(fullName, "full_name") { $0 },
            nip: try checked(nip, "nip") { try NIP($0).value }, email: try checked(email, "email", maxLength: 254) { try EmailAddress($0).value },
            agency: try checked(agency, "agency") { $0 })
        guard [hint.userID, hint.fullName, hint.nip, hint.email].contains(where: { $0 != nil }) else {
            throw InputError(field: "subject", reason: "say what is known of the account: user ID, name, NIP or e-mail")
        }
        return hint
    }
}

/// A request as submitted at step 1.
public struct NewRequest: Sendable {
    public var kinds: RequestKinds
    public var subject: SubjectHint
    public var subjectRole: Role
    public var requesterName: String
    public var requesterContact: String
    public var channel: SubmissionChannel
    public var priority: Priority

    /// From what a door received, every field checked and named as the API names it: free text
    /// bounded and free of control characters, the hint's user ID, NIP and e-mail by their rules.
    public init(kinds: [String], subject: SubjectHint, subjectRole: String?, requesterName: String, requesterContact: String,
                channel: String, priority: String?) throws {
        do { self.kinds = try RequestKinds(names: kinds) } catch { throw InputError(field: "kinds", reason: error.description) }
        self.subject = try subject.validated()
        guard let role = Role(rawValue: subjectRole ?? Role.helpdesk.rawValue), AccessPolicy.managedRoles.contains(role) else {
            throw InputError(field: "subject_role", reason: "must be helpdesk, admin_agency, verifikator or auditor")
        }
        self.subjectRole = role
        self.requesterName = try FreeText(requesterName, field: "requester_name").value
        self.requesterContact = try FreeText(requesterContact, field: "requester_contact").value
        // Online is the public door's own channel, never one an operator records.
        guard let channel = SubmissionChannel(rawValue: channel), channel != .online else {
            throw InputError(field: "channel", reason: "must be hardcopy or email")
        }
        self.channel = channel
        guard let priority = Priority(rawValue: priority ?? Priority.normal.rawValue) else {
            throw InputError(field: "priority", reason: "must be low, normal, high or urgent")
        }
        self.priority = priority
    }

    public init(kinds: RequestKinds, subject: SubjectHint, subjectRole: Role = .helpdesk, requesterName: String,
                requesterContact: String, channel: SubmissionChannel, priority: Priority = .normal) {
        self.kinds = kinds
        self.subject = subject
        self.subjectRole = subjectRole
        self.requesterName = requesterName
        self.requesterContact = requesterContact
        self.channel = channel
        self.priority = priority
    }
}

/// A request as stored.
public struct Request: Sendable, Equatable {
    public let id: Int64
    /// Human-readable number, `REQ-2026-000123`.
    public let number: String
    public let kinds: RequestKinds
    public let state: RequestState
    public let subjectRole: Role
    public let subject: SubjectHint
    public let subjectUserID: String?
    public let requesterUserID: String?
    public let requesterName: String
    public let requesterContact: String
    public let channel: SubmissionChannel
    public let priority: Priority
    public let submittedBy: String
    public let completenessCheckedBy: String?
    public let missingDocuments: [DocumentType]
    public let validatedBy: String?
    public let rejectionReason: String?
    public let executedBy: String?
    public let disclosedUserID: String?
    public let receiptConfirmedAt: Date?
    public var receiptConfirmedBy: String? = nil
    /// Whether the step-8 notice is queued (set when loaded with its facts).
    public var noticeQueued: Bool = false
    public let createdAt: Date
    public let updatedAt: Date
    /// The account resolved at step 5.
    public let subjectAccountID: Int64?
    /// What Staf Administrasi noted at step 2.
    public var completenessNote: String? = nil
    /// The hint fields the account chosen at step 5 does not match, and the Admin PPE's reason.
    public var hintMismatch: [String] = []
    public var mismatchAcknowledgement: String? = nil
    /// Moves with every step: the guard of the step's one write (see `GateService.act`).
    public var version: Int64 = 0

    /// Where its notices go: an online filing's requester contact also carries a phone number,
    /// so its notices go to the e-mail it gave (checked at filing); any other door's to the contact.
    public var noticeRecipient: String {
        channel == .online ? subject.email ?? requesterContact : requesterContact
    }

    /// What may be done next, and by whom, judged from the request alone. Document checks and
    /// separation of duties are the state machine's when an action is actually taken.
    public var allowedActions: [AllowedAction] { RequestStateMachine.allowed(in: facts) }

    /// The steps `actor` may take on it now: each allowed action that the state machine's own
    /// refusal — who may see it, role, separation of duties — lets through, so a door draws its
    /// buttons from the function the gate refuses with, not from a copy of it.
    public func actions(for actor: Actor) -> [GateAction] {
        RequestStateMachine.actions(in: facts, for: actor)
    }

    private var facts: RequestFacts {
        RequestFacts(
            state: state, requester: requesterUserID, subject: subjectUserID, completenessCheckedBy: completenessCheckedBy,
            documents: [], requiredDocuments: [], receiptConfirmed: receiptConfirmedAt != nil, number: number, kinds: kinds,
            noticeQueued: noticeQueued, submittedBy: submittedBy)
    }
}

/// What an action returns. `temporaryPassword` is set only by step 6 of a reset: the one time the
/// password exists in clear, for the Admin PPE to tell the helpdesk.
public struct ActionResult: Sendable {
    public let request: Request
    public let transition: Transition
    public let temporaryPassword: TemporaryPassword?
    public let temporaryPasswordExpiresAt: Date?
    public let disclosedUserID: String?
    /// Sealed delivery: the half the Admin PPE tells (then `temporaryPassword` is nil), and the
    /// masked address the other half went to.
    public var firstHalf: String? = nil
    public var secondHalfSentTo: String? = nil
}
