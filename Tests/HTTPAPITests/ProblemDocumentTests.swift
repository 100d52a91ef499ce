import Foundation
@testable import DoorKit
import Provisioning
import Testing

@Suite("Problem documents")
struct ProblemDocumentTests {
    @Test("every character a detail, an extra or a row problem may carry comes back intact from the JSON: quotes, backslashes, controls, NUL, line separators, non-ASCII")
    func escaping() throws {
        let hostile = "a\"b\\c\nd\re\tf\u{0}g\u{1F}h\u{2028}i\u{2029}j\u{7F} — Jl. Merdeka №5 🇮🇩 </script>"
        var problem = Problem(status: .unprocessableContent, code: "invalid_input", detailID: hostile, detailEN: "in English: " + hostile)
        problem.extra = ["field": hostile, "code": "overridden"]
        problem.problems = [RowProblem(line: 3, column: nil, rule: .notUTF8, detail: hostile)]
        let data = problem.document(english: false, requestID: "r-\u{1}\"7")
        let text = String(decoding: data, as: UTF8.self)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["detail"] as? String == hostile && json["field"] as? String == hostile)
        #expect(json["code"] as? String == "overridden", "an extra member replaces the standard one of its name")
        #expect(json["status"] as? Int == 422 && json["request_id"] as? String == "r-\u{1}\"7" && json["title"] as? String == "Unprocessable Content")
        #expect(json["type"] as? String == "https://spse-accounts.lpse.go.id/problems/invalid_input")
        let row = try #require((json["problems"] as? [[String: Any]])?.first)
        #expect(row["line"] as? Int == 3 && row["column"] is NSNull && row["detail"] as? String == hostile
                && row["rule"] as? String == RowProblem.Rule.notUTF8.rawValue)
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{2028}" || $0 == "\u{2029}" }, "no raw control character or line separator")
        #expect(text.hasPrefix("{\"code\":") && text.contains("\"problems\":[{\"column\":null,"), "members sorted by name")
        let english = try #require(try JSONSerialization.jsonObject(with: problem.document(english: true, requestID: "r")) as? [String: Any])
        #expect(english["detail"] as? String == "in English: " + hostile)
        #expect(Set(json.keys) == ["code", "detail", "field", "problems", "request_id", "status", "title", "type"])
    }
}
