import Hummingbird
import MultipartKit

/// A `multipart/form-data` body as named parts, for clients that send files the way HTML forms
/// and generated OpenAPI clients do. Translation only: what the parts mean is the operation's.
struct MultipartForm {
    struct Part {
        var headers: [(String, String)] = []
        var body: [UInt8] = []

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        var disposition: [String: String] { MultipartForm.parameters(header("content-disposition") ?? "") }
        var name: String? { disposition["name"] }
        var fileName: String? { disposition["filename"] }
        var contentType: String? { header("content-type") }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let parts: [Part]

    /// Whether `contentType` announces a multipart form.
    static func accepts(_ contentType: String?) -> Bool {
        contentType?.lowercased().hasPrefix("multipart/form-data") ?? false
    }

    init(_ buffer: ByteBuffer, contentType: String) throws {
        // MultipartParser traps on an empty boundary: check it here, on request input.
        guard let boundary = Self.parameters(contentType)["boundary"], !boundary.isEmpty, boundary.utf8.count <= 70 else {
            throw APIError.badRequest("multipart/form-data needs a boundary parameter of 1 to 70 characters")
        }
        let parser = MultipartParser(boundary: boundary)
        var parts: [Part] = []
        var current = Part()
        parser.onHeader = { name, value in current.headers.append((name, value)) }
        parser.onBody = { chunk in current.body += chunk.readableBytesView }
        parser.onPartComplete = {
            parts.append(current)
            current = Part()
        }
        do { try parser.execute(buffer) } catch { throw APIError.badRequest("the multipart/form-data body is malformed") }
        guard !parts.isEmpty else { throw APIError.badRequest("the multipart/form-data body has no parts") }
        self.parts = parts
    }

    func part(_ name: String) -> Part? { parts.first { $0.name == name } }
    func text(_ name: String) -> String? { part(name)?.text }

    /// The `key=value` parameters of a header value (`form-data; name="file"; filename="a.pdf"`),
    /// quoted or not, keys lowercased; `filename*` (RFC 5987, UTF-8) wins over `filename`.
    static func parameters(_ value: String) -> [String: String] {
        var result: [String: String] = [:]
        var fields: [String] = []
        var field = ""
        var quoted = false
        var escaped = false
        for character in value {
            if escaped { field.append(character); escaped = false; continue }
            if quoted && character == "\\" { escaped = true; continue }
            if character == "\"" { quoted.toggle(); continue }
            if character == ";" && !quoted { fields.append(field); field = ""; continue }
            field.append(character)
        }
        fields.append(field)
        for item in fields.dropFirst() {
            guard let equals = item.firstIndex(of: "=") else { continue }
            let key = item[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let raw = item[item.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if key == "filename*" {
                let pieces = raw.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                if pieces.count == 3, pieces[0].lowercased() == "utf-8", let decoded = String(pieces[2]).removingPercentEncoding {
                    result["filename"] = decoded
                }
            } else if key == "filename", result["filename"] != nil, fields.contains(where: { $0.lowercased().contains("filename*") }) {
                continue
            } else {
                result[key] = raw
            }
        }
        return result
    }
}
