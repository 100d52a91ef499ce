import Accounts
import Gate
import Inputs

/// A change of step 6's limit for one priority, as a door received it.
public struct PriorityLimitForm: Sendable {
    public var priority: String
    public var minutes: Int?
    public init(priority: String, minutes: Int?) {
        self.priority = priority
        self.minutes = minutes
    }
}

/// Deviation filters as a door received them.
public struct DeviationForm: Sendable {
    public var actor: String?
    /// `true`: only those still owed an explanation.
    public var unexplained: String?
    public var page: String?
    public init(actor: String? = nil, unexplained: String? = nil, page: String? = nil) {
        self.actor = actor
        self.unexplained = unexplained
        self.page = page
    }
}

extension Operations {
    public func priorityLimits(by caller: Caller) async throws -> [PriorityLimit] {
        try AccessPolicy.require(caller.role, .readSLAReports)
        return try await gate.priorityLimits()
    }

    public func setPriorityLimit(_ form: PriorityLimitForm, by caller: Caller) async throws -> [PriorityLimit] {
        try await setPriorityLimit(by: caller, priority: form.priority) { form.minutes }
    }

    /// `read` reads the minutes (a body) only once the caller may edit the standards.
    public func setPriorityLimit(by caller: Caller, priority text: String, _ read: () async throws -> Int?) async throws -> [PriorityLimit] {
        try AccessPolicy.require(caller.role, .editStandards)
        try requireStepUp(caller)
        let form = PriorityLimitForm(priority: text, minutes: try await read())
        guard let priority = Priority(rawValue: form.priority) else {
            throw InputError(field: "priority", reason: "must be urgent, high, normal or low")
        }
        guard let minutes = form.minutes, (1...10_080).contains(minutes) else {
            throw InputError(field: "step6_minutes", reason: "must be a whole number of minutes from 1 to 10080 (a week)")
        }
        return try await gate.setPriorityLimit(priority, minutes: minutes, by: caller.actor)
    }

    /// Deviations, newest first. Those who read SLA reports see everyone's; the SOP's actors see
    /// their own, which they must explain.
    public func deviations(_ form: DeviationForm, by caller: Caller) async throws -> [Deviation] {
        try AccessPolicy.require(caller.role, .readSLAReports)
        let actor = try FreeText.optional(form.actor, field: "actor", maxLength: 64)?.value
        guard form.unexplained == nil || form.unexplained == "true" || form.unexplained == "false" else {
            throw InputError(field: "unexplained", reason: "must be true or false")
        }
        let page = try Page(parsing: form.page)
        return try await gate.deviations(actor: actor, unexplainedOnly: form.unexplained == "true", limit: page.size, offset: page.offset)
    }

    /// The explanation a deviation's actor owes, given once.
    public func explainDeviation(_ id: String, explanation: String?, by caller: Caller) async throws -> Deviation {
        try await explainDeviation(id, by: caller) { explanation }
    }

    /// `read` reads the explanation (a body) only once the caller may explain deviations at all.
    public func explainDeviation(_ id: String, by caller: Caller, _ read: () async throws -> String?) async throws -> Deviation {
        try AccessPolicy.require(caller.role, .readSLAReports)
        let explanation = try await read()
        guard let deviationID = Int64(id), deviationID > 0 else { throw InputError(field: "id", reason: "must be a deviation number") }
        guard let text = try FreeText.optional(explanation, field: "explanation", maxLength: 2000, multiline: true)?.value else {
            throw InputError(field: "explanation", reason: "is required: what happened and why")
        }
        return try await gate.explain(deviationID, text, by: caller.actor)
    }
}
