import Accounts
import Crypto
import Foundation
import Hummingbird
import Inputs

/// The browser's session: the API's session token in an HttpOnly, SameSite=Strict cookie
/// (`Secure` over TLS or when told), so the console has exactly the API's login throttling,
/// idle and absolute expiry. Forms carry a CSRF token bound to it.
struct ConsoleCookies: Sendable {
    static let session = "spse_session"
    /// Before login there is no session to bind the token to: a random value in its own cookie.
    static let preLogin = "spse_csrf"
    static let language = "spse_lang"
    /// Between the password and the code: the login challenge.
    static let challenge = "spse_challenge"

    let secure: Bool

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    func expired(_ name: String) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }
}

/// CSRF tokens: with a session, SHA-256 of the session token and a purpose (only whoever holds
/// the HttpOnly cookie can compute it); before login, the random value of the pre-login cookie
/// (double submit). Compared in constant time.
enum CSRF {
    static func token(session: SessionToken?, preLogin: String?) -> String? {
        if let session {
            return Hex.encode(SHA256.hash(data: Data("spse-console-csrf\u{0}\(session.value)".utf8)))
        }
        return preLogin
    }

    static func matches(_ presented: String?, _ expected: String?) -> Bool {
        guard let presented, let expected, !expected.isEmpty else { return false }
        let a = Array(presented.utf8), b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
