import Accounts
import Foundation
import Gate
import Hummingbird
import HummingbirdTesting
import Operations
import Synchronization
import Testing
import TestSupport

/// `spse-accounts serve` processes on one database, as behind a balancer.
struct Instances {
    let servers: [(process: ChildProcess, port: Int, notices: String)]

    /// `each` adds settings of one instance's own (by index): instances configured differently.
    /// Each is ready when `ready(port)` holds (plain `/readyz` by default); one that ends before,
    /// or is not ready within 30 s, fails the test with its own output instead of leaving a dead
    /// port for later expectations. A port taken in between is retried on another.
    static func start(_ count: Int, _ cli: CLI, extra: [String: String] = [:], each: [Int: [String: String]] = [:],
                      ready: @escaping @Sendable (Int) -> Bool = { HTTPProbe.status(port: $0, path: "/readyz") == 200 }) async throws -> Instances {
        var servers: [(ChildProcess, Int, String)] = []
        do {
            for index in 0..<count {
                var environment = cli.environment
                environment["SPSE_NOTICE_FILE"] = cli.directory + "/notices-\(index).jsonl"
                environment["SPSE_NOTICE_INTERVAL"] = "1"
                environment["SPSE_SHUTDOWN_DRAIN_SECONDS"] = "0"
                for (key, value) in extra.merging(each[index] ?? [:], uniquingKeysWith: { $1 }) { environment[key] = value }
                servers.append(try await startOne(environment, ready: ready))
            }
        } catch {
            for (process, _, _) in servers { process.terminate() }
            throw error
        }
        return Instances(servers: servers)
    }

