import Accounts
import Foundation
import Gate
import Operations
import Postgres
import Testing
import TestSupport

/// Issue 20 #2, #3 and issue 21 #4, #5: the facts a deployment's instances share, and a shutdown
/// that keeps its deadline and leaves no half-done step.
@Suite("One deployment: shared facts, shutdown", .serialized)
struct DeploymentTests {
    @Test("a secrets key that is not the database's stops the CLI and serve with exit 1 naming SPSE_SECRETS_KEY_FILE; a missing one is not made anew")
    func secretsKeyCheck() async throws {
        try await CLI.with { cli in
            #expect(try cli.run(["account", "show", "admin.ppe"]).status == 0, "the first start records the key's check value")
            let other = cli.directory + "/other.key"
            FileManager.default.createFile(atPath: other, contents: Data((0..<32).map { _ in UInt8.random(in: 0...255) }))
            let wrong = try cli.run(["account", "show", "admin.ppe"], ["SPSE_SECRETS_KEY_FILE": other])
            #expect(wrong.status == 1 && wrong.stderr.contains("SPSE_SECRETS_KEY_FILE") && !wrong.stderr.contains("internal"), "\(wrong.stderr)")
            let missing = cli.directory + "/elsewhere/secrets.key"
            let gone = try cli.run(["account", "show", "admin.ppe"], ["SPSE_SECRETS_KEY_FILE": missing])
            #expect(gone.status == 1 && gone.stderr.contains("SPSE_SECRETS_KEY_FILE"))
            #expect(!FileManager.default.fileExists(atPath: missing), "no new key beside the database's secrets")
            let port = HTTPProbe.freePort()
            let serve = try cli.run(["serve", "--port", String(port)], ["SPSE_SECRETS_KEY_FILE": other])
            #expect(serve.status == 1 && serve.stderr.contains("SPSE_SECRETS_KEY_FILE"))
        }
    }

