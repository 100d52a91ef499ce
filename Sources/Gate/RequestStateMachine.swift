import Accounts

/// The actions of SOP 004, as the API names them.
public enum GateAction: String, Sendable, Codable, CaseIterable {
    case completeness          // step 2
    case notify                // step 3, 7 or 8, whichever notice is due
    case supplement            // step 4
    case validity              // step 5
    case execute               // step 6
    case confirmReceipt = "confirm_receipt"
    case archive               // step 9
}

/// Who acts: an operator or user with a role.
public struct Actor: Sendable, Equatable {
    public let userID: String
    public let role: Role
    public init(userID: String, role: Role) {
        self.userID = userID
        self.role = role
    }
}

/// An event the state machine judges.
public enum GateEvent: Sendable, Equatable {
    case completeness(complete: Bool)
    case notify
    case supplement
    /// `subject`: the account the Admin PPE resolved the request to (required when valid).
    case validity(valid: Bool, subject: String?)
    case execute
    case confirmReceipt
    case archive

    public var action: GateAction {
        switch self {
        case .completeness: return .completeness
        case .notify: return .notify
        case .supplement: return .supplement
        case .validity: return .validity
        case .execute: return .execute
        case .confirmReceipt: return .confirmReceipt
        case .archive: return .archive
        }
    }
}

/// What the state machine needs to know about a request; loaded by the service, no I/O here.
public struct RequestFacts: Sendable, Equatable {
    public var state: RequestState
    /// The requester's user ID when known (a helpdesk who submitted for themself, or the hint given).
    public var requester: String?
    /// The account the request concerns, once resolved at step 5.
    public var subject: String?
    /// Who checked completeness last (step 2).
    public var completenessCheckedBy: String?
    public var documents: Set<DocumentType>
    public var requiredDocuments: Set<DocumentType>
    public var receiptConfirmed: Bool

    public init(state: RequestState, requester: String?, subject: String?, completenessCheckedBy: String?,
                documents: Set<DocumentType>, requiredDocuments: Set<DocumentType>, receiptConfirmed: Bool) {
        self.state = state
        self.requester = requester
        self.subject = subject
        self.completenessCheckedBy = completenessCheckedBy
        self.documents = documents
        self.requiredDocuments = requiredDocuments
        self.receiptConfirmed = receiptConfirmed
    }
}

/// The accepted outcome of an event: the new state, and which SOP step it ends and which it opens
/// (for the SLA clock). The service performs the effects in one transaction.
public struct Transition: Sendable, Equatable {
    public let from: RequestState
    public let to: RequestState
    /// The step this action completes (nil for confirming receipt).
    public let endsStep: Int?
    /// The step that becomes actionable (nil when none, e.g. archived).
    public let opensStep: Int?
}

/// SOP 004 as a pure function of (facts, actor, event): a transition or a typed refusal.
public enum RequestStateMachine {
    public static func apply(_ event: GateEvent, to facts: RequestFacts, by actor: Actor) -> Result<Transition, GateError> {
        let action = event.action
        guard allowed(in: facts).contains(where: { $0.action == action }) else {
            return .failure(.wrongState(current: facts.state, allowed: allowed(in: facts)))
        }
        if let refusal = authorize(action, facts: facts, actor: actor, event: event) { return .failure(refusal) }

        let next: RequestState
        switch (facts.state, event) {
        case (.submitted, .completeness(let complete)):
            if complete {
                let missing = facts.requiredDocuments.subtracting(facts.documents)
                guard missing.isEmpty else { return .failure(.missingDocuments(DocumentType.allCases.filter(missing.contains))) }
            }
            next = complete ? .complete : .incomplete
        case (.incomplete, .notify): next = .awaitingSupplement
        case (.awaitingSupplement, .supplement): next = .submitted
        case (.complete, .validity(let valid, let subject)):
            if valid && subject == nil { return .failure(.invalidInput("a valid request must name the subject account")) }
            next = valid ? .approved : .invalid
        case (.approved, .execute): next = .executed
        case (.invalid, .notify): next = .rejected
        case (.executed, .notify): next = .notified
        case (.notified, .confirmReceipt):
            return .success(Transition(from: facts.state, to: .notified, endsStep: nil, opensStep: nil))
        case (.rejected, .archive), (.notified, .archive): next = .archived
        default:
            return .failure(.wrongState(current: facts.state, allowed: allowed(in: facts)))
        }
        return .success(Transition(from: facts.state, to: next, endsStep: facts.state.stepDue, opensStep: next.stepDue))
    }

    /// The actions possible in the request's state, and by whom.
    public static func allowed(in facts: RequestFacts) -> [AllowedAction] {
        let staf: [Role] = [.stafAdministrasi]
        let admin: [Role] = [.adminPPE]
        switch facts.state {
        case .submitted: return [AllowedAction(action: .completeness, roles: staf, byRequester: false)]
        case .incomplete: return [AllowedAction(action: .notify, roles: staf, byRequester: false)]
        case .awaitingSupplement: return [AllowedAction(action: .supplement, roles: staf, byRequester: true)]
        case .complete: return [AllowedAction(action: .validity, roles: admin, byRequester: false)]
        case .approved: return [AllowedAction(action: .execute, roles: admin, byRequester: false)]
        case .invalid, .executed: return [AllowedAction(action: .notify, roles: admin, byRequester: false)]
        case .notified:
            return [AllowedAction(action: .archive, roles: staf, byRequester: false)]
                + (facts.receiptConfirmed ? [] : [AllowedAction(action: .confirmReceipt, roles: admin, byRequester: true)])
        case .rejected: return [AllowedAction(action: .archive, roles: staf, byRequester: false)]
        case .archived: return []
        }
    }

    private static func authorize(_ action: GateAction, facts: RequestFacts, actor: Actor, event: GateEvent) -> GateError? {
        let isRequester = actor.userID == facts.requester || (facts.subject != nil && actor.userID == facts.subject)
        let permitted = allowed(in: facts).first { $0.action == action }!
        if permitted.byRequester && isRequester { return nil }
        guard permitted.roles.contains(actor.role) else { return .notPermitted(role: actor.role, action: action) }
        // Separation of duties, most specific rule first.
        if action == .execute, actor.userID == facts.subject {
            return .separationOfDuties(rule: "nobody resets or looks up their own account through the gate")
        }
        if case .validity(_, let subject) = event, subject == actor.userID {
            return .separationOfDuties(rule: "nobody resets or looks up their own account through the gate")
        }
        if isRequester { return .separationOfDuties(rule: "the requester never processes their own request") }
        if action == .validity, actor.userID == facts.completenessCheckedBy {
            return .separationOfDuties(rule: "whoever checked completeness may not check validity")
        }
        return nil
    }
}
