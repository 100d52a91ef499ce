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
    /// hint outlive its token); nil for anything else.
    public func idTokenHint(_ jws: String) async throws -> IDTokenHint? {
        guard let box = secrets, jws.utf8.count <= 8192 else { return nil }
        let parts = jws.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = (try? JSONSerialization.jsonObject(with: Data(headerBytes))) as? [String: Any],
              let kid = header["kid"] as? String, kid.utf8.count <= 128, header["typ"] as? String ?? "JWT" == "JWT",
              let algorithm = (header["alg"] as? String).flatMap(SigningKey.Algorithm.init(rawValue:)) else { return nil }
        let sealed = try await pool.withConnection { connection in
            try await connection.query("SELECT sealed_key FROM oidc_signing_keys WHERE kid = $1 AND alg = $2", [kid, algorithm.rawValue])
                .first?.decode([UInt8].self, column: "sealed_key")
        }
        guard let sealed, let opened = try? box.open(sealed, context: Self.keyContext(kid)),
              let key = try? SigningKey(algorithm: algorithm, privateBytes: opened),
              key.isValidSignature(signature, for: Array((parts[0] + "." + parts[1]).utf8)),
              let claims = (try? JSONSerialization.jsonObject(with: Data(payloadBytes))) as? [String: Any],
              claims["iss"] as? String == settings.issuer, let subject = claims["sub"] as? String, claims["events"] == nil else { return nil }
        let audience = (claims["aud"] as? String).map { [$0] } ?? (claims["aud"] as? [String]) ?? []
        guard audience.count == 1 else { return nil }
        return IDTokenHint(clientID: audience[0], subject: subject, sid: claims["sid"] as? String)
    }
}
