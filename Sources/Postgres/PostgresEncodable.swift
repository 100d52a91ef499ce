import Foundation

/// A parameter as it travels to the server: text, binary (bytea only) or NULL.
public enum PostgresBind: Sendable, Equatable {
    case null
    case text(String)
    case binary([UInt8])
}

/// A Swift value that can be sent as a query parameter. Values are always sent as parameters,
/// never spliced into SQL.
public protocol PostgresEncodable: Sendable {
    var postgresBind: PostgresBind { get }
}

extension String: PostgresEncodable {
    public var postgresBind: PostgresBind { .text(self) }
}

extension Substring: PostgresEncodable {
    public var postgresBind: PostgresBind { .text(String(self)) }
}

extension Int: PostgresEncodable {
    public var postgresBind: PostgresBind { .text(String(self)) }
}

extension Int32: PostgresEncodable {
    public var postgresBind: PostgresBind { .text(String(self)) }
}

extension Int64: PostgresEncodable {
    public var postgresBind: PostgresBind { .text(String(self)) }
}

extension Double: PostgresEncodable {
    public var postgresBind: PostgresBind { .text(String(self)) }
}

extension Bool: PostgresEncodable {
    public var postgresBind: PostgresBind { .text(self ? "true" : "false") }
}

extension UUID: PostgresEncodable {
    public var postgresBind: PostgresBind { .text(uuidString) }
}

extension Date: PostgresEncodable {
    public var postgresBind: PostgresBind { .text(PostgresTimestamp.format(self)) }
}

/// bytea travels in binary, so no escaping is involved.
extension Array: PostgresEncodable where Element == UInt8 {
    public var postgresBind: PostgresBind { .binary(self) }
}

/// A text[] parameter, sent as an array literal with every element quoted, so no element can
/// change the literal's structure.
public struct PostgresTextArray: PostgresEncodable, Sendable {
    public var elements: [String]

    public init(_ elements: [String]) { self.elements = elements }

    public var postgresBind: PostgresBind {
        let quoted = elements.map { element in
            "\"" + element.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return .text("{" + quoted.joined(separator: ",") + "}")
    }
}

extension Data: PostgresEncodable {
    public var postgresBind: PostgresBind { .binary([UInt8](self)) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresBind: PostgresBind {
        switch self {
        case .none: return .null
        case .some(let value): return value.postgresBind
        }
    }
}

/// A jsonb (or json) value, carried as its JSON text.
public struct JSONB<Value: Codable & Sendable>: PostgresEncodable, PostgresDecodable, Sendable {
    public var value: Value

    public init(_ value: Value) { self.value = value }

    public var postgresBind: PostgresBind {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding a Codable value to JSON fails only for non-finite floats; send NULL rather than crash.
        guard let data = try? encoder.encode(value) else { return .null }
        return .text(String(decoding: data, as: UTF8.self))
    }

    public init(postgresText text: String) throws {
        value = try JSONDecoder().decode(Value.self, from: Data(text.utf8))
    }
}
