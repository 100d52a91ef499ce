import Accounts
import Audit
import Foundation
import Gate
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Operations
import PasswordHashing
import Postgres
import TestSupport

/// The API's services on a real database, with cheap Argon2 and the test's clock.
func apiServices(_ pool: ConnectionPool, clock: SettableClock, loginBudget: (burst: Int, perMinute: Int) = (1000, 1000),
                 hashingPool: HashingPool = sharedPool, publicLimits: PublicBudget.Limits = PublicBudget.Limits()) async throws -> APIServices {
    var settings = testSettings()
    settings.publicLimits = publicLimits
    settings.jsonMaxBytes = 4096
    (settings.loginBurst, settings.loginPerMinute) = loginBudget
    let graph = try await ServiceGraph.make(settings, pool: pool, clock: clock.serviceClock, hashingPool: hashingPool)
    return APIServices(graph: graph, migrator: projectMigrations)
}

extension ByteBuffer {
    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(readableBytesView))) as? [String: Any]) ?? [:] }
}

extension TestClientProtocol {
    /// POSTs a JSON body, with a bearer token when given.
    func post(_ uri: String, _ body: [String: Any]?, token: String? = nil, language: String? = nil,
              _ check: @escaping (TestResponse) async throws -> Void) async throws {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let language { headers[.acceptLanguage] = language }
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        try await execute(uri: uri, method: .post, headers: headers, body: data.map { ByteBuffer(bytes: $0) }) { try await check($0) }
    }

    func get(_ uri: String, token: String? = nil, _ check: @escaping (TestResponse) async throws -> Void) async throws {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        try await execute(uri: uri, method: .get, headers: headers) { try await check($0) }
    }
}
