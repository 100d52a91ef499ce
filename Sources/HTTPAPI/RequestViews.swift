import DoorKit
import Accounts
import Foundation
import Gate

// The JSON shapes of SOP requests, shared by the HTTP API and the CLI's --json.

public struct RequestView: Encodable, Sendable {
    let id: Int64
    let number: String
    let kinds: [String]
    let state: String
    let stepDue: Int?
    let allowed: [String]
    /// What the caller may do on it now: the state machine's answer, the console's buttons.
    let yourActions: [String]?
    let subjectRole: String
    let subjectUserID: String?
    let requesterName: String
    let channel: String
    let priority: String
    let submittedBy: String
    let rejectionReason: String?
    let completenessNote: String?
    let hintMismatch: [String]?
    let mismatchAcknowledgement: String?
    let receiptConfirmedAt: Date?
    let documents: [DocumentInfo]?
    let steps: [StepRecord]?
    let notices: [NoticeRecord]?
    let handover: HandoverRecord?
    let deviations: [Deviation]?

    public init(_ request: Gate.Request, allowed: [AllowedAction], documents: [DocumentInfo]? = nil, record: RequestRecord? = nil,
                for actor: Actor? = nil) {
        yourActions = actor.map { request.actions(for: $0).map(\.rawValue) }
        completenessNote = request.completenessNote
        hintMismatch = request.hintMismatch.isEmpty ? nil : request.hintMismatch
        mismatchAcknowledgement = request.mismatchAcknowledgement
        receiptConfirmedAt = request.receiptConfirmedAt
        steps = record?.steps
        notices = record?.notices
        handover = record?.handover
        deviations = record?.deviations
        id = request.id
        number = request.number
        kinds = request.kinds.names
        state = request.state.rawValue
        stepDue = request.state.stepDue
        self.allowed = allowed.map(\.description)
        subjectRole = request.subjectRole.rawValue
        subjectUserID = request.subjectUserID
        requesterName = request.requesterName
        channel = request.channel.rawValue
        priority = request.priority.rawValue
        submittedBy = request.submittedBy
        rejectionReason = request.rejectionReason
        self.documents = documents
    }

    enum CodingKeys: String, CodingKey {
        case id, number, kinds, state, stepDue = "step_due", allowed, yourActions = "your_actions", subjectRole = "subject_role", subjectUserID = "subject_user_id"
        case requesterName = "requester_name", channel, priority, submittedBy = "submitted_by", rejectionReason = "rejection_reason", documents
        case completenessNote = "completeness_note", hintMismatch = "hint_mismatch", mismatchAcknowledgement = "mismatch_acknowledgement"
        case receiptConfirmedAt = "receipt_confirmed_at", steps, notices, handover, deviations
    }
}

public struct ActionView: Encodable, Sendable {
    let request: RequestView
    let temporaryPassword: String?
    let temporaryPasswordExpiresAt: Date?
    let userID: String?
    /// Sealed delivery: the half to tell, and where the other half went.
    var temporaryPasswordFirstHalf: String? = nil
    var secondHalfSentTo: String? = nil
    /// Every field this answer can carry, for the test that holds docs/openapi.yaml to it.
    public static var fields: [String] { CodingKeys.allCases.map(\.stringValue) }
    enum CodingKeys: String, CodingKey, CaseIterable {
        case request, temporaryPassword = "temporary_password", temporaryPasswordExpiresAt = "temporary_password_expires_at", userID = "user_id"
        case temporaryPasswordFirstHalf = "temporary_password_first_half", secondHalfSentTo = "second_half_sent_to"
    }
}

public struct QueueView: Encodable, Sendable {
    let id: Int64
    let number: String
    let state: String
    let priority: String
    let step: Int
    let dueSince: Date
    let secondsLeft: Double?
    let limitMinutes: Int?
    let overdue: Bool
    let holder: String
    let abandonsAt: Date?
    let allowed: [String]
    enum CodingKeys: String, CodingKey {
        case id, number, state, priority, step, dueSince = "due_since", secondsLeft = "seconds_left", limitMinutes = "limit_minutes", overdue
        case holder, abandonsAt = "abandons_at", allowed
    }
}

extension QueueView {
    public init(_ entry: QueueEntry) {
        self.init(id: entry.requestID, number: entry.number, state: entry.state.rawValue, priority: entry.priority.rawValue, step: entry.step,
                  dueSince: entry.dueSince, secondsLeft: entry.secondsLeft, limitMinutes: entry.limitMinutes, overdue: entry.isOverdue,
                  holder: entry.holder, abandonsAt: entry.abandonsAt, allowed: entry.allowed.map(\.description))
    }
}

extension ActionView {
    public init(_ result: ActionResult, for actor: Actor? = nil) {
        self.init(request: RequestView(result.request, allowed: result.request.allowedActions, for: actor),
                  temporaryPassword: result.temporaryPassword?.reveal, temporaryPasswordExpiresAt: result.temporaryPasswordExpiresAt,
                  userID: result.disclosedUserID, temporaryPasswordFirstHalf: result.firstHalf, secondHalfSentTo: result.secondHalfSentTo)
    }
}
