import DoorKit
import Federation
import Foundation
import Hummingbird
import Operations

/// `/v1/applications`: the relying parties of the OpenID provider, registered by an Admin PPE
/// with a fresh second factor (the rule of every lasting change, in `Operations`).
struct ApplicationsController: Sendable {
    let operations: Operations

    struct RegistrationBody: Decodable {
        let clientID: String
        let name: String
        let redirectURIs: [String]
        let confidential: Bool?
        let allowedClaims: [String]?
        let backchannelLogoutURI: String?
        let postLogoutRedirectURIs: [String]?
        let pkceExempt: Bool?
        /// A JWKS (an object with `keys`): the application authenticates by private_key_jwt.
        let jwks: JWKSValue?
        enum CodingKeys: String, CodingKey {
            case clientID = "client_id", name, redirectURIs = "redirect_uris", confidential, allowedClaims = "allowed_claims"
            case backchannelLogoutURI = "backchannel_logout_uri", postLogoutRedirectURIs = "post_logout_redirect_uris", pkceExempt = "pkce_exempt", jwks
        }
        static let fields: Set<String> = ["client_id", "name", "redirect_uris", "confidential", "allowed_claims", "backchannel_logout_uri",
                                          "post_logout_redirect_uris", "pkce_exempt", "jwks"]
    }

    /// The JWKS as it came, re-encoded for the one parser in `Federation`.
    struct JWKSValue: Decodable {
        let text: String
        init(from decoder: any Decoder) throws {
            let keys = try decoder.container(keyedBy: CodingKeys.self).decode([[String: String]].self, forKey: .keys)
            text = String(decoding: try JSONSerialization.data(withJSONObject: ["keys": keys], options: [.sortedKeys]), as: UTF8.self)
        }
        enum CodingKeys: String, CodingKey { case keys }
    }

    func addRoutes(to router: Router<DoorContext>) {
        router.get("v1/applications") { _, context -> JSONResponse<[ApplicationView]> in
            JSONResponse(try await operations.applications(by: try context.caller()).map { ApplicationView($0) })
        }
        router.post("v1/applications") { request, context -> Response in
            let caller = try context.caller()
            let (client, secret) = try await operations.registerApplication(by: caller) {
                let body = try await request.decodeStrict(RegistrationBody.self, fields: RegistrationBody.fields, limit: context.jsonBodyLimit)
                return ClientRegistration(clientID: body.clientID, name: body.name, redirectURIs: body.redirectURIs, confidential: body.confidential ?? false,
                                          allowedClaims: body.allowedClaims, backchannelLogoutURI: body.backchannelLogoutURI,
                                          pkceExempt: body.pkceExempt ?? false, postLogoutRedirectURIs: body.postLogoutRedirectURIs ?? [],
                                          jwks: body.jwks?.text)
            }
            return try AuthController.secret(JSONResponse(ApplicationView(client, secret: secret), status: .created), request, context)
        }
    }
}
