import Foundation
import Postgres

/// What an ID token presented back as `id_token_hint` says, once its signature is ours.
public struct IDTokenHint: Sendable, Equatable {
    public let clientID: String
    public let subject: String
    public let sid: String?
}

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an application sends the
/// browser here with the ID token it was given; the post-logout redirect URI must be one the
/// application registered, compared exactly, so logout cannot become an open redirector.
extension Federation {
    /// The hint's claims when it is an ID token this provider signed (expired or not: §2 lets a
    /// hint outlive its token), checked with the public key it published; nil for anything else.
    public func idTokenHint(_ text: String) async throws -> IDTokenHint? {
        guard let jws = CompactJWS(text), let kid = jws.kid, kid.utf8.count <= 128, jws.header["typ"] as? String ?? "JWT" == "JWT",
              let algorithm = jws.algorithm else { return nil }
        let published = try await pool.withConnection { connection in
            try await connection.query("SELECT public_jwk::text AS jwk FROM oidc_signing_keys WHERE kid = $1 AND alg = $2", [kid, algorithm.rawValue])
                .first?.decode(String.self, column: "jwk")
        }
        guard let published, let jwk = (try? JSONSerialization.jsonObject(with: Data(published.utf8))) as? [String: Any],
              let key = try? VerifyingKey.from(jwk: jwk).get(), jws.isSigned(by: [key]),
              jws.claims["iss"] as? String == settings.issuer, let subject = jws.claims["sub"] as? String, jws.claims["events"] == nil,
              jws.audience.count == 1 else { return nil }
        return IDTokenHint(clientID: jws.audience[0], subject: subject, sid: jws.claims["sid"] as? String)
    }
}