    @Test("without SPSE_SECRETS_KEY_FILE the key lives in the state directory, whatever the working directory")
    func defaultKeyLocation() async throws {
        try await CLI.with { cli in
            let result = try cli.run(["account", "show", "admin.ppe"], ["SPSE_SECRETS_KEY_FILE": nil])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: cli.directory + "/.local/state/spse-accounts/secrets.key"))
            #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/.data/secrets.key")
                    || FileManager.default.fileExists(atPath: cli.directory + "/.local/state/spse-accounts/secrets.key"))
        }
    }

    @Test("an instance whose SPSE_SEALED_DELIVERY differs from the deployment's refuses to start, naming it; the mode changes for all at once")
    func sealedDeliveryAgreed() async throws {
        try await CLI.with { cli in
            let sealed: [String: String?] = ["SPSE_SEALED_DELIVERY": "true", "SPSE_SMTP_HOST": "127.0.0.1", "SPSE_SMTP_PORT": "1",
                                             "SPSE_SMTP_FROM": "lpse@purbalinggakab.go.id"]
            #expect(try cli.run(["account", "show", "admin.ppe"], sealed).status == 0, "instance A records sealed delivery")
            // Instance B: no SMTP, notices to a file, sealed delivery off.
            let port = HTTPProbe.freePort()
            let refused = try cli.run(["serve", "--port", String(port)])
            #expect(refused.status == 1 && refused.stderr.contains("SPSE_SEALED_DELIVERY"), "\(refused.stderr)")
            #expect(try cli.run(["deployment", "sealed-delivery"]).stdout.contains("true"))
            #expect(try cli.run(["deployment", "sealed-delivery", "--set", "false"]).status == 0)
            let b = try await Instances.start(1, cli)
            defer { b.stop() }
            #expect(HTTPProbe.status(port: b.servers[0].port, path: "/readyz") == 200)
            #expect(try cli.run(["account", "show", "admin.ppe"], sealed).status == 1, "now A is the one that disagrees")
        }
    }

    @Test("SIGTERM while step 6 waits on a lock: serve exits within drain + deadline + 1 s and the step leaves nothing behind")
    func shutdownDuringStep6() async throws {
        try await CLI.with { cli in
            let (_, _) = try await cli.fixture.helpdesk()
            let graph = cli.fixture.graph
            _ = try await cli.fixture.directory.create(
                NewAccount(userID: try UserID("staf.adm"), role: .stafAdministrasi, fullName: try FullName("Dewi Lestari"), nip: nil,
                           email: try EmailAddress("dewi@purbalinggakab.go.id"), agency: try Agency("LPSE")), by: cli.fixture.admin)
            let stafActor = Actor(userID: "staf.adm", role: .stafAdministrasi)
            let request = try await graph.gate.submit(
                NewRequest(kinds: [.resetPassword], subject: SubjectHint(userID: "helpdesk01"), requesterName: "Sekar",
                           requesterContact: "sekar@purbalinggakab.go.id", channel: .hardcopy),
                documents: [DocumentType.suratPermohonan, .skPengangkatan].map {
                    try DocumentUpload(type: $0, fileName: "\($0.rawValue).pdf", mediaType: "application/pdf",
                                       content: Array("%PDF-1.7\n%%EOF\n".utf8), limit: 1 << 20)
                }, by: stafActor)
            _ = try await graph.gate.act(.completeness(complete: true), on: request.id, by: stafActor)
            _ = try await graph.gate.act(.validity(valid: true, subject: "helpdesk01"), on: request.id, by: Actor(userID: "admin.dua", role: .adminPPE))

            let instances = try await Instances.start(1, cli, extra: ["SPSE_SHUTDOWN_DEADLINE_SECONDS": "1"])
            defer { instances.stop() }
            let (server, port) = (instances.servers[0].process, instances.servers[0].port)
            let (_, login) = HTTPProbe.request(port: port, method: "POST", path: "/v1/auth/login",
                                               body: #"{"user_id":"admin.ppe","password":"\#(cli.password)"}"#)
            let token = try #require(((try? JSONSerialization.jsonObject(with: Data(login.utf8))) as? [String: Any])?["token"] as? String)

            // Another session holds a table step 6 writes late in its transaction.
            let locker = try await PostgresConnection.connect(cli.fixture.database.configuration)
            try await locker.executeScript("BEGIN; LOCK TABLE login_challenges IN ACCESS EXCLUSIVE MODE")
            let execute = Task.detached {
                HTTPProbe.request(port: port, method: "POST", path: "/v1/requests/\(request.number)/execute", headers: ["Authorization": "Bearer \(token)"])
            }
            try await Task.sleep(for: .milliseconds(700))
            let signalled = ContinuousClock.now
            kill(server.pid, SIGTERM)
            let exited = await Task.detached { server.wait() }.value
            let took = ContinuousClock.now - signalled
            _ = await execute.value
            #expect(took < .milliseconds(3_500), "drain 0 + deadline 1 s + 1 s, with room for a loaded machine: took \(took)")
            _ = exited
            try await locker.executeScript("ROLLBACK")
            await locker.close()
            let after = try await graph.gate.request(request.id)
            #expect(after.state == .approved, "the cut-off step left nothing: still approved")
            let trail = try await cli.fixture.pool.withConnection { connection in
                try await connection.query("SELECT action, actor FROM audit_events WHERE request_id = $1 ORDER BY id", [request.number])
                    .map { "\(try $0.decode(String.self, column: "action")) \(try $0.decode(String.self, column: "actor"))" }
            }
            // (The one password.reset before the submit is the fixture's own first reset of helpdesk01.)
            #expect(trail.last == "request.validity admin.dua" && trail.filter { $0.hasPrefix("password.reset") }.count == 1, "\(trail)")
            // And the step can be taken again.
            #expect(try await graph.gate.act(.execute, on: request.id, by: Actor(userID: "admin.ppe", role: .adminPPE)).temporaryPassword != nil)
        }
    }
}
