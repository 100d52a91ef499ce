import Accounts
import Foundation

/// How the request file reached the LPSE.
public enum SubmissionChannel: String, Sendable, Codable {
    case hardcopy
    case email
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
    public let createdAt: Date
    public let updatedAt: Date
    /// The account resolved at step 5.
    public let subjectAccountID: Int64?

    /// What may be done next, and by whom, judged from the request alone. Document checks and
    /// separation of duties are the state machine's when an action is actually taken.
    public var allowedActions: [AllowedAction] {
        RequestStateMachine.allowed(in: RequestFacts(
            state: state, requester: requesterUserID, subject: subjectUserID, completenessCheckedBy: completenessCheckedBy,
            documents: [], requiredDocuments: [], receiptConfirmed: receiptConfirmedAt != nil))
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
}
