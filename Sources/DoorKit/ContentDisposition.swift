import Foundation

/// `Content-Disposition: attachment` per RFC 6266: an ASCII `filename` with quotes, backslashes,
/// `;`, `=` and controls replaced (so even a parser that splits naively sees one parameter), and
/// the exact name as `filename*` (RFC 8187): a stored name such as `a"; filename="evil.html`
/// cannot add a parameter of its own.
public enum ContentDisposition {
    public static func attachment(_ fileName: String) -> String { header("attachment", fileName) }

    /// Shown in the browser (a document viewed in the console), with the same safe name.
    public static func inline(_ fileName: String) -> String { header("inline", fileName) }

    static func header(_ kind: String, _ fileName: String) -> String {
        let fallback = String(fileName.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && scalar.value >= 0x20 && scalar.value != 0x7F && !"\"\\;=".unicodeScalars.contains(scalar) ? Character(scalar) : "_"
        })
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(0x7F)))
        allowed.insert(charactersIn: "!#$&+-.^_`|~")
        let encoded = fileName.addingPercentEncoding(withAllowedCharacters: allowed) ?? fallback
        return "\(kind); filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
