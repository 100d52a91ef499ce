/// A value of a request's input that the service refuses, naming the field as the API names it,
/// so that every door (HTTP, CLI, console) answers the same input with the same refusal.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field as the HTTP API names it (`q`, `page`, `requester_name`, `subject.nip`, …).
    public let field: String
    /// What the field accepts; never echoes the refused value, which may hold anything.
    public let reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}
