import Foundation
import Hummingbird
import Provisioning

/// An RFC 9457 problem document, with a stable machine `code` and a human `detail` in Bahasa
/// Indonesia (default) or English (`Accept-Language: en`).
public struct Problem: Sendable, Equatable {
    public let status: HTTPResponse.Status
    public let code: String
    public let detailID: String
    public let detailEN: String
    public var retryAfter: Int? = nil
    public var extra: [String: String] = [:]
    /// Every bad row of a provisioning batch, as `problems: [{line, column, rule, detail}]`.
    var problems: [RowProblem] = []

    /// The response for `request`, in its preferred language.
    public func response(for request: Request, requestID: String) -> Response {
        let english = Self.prefersEnglish(request.headers[.acceptLanguage])
        let data = document(english: english, requestID: requestID)
        var headers: HTTPFields = [.contentType: "application/problem+json", .contentLanguage: english ? "en" : "id"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The JSON text of the document. Written by hand, members sorted: JSONSerialization of an
    /// [String: Any] was 1.5 % of the CPU of a login flood, where every refusal is one of these.
    func document(english: Bool, requestID: String) -> Data {
        var fields: [(String, String)] = [
            ("type", JSONText.string("https://spse-accounts.lpse.go.id/problems/\(code)")),
            ("title", JSONText.string(status.reasonPhrase)),
            ("status", String(status.code)),
            ("code", JSONText.string(code)),
            ("detail", JSONText.string(english ? detailEN : detailID)),
            ("request_id", JSONText.string(requestID)),
        ]
        for (key, value) in extra {
            fields.removeAll { $0.0 == key }
            fields.append((key, JSONText.string(value)))
        }
        if !problems.isEmpty {
            fields.append(("problems", "[" + problems.map { problem in
                JSONText.object([
                    ("column", problem.column.map { JSONText.string($0.rawValue) } ?? "null"), ("detail", JSONText.string(problem.detail)),
                    ("line", String(problem.line)), ("rule", JSONText.string(problem.rule.rawValue)),
                ])
            }.joined(separator: ",") + "]"))
        }
        return Data(JSONText.object(fields.sorted { $0.0 < $1.0 }).utf8)
    }

    /// English when the client ranks it above Indonesian; Indonesian otherwise.
    public static func prefersEnglish(_ header: String?) -> Bool {
        guard let header else { return false }
        var best: (lang: String, q: Double)? = nil
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let tag = pieces.first, !tag.isEmpty else { continue }
            let q = pieces.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            let language = tag.hasPrefix("en") ? "en" : (tag.hasPrefix("id") || tag.hasPrefix("in") ? "id" : nil)
            if let language, q > (best?.q ?? -1) { best = (language, q) }
        }
        return best?.lang == "en"
    }
}

/// Just enough JSON writing for a problem document: strings escaped as RFC 8259 §7 asks.
enum JSONText {
    static func string(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// An object of already-written values, in the order given.
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }
}
