import Hummingbird

/// A `multipart/form-data` body (RFC 7578) as named parts, for clients that send files the way
/// HTML forms and generated OpenAPI clients do. Translation only: what the parts mean is the
/// operation's. Parsed here, bounded and total on any bytes: multipart-kit's parser traps on a
/// header byte above 0x7F (found by scripts/fuzz), and a trap on request input stops the service.
public struct MultipartForm {
    public struct Part {
        var headers: [(String, String)] = []
        public var body: [UInt8] = []

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        var disposition: [String: String] { MultipartForm.parameters(header("content-disposition") ?? "") }
        public var name: String? { disposition["name"] }
        public var fileName: String? { disposition["filename"] }
        public var contentType: String? { header("content-type") }
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public let parts: [Part]
    static let maximumParts = 16
    static let maximumHeaderBytes = 8 * 1024

    /// Whether `contentType` announces a multipart form.
    public static func accepts(_ contentType: String?) -> Bool {
        contentType?.lowercased().hasPrefix("multipart/form-data") ?? false
    }

    public init(_ buffer: ByteBuffer, contentType: String) throws {
        guard let boundary = Self.parameters(contentType)["boundary"], (1...70).contains(boundary.utf8.count),
              boundary.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
        else { throw DoorError.badRequest("multipart/form-data needs a boundary parameter of 1 to 70 printable characters") }
        self.parts = try Self.parse(Array(buffer.readableBytesView), boundary: Array(boundary.utf8))
    }

    static func parse(_ bytes: [UInt8], boundary: [UInt8]) throws -> [Part] {
        let malformed = DoorError.badRequest("the multipart/form-data body is malformed")
        let delimiter = Array("--".utf8) + boundary
        let crlf: [UInt8] = [13, 10]
        // The first delimiter opens the body (a preamble before it is ignored).
        guard var position = find(delimiter, in: bytes, from: 0) else { throw malformed }
        position += delimiter.count
        var parts: [Part] = []
        while true {
            if bytes[position...].starts(with: Array("--".utf8)) { break }  // the closing delimiter
            guard bytes[position...].starts(with: crlf) else { throw malformed }
            position += 2
            guard let headerEnd = find(crlf + crlf, in: bytes, from: position), headerEnd - position <= maximumHeaderBytes else { throw malformed }
            var part = Part()
            if headerEnd > position {
                for line in bytes[position..<headerEnd].split(separator: 13, omittingEmptySubsequences: true) {
                    let line = line.first == 10 ? line.dropFirst() : line[...]
                    guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                          line[..<colon].allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
                          let value = String(validating: line[(colon + 1)...], as: UTF8.self)
                    else { throw malformed }
                    part.headers.append((String(decoding: line[..<colon], as: UTF8.self), value.trimmingCharacters(in: .whitespaces)))
                }
            }
            position = headerEnd + 4
            guard let next = find(crlf + delimiter, in: bytes, from: position) else { throw malformed }
            part.body = Array(bytes[position..<next])
            parts.append(part)
            guard parts.count <= maximumParts else { throw DoorError.badRequest("a multipart/form-data body may have at most \(maximumParts) parts") }
            position = next + 2 + delimiter.count
        }
        guard !parts.isEmpty else { throw DoorError.badRequest("the multipart/form-data body has no parts") }
        return parts
    }

    /// The first index of `needle` in `haystack` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            guard let candidate = haystack[index...last].firstIndex(of: first) else { return nil }
            if haystack[candidate..<(candidate + needle.count)].elementsEqual(needle) { return candidate }
            index = candidate + 1
        }
        return nil
    }

    public func part(_ name: String) -> Part? { parts.first { $0.name == name } }
    public func text(_ name: String) -> String? { part(name)?.text }

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
