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
        var body: [String: Any] = [
            "type": "https://spse-accounts.lpse.go.id/problems/\(code)",
            "title": status.reasonPhrase,
            "status": Int(status.code),
            "code": code,
            "detail": english ? detailEN : detailID,
            "request_id": requestID,
        ]
        for (key, value) in extra { body[key] = value }
        if !problems.isEmpty {
            body["problems"] = problems.map { problem -> [String: Any] in
                ["line": problem.line, "column": problem.column?.rawValue ?? NSNull(), "rule": problem.rule.rawValue, "detail": problem.detail]
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/problem+json", .contentLanguage: english ? "en" : "id"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
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