    private static func startOne(_ base: [String: String], ready: @Sendable (Int) -> Bool) async throws -> (ChildProcess, Int, String) {
        var output = ""
        for _ in 0..<3 {
            var environment = base
            let port = HTTPProbe.freePort()
            environment["SPSE_PORT"] = String(port)
            let process = try ChildProcess.spawn([try CLI.executable, "serve"], environment: environment)
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if ready(port) { return (process, port, environment["SPSE_NOTICE_FILE"]!) }
                if process.hasEnded { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            output = process.output
            process.terminate()
            guard output.localizedCaseInsensitiveContains("address already in use") else { break }
        }
        throw TestSetupError("serve did not become ready: \(output.suffix(2_000))")
    }

    func stop() { for server in servers { server.process.terminate() } }
}

@Suite("Two instances on one database")
struct InstancesTests {
    @Test("the per-address budget, the lockout, exactly-once execution and the outbox hold across two serve processes")
    func twoInstances() async throws {
        try await CLI.with { cli in
            let instances = try await Instances.start(2, cli, extra: ["SPSE_LOGIN_BURST": "7", "SPSE_LOGIN_PER_MINUTE": "1"])
            defer { instances.stop() }
            let (a, b) = (instances.servers[0].port, instances.servers[1].port)
            func login(_ port: Int, _ userID: String, _ password: String) -> (Int, String) {
                let (status, body) = HTTPProbe.request(port: port, method: "POST", path: "/v1/auth/login",
                                                       body: #"{"user_id":"\#(userID)","password":"\#(password)"}"#)
                let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
                return (status, (json?["token"] as? String) ?? (json?["code"] as? String) ?? "")
            }

            // The lockout: five wrong guesses split over both instances lock the user ID at either.
            let (_, temporary) = try await cli.fixture.helpdesk()
            _ = try await cli.fixture.firstLogin("helpdesk01", temporary: temporary, password: "soto sokaraja pedas")
            for port in [a, b, a, b, a] { #expect(login(port, "helpdesk01", "tebakan salah").1 == "invalid_credentials") }
            #expect(login(b, "helpdesk01", "soto sokaraja pedas").1 == "locked")

            // The budget: seven attempts from this address in all (six spent above, one left), then 429 at both.
            let (status, admin) = login(a, "admin.ppe", cli.password)
            #expect(status == 200)
            #expect(login(b, "nobody.here", "x").0 == 429)
            #expect(login(a, "nobody.here", "x").0 == 429)

            // Exactly once: the same execute sent to both at once resets once.
            let graph = cli.fixture.graph
            let staf = try await cli.fixture.directory.create(
                NewAccount(userID: try UserID("staf.adm"), role: .stafAdministrasi, fullName: try FullName("Dewi Lestari"), nip: nil,
                           email: try EmailAddress("dewi@purbalinggakab.go.id"), agency: try Agency("LPSE")), by: cli.fixture.admin)
            _ = staf
            let stafActor = Actor(userID: "staf.adm", role: .stafAdministrasi)
            let request = try await graph.gate.submit(
                NewRequest(kinds: [.resetPassword], subject: SubjectHint(userID: "helpdesk01"), requesterName: "Sekar",
                           requesterContact: "sekar@purbalinggakab.go.id", channel: .hardcopy), by: stafActor)
            for type in [DocumentType.suratPermohonan, .skPengangkatan] {
                _ = try await graph.gate.addDocument(
                    try DocumentUpload(type: type, fileName: "\(type.rawValue).pdf", mediaType: "application/pdf",
                                       content: Array("%PDF-1.7\n%%EOF\n".utf8), limit: 1 << 20), to: request.id, by: stafActor)
            }
            _ = try await graph.gate.act(.completeness(complete: true), on: request.id, by: stafActor)
            _ = try await graph.gate.act(.validity(valid: true, subject: "helpdesk01"), on: request.id, by: Actor(userID: "admin.dua", role: .adminPPE))
            let statuses = await withTaskGroup(of: Int.self) { group in
                for port in [a, b] {
                    group.addTask {
                        HTTPProbe.request(port: port, method: "POST", path: "/v1/requests/\(request.number)/execute",
                                          headers: ["Authorization": "Bearer \(admin)"]).status
                    }
                }
                var all: [Int] = []
                for await status in group { all.append(status) }
                return all.sorted()
            }
            #expect(statuses == [200, 409])
            #expect(try await cli.fixture.count("SELECT count(*) FROM audit_events WHERE action = 'request.execute' AND request_id = $1", [request.number]) == 1, "one step 6, one reset")

            // The outbox: the step-8 notice is delivered once, by one of the two.
            #expect(HTTPProbe.request(port: b, method: "POST", path: "/v1/requests/\(request.number)/notify",
                                      headers: ["Authorization": "Bearer \(admin)"]).status == 200)
            var lines: [String] = []
            for _ in 0..<50 {
                lines = instances.servers.flatMap { server in
                    ((try? String(contentsOfFile: server.notices, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                }.filter { $0.contains(request.number) }
                if !lines.isEmpty { try await Task.sleep(for: .seconds(2)); break }
                try await Task.sleep(for: .milliseconds(200))
            }
            lines = instances.servers.flatMap { server in
                ((try? String(contentsOfFile: server.notices, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            }.filter { $0.contains(request.number) }
            #expect(lines.count == 1, "delivered exactly once across both instances: \(lines)")
        }
    }

    @Test("back-channel logout across two serve processes (delivering every 50 and 70 ms): 20 sessions ended at once, half at each, give 20 logout tokens, one per session, none twice")
    func logoutsAcrossInstances() async throws {
        let received = Mutex<[String]>([])
        let router = Router()
        router.post("bcl") { request, _ -> HTTPResponse.Status in
            let form = String(buffer: try await request.body.collect(upTo: 65_536))
            received.withLock { $0.append(String(form.dropFirst("logout_token=".count))) }
            return .ok
        }
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiver.test(.live) { client in
            let port = try #require(client.port)
            try await CLI.with { cli in
                let registered = try cli.run(["oidc", "client-add", "--client-id", "tiket", "--name", "Tiket Helpdesk LPSE",
                                              "--redirect-uri", "https://tiket.example.go.id/cb", "--backchannel-logout-uri", "http://127.0.0.1:\(port)/bcl"],
                                             ["SPSE_OIDC_ISSUER": "http://127.0.0.1:8080"])
                #expect(registered.status == 0, "\(registered.stderr)")
                let instances = try await Instances.start(2, cli, extra: ["SPSE_OIDC_ISSUER": "http://127.0.0.1:8080", "SPSE_LOGIN_BURST": "1000"],
                                                         each: [0: ["SPSE_OIDC_LOGOUT_INTERVAL_MS": "50"], 1: ["SPSE_OIDC_LOGOUT_INTERVAL_MS": "70"]])
                defer { instances.stop() }
                // Sessions signed in through the instances (their clock), each recorded as having
                // signed the user in to the application (as a redeemed code records it).
                let ports = instances.servers.map(\.port)
                var tokens: [String] = []
                for index in 0..<20 {
                    let (status, body) = HTTPProbe.request(port: ports[index % 2], method: "POST", path: "/v1/auth/login",
                                                           body: #"{"user_id":"admin.ppe","password":"\#(cli.password)"}"#)
                    let token = ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])?["token"] as? String ?? ""
                    #expect(status == 200 && !token.isEmpty, "\(status) \(body)")
                    try await cli.fixture.pool.withConnection { connection in
                        try await connection.execute(
                            """
                            INSERT INTO oidc_session_clients (session_digest, client_id, account_id, sid, first_at)
                            SELECT $1, 'tiket', id, $2, now() FROM accounts WHERE user_id = 'admin.ppe'
                            """, [SessionToken(presented: token).digest, "sid-\(index)"])
                    }
                    tokens.append(token)
                }
                let statuses = await withTaskGroup(of: Int.self) { group in
                    for (index, token) in tokens.enumerated() {
                        group.addTask {
                            HTTPProbe.request(port: ports[index % 2], method: "POST", path: "/v1/auth/logout", headers: ["Authorization": "Bearer \(token)"]).status
                        }
                    }
                    return await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.allSatisfy { $0 == 204 }, "\(statuses) \(ports)")
                for _ in 0..<100 where received.withLock({ $0.count }) < 20 { try await Task.sleep(for: .milliseconds(100)) }
                try await Task.sleep(for: .milliseconds(500))  // time for a second delivery, if there were one
                let sids = received.withLock { $0 }.compactMap { token -> String? in
                    let parts = token.split(separator: ".")
                    guard parts.count == 3, let payload = Data(base64Encoded: String(parts[1]).replacingOccurrences(of: "-", with: "+")
                        .replacingOccurrences(of: "_", with: "/").padding(toLength: (parts[1].count + 3) / 4 * 4, withPad: "=", startingAt: 0)) else { return nil }
                    return ((try? JSONSerialization.jsonObject(with: payload)) as? [String: Any])?["sid"] as? String
                }
                #expect(sids.count == 20 && Set(sids).count == 20, "\(sids.count) received, \(Set(sids).count) distinct")
                #expect(try await cli.fixture.count("SELECT count(*) FROM oidc_logouts WHERE delivered_at IS NOT NULL") == 20)
            }
        }
    }

    @Test("the public door's budgets are one across two serve processes: 20 concurrent wrong tracking codes spend exactly the number's budget, and filings per e-mail count at both")
    func publicBudgetsAcrossInstances() async throws {
        try await CLI.with { cli in
            let instances = try await Instances.start(2, cli, extra: [
                "SPSE_PUBLIC_TRACKING_PER_REQUEST": "5", "SPSE_PUBLIC_FILINGS_PER_EMAIL": "2", "SPSE_PUBLIC_FILINGS_PER_ADDRESS": "100",
                "SPSE_PUBLIC_TRACKING_PER_ADDRESS": "1000",
            ])
            defer { instances.stop() }
            let (a, b) = (instances.servers[0].port, instances.servers[1].port)
            let boundary = "instances-boundary"
            func filing(_ email: String) -> String {
                var body = ""
                for (name, value) in [("kinds", "reset_password"), ("full_name", "Sekar Ayu Wulandari"), ("email", email), ("agency", "Dinas Kominfo")] {
                    body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
                }
                for name in ["surat_permohonan", "sk_pengangkatan"] {
                    body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(name).pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n%%EOF\n\r\n"
                }
                return body + "--\(boundary)--\r\n"
            }
            func file(_ port: Int, _ email: String) -> (Int, String) {
                let (status, body) = HTTPProbe.request(port: port, method: "POST", path: "/v1/public/requests",
                                                       headers: ["Content-Type": "multipart/form-data; boundary=\(boundary)"], body: filing(email))
                let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
                return (status, json?["number"] as? String ?? "")
            }
            let (first, number) = file(a, "sekar@purbalinggakab.go.id")
            #expect(first == 201)
            #expect(file(b, "sekar@purbalinggakab.go.id").0 == 201)
            #expect(file(a, "sekar@purbalinggakab.go.id").0 == 429, "the e-mail's budget of 2 is shared")
            #expect(file(b, "SEKAR@purbalinggakab.go.id").0 == 429)

            let statuses = await withTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        HTTPProbe.request(port: index % 2 == 0 ? a : b, method: "GET", path: "/v1/public/requests/\(number)",
                                          headers: ["X-Tracking-Code": "00000-00000-00000-00000-00000-\(index % 10)"]).status
                    }
                }
                var all: [Int] = []
                for await status in group { all.append(status) }
                return all
            }
            #expect(statuses.filter { $0 == 404 }.count == 5, "\(statuses.sorted())")
            #expect(statuses.filter { $0 == 429 }.count == 15, "\(statuses.sorted())")
        }
    }

    @Test("plain HTTP on a network address is refused unless allowed; with a certificate, serve speaks TLS")
    func transport() async throws {
        try await CLI.with { cli in
            let refused = try cli.run(["serve", "--host", "0.0.0.0", "--port", "18999"])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("SPSE_HOST must be a loopback address for plain HTTP"))

            let key = cli.directory + "/key.pem", certificate = cli.directory + "/cert.pem"
            try ChildProcess.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                  "-keyout", key, "-out", certificate, "-subj", "/CN=localhost", "-days", "1"])
            let instances = try await Instances.start(1, cli, extra: ["SPSE_TLS_CERT_FILE": certificate, "SPSE_TLS_KEY_FILE": key],
                                                      ready: { HTTPProbe.accepts(port: $0) })
            defer { instances.stop() }
            let port = instances.servers[0].port
            #expect(HTTPProbe.status(port: port, path: "/healthz") == 0, "no plain HTTP answer on the TLS port")
            let client = try ChildProcess.spawn(["/bin/sh", "-c", "/usr/bin/openssl s_client -connect 127.0.0.1:\(port) -brief </dev/null"], splitErrors: true)
            let status = client.wait()
            #expect(status == 0)
            #expect((client.output + client.errors).contains("CONNECTION ESTABLISHED"))
        }
    }
}
