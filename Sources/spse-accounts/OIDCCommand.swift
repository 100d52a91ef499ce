import ArgumentParser
import Federation
import Foundation
import HTTPAPI
import Operations

/// The OpenID provider's administration: the applications that sign in here, and the signing keys.
struct OIDCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oidc",
        abstract: "The OpenID provider: register applications (admin_ppe) and rotate the signing keys.",
        subcommands: [OIDCClientAddCommand.self, OIDCClientListCommand.self, OIDCKeysRotateCommand.self]
    )
}

struct OIDCClientAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client-add",
        abstract: "Register an application (admin_ppe, with a fresh authenticator code); a confidential client's secret is printed once.",
        discussion: """
            Example:
              SPSE_OPERATOR=admin.ppe spse-accounts oidc client-add --client-id helpdesk-tiket --name "Tiket Helpdesk LPSE" \\
                --redirect-uri https://tiket.lpse.example.go.id/oidc/callback --confidential --claims name,email,role
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Option(help: "3–64 of a-z 0-9 . _ -") var clientId: String
    @Option(help: "The application's name, shown on the consent page.") var name: String
    @Option(name: .customLong("redirect-uri"), help: "A redirect URI, compared exactly (repeat for more; https, or http on loopback).") var redirectURIs: [String]
    @Flag(help: "A server-side application that keeps a secret (client_secret_basic or client_secret_post).") var confidential = false
    @Option(help: "Claims it may receive, comma-separated (default name,email,role; also agency, nip, preferred_username).") var claims: String?
    @Option(name: .customLong("backchannel-logout-uri"), help: "Where its sessions are ended when the user's end here.") var backchannelLogoutURI: String?
    @Flag(help: "Let this confidential client go without PKCE when it sends a nonce (audited).") var pkceExempt = false
    @Option(name: .customLong("post-logout-redirect-uri"), help: "Where its RP-initiated logout may return the browser, compared exactly (repeat for more).")
    var postLogoutRedirectURIs: [String] = []
    @Option(name: .customLong("jwks-file"), help: "A JWKS of the application's public keys: it authenticates by private_key_jwt (no secret is made).")
    var jwksFile: String?

    func run() async throws {
        try await options.run { operations, caller in
            let jwks = try jwksFile.map { path -> String in
                guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read --jwks-file \(path)") }
                return String(decoding: data, as: UTF8.self)
            }
            let registration = ClientRegistration(
                clientID: clientId, name: name, redirectURIs: redirectURIs, confidential: confidential,
                allowedClaims: claims.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
                backchannelLogoutURI: backchannelLogoutURI, pkceExempt: pkceExempt, postLogoutRedirectURIs: postLogoutRedirectURIs, jwks: jwks)
            let (client, secret) = try await operations.registerApplication(registration, by: caller)
            if options.output.json {
                try OutputOptions.printJSON(ApplicationView(client, secret: secret))
            } else {
                print("registered \(client.clientID) (\(client.isConfidential ? "confidential" : "public"))")
                if let secret { print("client secret (shown once): \(secret)") }
            }
        }
    }
}

struct OIDCClientListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "client-list", abstract: "The registered applications (admin_ppe).")
    @OptionGroup var options: OperatorCommandOptions

    func run() async throws {
        try await options.run { operations, caller in
            let clients = try await operations.applications(by: caller)
            if options.output.json { try OutputOptions.printJSON(clients.map { ApplicationView($0) }) }
            else { for client in clients { print("\(client.clientID)\t\(client.isConfidential ? "confidential" : "public")\t\(client.redirectURIs.joined(separator: " "))") } }
        }
    }
}

struct OIDCKeysRotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys-rotate",
        abstract: "Publish the next signing keys (ES256 and RS256) now; they sign from a day later (admin_ppe).",
        discussion: "Relying parties fetch the JWKS before the new keys sign; the keys they replace stay published until their tokens expire."
    )
    @OptionGroup var options: OperatorCommandOptions

    func run() async throws {
        try await options.run { operations, caller in
            let added = try await operations.rotateSigningKeys(by: caller)
            for key in added { print("\(key.algorithm) \(key.kid) signs from \(ISO8601DateFormatter().string(from: key.signsFrom))") }
        }
    }
}
