import Foundation
@testable import DoorKit
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Operations
import Testing
import TestSupport

@Suite("The client address behind a reverse proxy")
struct ClientAddressTests {
    static let proxies = ["10.0.0.0/8", "::1"].compactMap(AddressRange.init)

    @Test("forwarding headers are believed only from a trusted proxy, and the nearest untrusted hop is the client")
    func resolution() {
        #expect(ClientAddress.resolve(peer: "203.0.113.9", forwarded: nil, forwardedFor: "198.51.100.7", trusted: Self.proxies) == "203.0.113.9",
                "an untrusted peer cannot name another address")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwarded: nil, forwardedFor: "198.51.100.7", trusted: Self.proxies) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwarded: nil, forwardedFor: "6.6.6.6, 198.51.100.7, 10.0.0.3", trusted: Self.proxies)
                == "198.51.100.7", "a client-supplied left part does not count")
        #expect(ClientAddress.resolve(peer: "::1", forwarded: #"for="[2001:db8::7]:4711";proto=https, for=10.0.0.4"#, forwardedFor: nil,
                                      trusted: Self.proxies) == "2001:db8::7")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwarded: nil, forwardedFor: "not-an-address", trusted: Self.proxies) == "10.0.0.2")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwarded: nil, forwardedFor: "198.51.100.7", trusted: []) == "10.0.0.2")
        #expect(AddressRange("10.0.0.0/8")!.contains("::ffff:10.1.2.3"))
        #expect(AddressRange("300.1.1.1") == nil && AddressRange("10.0.0.0/33") == nil)
    }

    @Test("through a trusted proxy each client has its own login budget; a spoofed header from anyone else changes nothing")
    func budgetPerClient() async throws {
        try await AccountsFixture.with { f in
            for trusted in [true, false] {
                var settings = testSettings()
                (settings.loginBurst, settings.loginPerMinute) = (1, 1)
                if trusted { settings.trustedProxies = ["127.0.0.1"].compactMap(AddressRange.init) }
                let graph = try await ServiceGraph.make(settings, pool: f.pool, clock: f.clock.serviceClock, hashingPool: sharedPool)
                try await f.pool.withConnection { _ = try await $0.execute("DELETE FROM address_budget") }
                try await Server.application(configuration: .init(port: 0), services: APIServices(graph: graph, migrator: projectMigrations),
                                             logger: Logger(label: "test")).test(.live) { client in
                    var statuses: [Int] = []
                    for forwarded in ["198.51.100.7", "198.51.100.7", "198.51.100.8"] {
                        try await client.execute(uri: "/v1/auth/login", method: .post,
                                                 headers: [.contentType: "application/json", .init("X-Forwarded-For")!: forwarded],
                                                 body: ByteBuffer(string: #"{"user_id":"nobody.here","password":"x"}"#)) {
                            statuses.append(Int($0.status.code))
                        }
                    }
                    #expect(statuses == (trusted ? [401, 429, 401] : [401, 429, 429]), "trusted proxy: \(trusted)")
                }
            }
        }
    }
}
