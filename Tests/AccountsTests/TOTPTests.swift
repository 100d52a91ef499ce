@testable import Accounts
import Foundation
import TestSupport
import Testing

@Suite("TOTP: RFC 6238 in the domain, on swift-crypto (no database)")
struct TOTPTests {
    /// RFC 6238 Appendix B, SHA1 rows; the RFC prints 8 digits, the service uses the last 6.
    @Test("the RFC's SHA1 test vectors", arguments: [
        (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"), (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ] as [(Int64, String)])
    func vectors(seconds: Int64, eight: String) {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let step = TOTP.step(at: Date(timeIntervalSince1970: TimeInterval(seconds)))
        #expect(String(format: "%06d", totp.code(step: step)) == String(eight.suffix(6)))
    }

    @Test("the enrolment URI carries the secret in base32 and the app computes the same codes from it")
    func uri() throws {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let uri = totp.authenticatorURI(label: "SPSE:helpdesk01", issuer: "SPSE LPSE")
        #expect(uri == "otpauth://totp/SPSE:helpdesk01?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=SPSE%20LPSE")
        let secret = try #require(URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value)
        let now = Date(timeIntervalSince1970: 1_795_482_000)
        #expect(AuthenticatorApp.code(secret, at: now) == String(format: "%06d", totp.code(step: TOTP.step(at: now))))
    }
}
