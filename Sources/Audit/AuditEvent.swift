import Foundation

/// One entry of the audit trail: who did what to whom, when, under which request, with details
/// that never hold a secret (no password, token or document content).
public struct AuditEvent: Sendable, Equatable {
    public var occurredAt: Date
    /// The user ID of the operator or user who acted, or `system`.
    public var actor: String
    /// A stable verb such as `account.create`, `login.failure`, `lookup`.
    public var action: String
    /// The account or request concerned.
    public var subject: String?
    /// The SOP request this happened under, or a free reason for lookups.
    public var requestID: String?
    public var details: [String: AuditValue]

    public init(
        occurredAt: Date, actor: String, action: String, subject: String? = nil, requestID: String? = nil,
        details: [String: AuditValue] = [:]
    ) {
        self.occurredAt = occurredAt
        self.actor = actor
        self.action = action
        self.subject = subject
        self.requestID = requestID
        self.details = details
    }
}

/// A detail value: plain JSON scalars and lists, so nothing opaque (like a secret) slips in.
public enum AuditValue: Sendable, Equatable, Codable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case strings([String])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else { self = .strings(try container.decode([String].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .strings(let value): try container.encode(value)
        }
    }
}
