import Foundation
import Hummingbird
import Inputs

/// Query parameters as browsers and HTML forms send them (`application/x-www-form-urlencoded`):
/// `+` is a space, `%XX` are UTF-8 bytes. A value whose bytes are not UTF-8 is refused by name
/// (422), never passed on as something else. The first of repeated names wins.
public struct FormQuery {
    private let values: [String: String]
    private let undecodable: Set<String>
    /// The names sent more than once (OAuth refuses a repeated parameter, RFC 6749 §3.1).
    public let repeated: Set<String>

    public init(_ raw: String?) {
        var values: [String: String] = [:]
        var undecodable: Set<String> = []
        var repeated: Set<String> = []
        for pair in (raw ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            guard values[name] == nil, !undecodable.contains(name) else { repeated.insert(name); continue }
            if let value = Self.decode(parts.count > 1 ? parts[1] : "") { values[name] = value } else { undecodable.insert(name) }
        }
        self.values = values
        self.undecodable = undecodable
        self.repeated = repeated
    }

    public subscript(_ name: String) -> String? {
        get throws(InputError) {
            if undecodable.contains(name) { throw InputError(field: name, reason: "must be UTF-8 text") }
            return values[name]
        }
    }

    /// Every field (a form body read whole); refused by name when any value is not UTF-8.
    public func all() throws(InputError) -> [String: String] {
        if let name = undecodable.sorted().first { throw InputError(field: name, reason: "must be UTF-8 text") }
        return values
    }

    /// A query as `init` reads it back: the pairs with a value, each percent-encoded (a space as
    /// `%20`, `+` as `%2B`, since a form query reads `+` as a space). Empty when none has a value.
    public static func encode(_ pairs: [(String, String?)]) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "+&=;#")
        return pairs.compactMap { name, value in
            guard let value, !value.isEmpty else { return nil }
            return "\(name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }

    static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

extension Request {
    /// The query as a form sends it.
    public var form: FormQuery { FormQuery(uri.query) }
}
