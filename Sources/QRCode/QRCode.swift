import CQRencode

/// libqrencode behind one Swift function, as libpq is behind `Postgres` and libargon2 behind
/// `PasswordHashing`: a text (an `otpauth://` URI) as a QR code, drawn as SVG from the library's
/// modules (no image files, nothing fetched: the console's CSP allows only its own origin).
public enum QRCode {
    /// Nil when the text cannot be encoded (too long for a QR code, or a NUL inside).
    public static func svg(_ text: String) -> String? {
        guard !text.utf8.contains(0) else { return nil }
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let quiet = 4
        var path = ""
        for y in 0..<width {
            for x in 0..<width where code.pointee.data[y * width + x] & 1 != 0 {
                path += "M\(x + quiet),\(y + quiet)h1v1h-1z"
            }
        }
        let size = width + 2 * quiet
        return ##"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="QR" viewBox="0 0 \##(size) \##(size)" width="240" height="240" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="\##(path)"/></svg>"##
    }
}
