import Accounts
import Foundation
import Postgres
import Testing
import TestSupport

/// The built `spse-accounts`, run as a child process against a throwaway database, as an operator's
/// shell or a provisioning script would run it.
struct CLI {
    let fixture: AccountsFixture
    let password = "kopi jahe hangat sekali"
    let directory: String

    static var executable: String {
        get throws {
            let candidates = [
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("spse-accounts").path,
                URL(fileURLWithPath: #filePath).appendingPathComponent("../../../.build/debug/spse-accounts").standardized.path,
            ]
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw TestSetupError("spse-accounts is not built next to the tests (looked at \(candidates))")
            }
            return found
        }
    }

    static let repository = URL(fileURLWithPath: #filePath).appendingPathComponent("../../..").standardized.path

    /// A database with an admin_ppe (`admin.ppe`) who has changed the bootstrap password, and a staf.
    static func with(_ body: (CLI) async throws -> Void) async throws {
        try await AccountsFixture.with { fixture in
            let (_, temporary, _) = try await Bootstrap(pool: fixture.pool, directory: fixture.directory, credentials: fixture.credentials).createFirstAdmin(
                userID: try UserID("admin.ppe"), fullName: try FullName("Budi Santoso"), email: try EmailAddress("budi@purbalinggakab.go.id"),
                agency: try Agency("LPSE Kabupaten Purbalingga"), nip: nil)
            let cli = CLI(fixture: fixture, directory: NSTemporaryDirectory() + "spse-cli-\(UUID().uuidString)")
            _ = try await fixture.firstLogin("admin.ppe", temporary: temporary, password: cli.password)
            try FileManager.default.createDirectory(atPath: cli.directory, withIntermediateDirectories: true)
            try await body(cli)
        }
    }

    var environment: [String: String] {
        let base = ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
        return [
            "DATABASE_URL": base + (base.contains("?") ? "&" : "?") + "dbname=\(fixture.database.name)",
            "SPSE_MIGRATIONS_DIR": Self.repository + "/sql",
            "SPSE_ARGON2_MEMORY_KIB": "64", "SPSE_ARGON2_ITERATIONS": "1",
            "SPSE_OPERATOR": "admin.ppe", "SPSE_OPERATOR_PASSWORD": password,
            // The second factor has its own tests; the secrets key stays in the test's directory.
            "SPSE_TOTP_OPERATORS": "optional", "SPSE_SECRETS_KEY_FILE": directory + "/secrets.key",
            "PATH": "/usr/bin:/bin", "HOME": directory,
        ]
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]) ?? [:] }
    }

    func run(_ arguments: [String], _ changes: [String: String?] = [:]) throws -> Result {
        var environment = environment
        for (key, value) in changes { environment[key] = value }
        let child = try ChildProcess.spawn([try Self.executable] + arguments, environment: environment, splitErrors: true)
        let status = child.wait()
        defer { try? FileManager.default.removeItem(atPath: child.outputPath); try? FileManager.default.removeItem(atPath: child.outputPath + ".err") }
        return Result(status: status, stdout: child.output, stderr: child.errors)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// `count` valid rows: user01…, with NIPs and e-mails that differ per row.
func batch(_ count: Int) -> String {
    var text = "user_id,role,full_name,nip,email,agency\n"
    for i in 1...count {
        text += "user\(String(format: "%03d", i)),verifikator,Pegawai \(i),19850315201012\(i % 2 + 1)\(String(format: "%03d", i)),user\(i)@purbalinggakab.go.id,\"Dinas Kominfo, Purbalingga\"\n"
    }
    return text
}

@Suite("CLI")
struct CLITests {
    @Test("a wrong operator password is refused with exit 6 and changes nothing; no operator at all is a usage error")
    func operatorAuthentication() async throws {
        try await CLI.with { cli in
            let args = ["account", "create", "--user-id", "hd01", "--role", "helpdesk", "--full-name", "Sekar Ayu",
                        "--email", "hd01@purbalinggakab.go.id", "--agency", "Diskominfo"]
            let refused = try cli.run(args, ["SPSE_OPERATOR_PASSWORD": "not the password"])
            #expect(refused.status == 6)
            #expect(refused.stderr.contains("operator authentication failed (invalid_credentials)"))
            #expect(!refused.stderr.contains("not the password"))
            #expect(try await cli.fixture.count("SELECT count(*) FROM accounts WHERE user_id = 'hd01'") == 0)
            #expect(try await cli.fixture.count("SELECT count(*) FROM audit_events WHERE action = 'login.failure' AND actor = 'admin.ppe'") == 1)

            let nobody = try cli.run(args, ["SPSE_OPERATOR": nil])
            #expect(nobody.status == 1)
            // A token from the API stands in for the password (issued now: the CLI reads the real clock).
            cli.fixture.clock.advance(Date().timeIntervalSince(cli.fixture.clock.now))
            guard case .ok(let token, _) = try await cli.fixture.credentials.login(userID: "admin.ppe", password: cli.password) else {
                Issue.record("admin login failed")
                return
            }
            let withToken = try cli.run(args + ["--json"], ["SPSE_OPERATOR": nil, "SPSE_OPERATOR_PASSWORD": nil, "SPSE_OPERATOR_TOKEN": token.value])
            #expect(withToken.status == 0)
            #expect(try await cli.fixture.count("SELECT count(*) FROM audit_events WHERE action = 'account.create' AND actor = 'admin.ppe' AND subject = 'hd01'") == 1)
            let badToken = try cli.run(args, ["SPSE_OPERATOR_TOKEN": "forged"])
            #expect(badToken.status == 6)
        }
    }

    @Test("exit codes: 0 ok, 1 usage, 2 refused, 3 not found, 4 database unavailable")
    func exitCodes() async throws {
        try await CLI.with { cli in
            let create = ["account", "create", "--user-id", "hd01", "--role", "helpdesk", "--full-name", "Sekar Ayu",
                          "--nip", "196102251986031010", "--email", "hd01@purbalinggakab.go.id", "--agency", "Diskominfo"]
            #expect(try cli.run(create).status == 0)
            #expect(try cli.run(create).status == 2)  // the user ID exists
            #expect(try cli.run(["account", "show", "nobody01"]).status == 3)
            #expect(try cli.run(["account", "disable", "nobody01"]).status == 3)
            #expect(try cli.run(["account", "create", "--user-id", "hd02", "--role", "helpdesk", "--full-name", "X", "--nip", "12345",
                                 "--email", "hd02@purbalinggakab.go.id", "--agency", "D"]).status == 1)
            #expect(try cli.run(["account", "show"]).status == 1)
            #expect(try cli.run(["account", "frobnicate"]).status == 1)
            #expect(try cli.run(["request", "show", "REQ-2026-999999"]).status == 3)
            #expect(try cli.run(["account", "disable", "hd01"]).status == 0)
            #expect(try cli.run(["account", "enable", "hd01"]).status == 0)
            #expect(try cli.run(["account", "unlock", "hd01"]).status == 0)
            let unreachable = try cli.run(["account", "show", "hd01"], ["DATABASE_URL": "postgresql:///x?host=/nonexistent-socket-dir&port=1&connect_timeout=2"])
            #expect(unreachable.status == 4)
            // A staf may not create accounts: refused, exit 2, audited nowhere as a change.
            _ = try await cli.fixture.directory.create(
                NewAccount(userID: try UserID("staf.adm"), role: .stafAdministrasi, fullName: try FullName("Rina"), nip: nil,
                           email: try EmailAddress("rina@purbalinggakab.go.id"), agency: try Agency("LPSE")),
                by: cli.fixture.admin)
            let stafTemporary = try await cli.fixture.reset(try await cli.fixture.directory.show(try UserID("staf.adm"), by: cli.fixture.admin, reason: "t"))
            _ = try await cli.fixture.firstLogin("staf.adm", temporary: stafTemporary, password: "teh manis dingin sekali")
            let staf = try cli.run(create.map { $0 == "hd01" ? "hd03" : $0 }, ["SPSE_OPERATOR": "staf.adm", "SPSE_OPERATOR_PASSWORD": "teh manis dingin sekali"])
            #expect(staf.status == 2)
            #expect(staf.stderr.contains("staf_administrasi may not create accounts"))
        }
    }

    @Test("--json shapes: created account, lookup, errors, and a provisioning report")
    func jsonShapes() async throws {
        try await CLI.with { cli in
            let created = try cli.run(["account", "create", "--user-id", "hd01", "--role", "helpdesk", "--full-name", "Sekar Ayu Wulandari",
                                       "--email", "hd01@purbalinggakab.go.id", "--agency", "Diskominfo", "--json"])
            #expect(created.status == 0)
            #expect(Set(created.json.keys) == ["account", "temporary_password", "temporary_password_expires_at"])
            #expect((created.json["account"] as? [String: Any])?["must_change_password"] as? Bool == true)

            let lookup = try cli.run(["account", "lookup", "sekar wulandar", "--reason", "REQ-2026-000001", "--json"])
            #expect(lookup.status == 0)
            #expect(Set(lookup.json.keys) == ["matched_by", "page", "has_more", "accounts"])
            #expect(lookup.json["matched_by"] as? String == "name")
            #expect(((lookup.json["accounts"] as? [[String: Any]])?.first?["user_id"]) as? String == "hd01")

            let missing = try cli.run(["account", "show", "nobody01", "--json"])
            #expect(missing.status == 3)
            #expect(missing.json["error"] as? String == "account_not_found")

            let file = try cli.write("bad.csv", "user_id,role,full_name,nip,email,agency\nok01,auditor,A,,a@b.go.id,D\nbad,root,B,1,b@,D\n")
            let bad = try cli.run(["provision", file, "--dry-run", "--json"])
            #expect(bad.status == 2)
            #expect(bad.json["error"] as? String == "invalid_rows")
            let problems = (bad.json["problems"] as? [[String: Any]]) ?? []
            #expect(problems.map { "\($0["line"]!):\($0["column"]!):\($0["rule"]!)" } == ["3:role:bad_role", "3:nip:bad_nip", "3:email:bad_email"])
            #expect(problems.allSatisfy { ($0["detail"] as? String)?.isEmpty == false })

            let good = try cli.write("good.csv", batch(3))
            let dry = try cli.run(["provision", good, "--dry-run", "--json"])
            #expect(dry.status == 0)
            #expect(Set(dry.json.keys) == ["dry_run", "format", "file_sha256", "rows", "created", "unchanged"])
            #expect((dry.json["rows"] as? [[String: Any]])?.map { $0["outcome"] as? String } == ["would_create", "would_create", "would_create"])
        }
    }

    @Test("provision writes passwords only to a new 0600 file, refuses to overwrite it, and gives them to stdout only when asked")
    func provisionCredentials() async throws {
        try await CLI.with { cli in
            let file = try cli.write("accounts.csv", batch(4))
            let noDestination = try cli.run(["provision", file])
            #expect(noDestination.status == 1)
            #expect(noDestination.stderr.contains("--credentials-out"))
            #expect(try await cli.fixture.count("SELECT count(*) FROM accounts WHERE role = 'verifikator'") == 0)

            let out = cli.directory + "/credentials.csv"
            let first = try cli.run(["provision", file, "--credentials-out", out])
            #expect(first.status == 0)
            #expect(first.stdout.contains("4 created, 0 unchanged"))
            let mode = (try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)
            let written = try String(contentsOfFile: out, encoding: .utf8)
            #expect(written.split(separator: "\n").count == 5)
            // Nothing secret on the terminal.
            for line in written.split(separator: "\n").dropFirst() {
                let password = String(line.split(separator: ",")[1])
                #expect(!first.stdout.contains(password) && !first.stderr.contains(password))
            }
            #expect(try await cli.fixture.count("SELECT count(*) FROM audit_events WHERE action = 'provisioning.batch' AND actor = 'admin.ppe'") == 1)

            let more = try cli.write("more.csv", batch(6))
            let overwrite = try cli.run(["provision", more, "--credentials-out", out])
            #expect(overwrite.status == 2)
            #expect(try String(contentsOfFile: out, encoding: .utf8) == written)
            #expect(try await cli.fixture.count("SELECT count(*) FROM accounts WHERE role = 'verifikator'") == 4)

            let toStdout = try cli.run(["provision", more, "--credentials-out", "-"])
            #expect(toStdout.status == 0)
            let lines = toStdout.stdout.split(separator: "\n")
            #expect(lines.first == "user_id,temporary_password,expires_at")
            #expect(lines.dropFirst().map { $0.split(separator: ",")[0] } == ["user005", "user006"])
            #expect(toStdout.stderr.contains("2 created, 4 unchanged"))
        }
    }

    @Test("a provisioning run killed with SIGKILL half-way and run again provisions every row exactly once")
    func killAndRerun() async throws {
        try await CLI.with { cli in
            let rows = 200
            let file = try cli.write("accounts.csv", batch(rows))
            let out = cli.directory + "/credentials.csv"
            var environment = cli.environment
            // Real Argon2 cost, so the run is still hashing when it is killed.
            environment["SPSE_ARGON2_MEMORY_KIB"] = "19456"
            environment["SPSE_ARGON2_ITERATIONS"] = "2"
            let child = try ChildProcess.spawn([try CLI.executable, "provision", file, "--credentials-out", out], environment: environment, splitErrors: true)
            // Wait until it reports hashing progress, then kill it without warning.
            var waited = 0
            while !child.errors.contains("hashing") && waited < 600 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(child.errors.contains("hashing"))
            kill(child.pid, SIGKILL)
            #expect(child.wait() == 128 + SIGKILL)
            try? FileManager.default.removeItem(atPath: child.outputPath)
            // All or nothing: the killed run left no account behind.
            #expect(try await cli.fixture.count("SELECT count(*) FROM accounts WHERE role = 'verifikator'") == 0)

            let rerun = try cli.run(["provision", file, "--credentials-out", out, "--json"])
            #expect(rerun.status == 0)
            #expect(rerun.json["created"] as? Int == rows)
            #expect(try await cli.fixture.count("SELECT count(*) FROM accounts WHERE role = 'verifikator'") == rows)
            let issued = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }
            #expect(issued.count == rows && Set(issued).count == rows)

            let again = try cli.run(["provision", file, "--json"])
            #expect(again.status == 0)
            #expect(again.json["created"] as? Int == 0 && again.json["unchanged"] as? Int == rows)
            #expect(try await cli.fixture.count("SELECT count(*) FROM accounts WHERE role = 'verifikator'") == rows)
        }
    }

    @Test("a whole SOP request from the CLI: staf and admin each take their steps; wrong roles and states are refused")
    func requestSteps() async throws {
        try await CLI.with { cli in
            _ = try await cli.fixture.helpdesk("helpdesk01")
            _ = try await cli.fixture.directory.create(
                NewAccount(userID: try UserID("staf.adm"), role: .stafAdministrasi, fullName: try FullName("Rina Marlina"), nip: nil,
                           email: try EmailAddress("rina@purbalinggakab.go.id"), agency: try Agency("LPSE")),
                by: cli.fixture.admin)
            let stafTemporary = try await cli.fixture.reset(try await cli.fixture.directory.show(try UserID("staf.adm"), by: cli.fixture.admin, reason: "t"))
            _ = try await cli.fixture.firstLogin("staf.adm", temporary: stafTemporary, password: "teh manis dingin sekali")
            let asStaf: [String: String?] = ["SPSE_OPERATOR": "staf.adm", "SPSE_OPERATOR_PASSWORD": "teh manis dingin sekali"]
            let submitArgs = ["request", "submit", "--kind", "reset_password", "--subject-user-id", "helpdesk01",
                              "--requester-name", "Sekar", "--requester-contact", "sekar@purbalinggakab.go.id", "--channel", "hardcopy", "--json"]

            // Step 1 is Staf Administrasi's; the Admin PPE is refused.
            let byAdmin = try cli.run(submitArgs)
            #expect(byAdmin.status == 2)
            #expect(byAdmin.json["error"] as? String == "not_permitted")
            let submitted = try cli.run(submitArgs, asStaf)
            #expect(submitted.status == 0)
            let number = try #require(submitted.json["number"] as? String)
            #expect(submitted.json["state"] as? String == "submitted")

            let pdf = try cli.write("surat.pdf", "%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
            let early = try cli.run(["request", "completeness", number, "--complete", "--json"], asStaf)
            #expect(early.status == 2)  // documents are missing
            for type in ["surat_permohonan", "sk_pengangkatan"] {
                #expect(try cli.run(["request", "attach", number, "--type", type, pdf], asStaf).status == 0)
            }
            #expect(try cli.run(["request", "completeness", number, "--complete"], asStaf).status == 0)
            let wrongState = try cli.run(["request", "execute", number, "--json"])
            #expect(wrongState.status == 2)
            #expect(wrongState.json["error"] as? String == "wrong_state")
            #expect(try cli.run(["request", "validity", number, "--valid"]).status == 1)  // no subject named
            #expect(try cli.run(["request", "validity", number, "--valid", "--subject-user-id", "helpdesk01"]).status == 0)
            let executed = try cli.run(["request", "execute", number, "--json"])
            #expect(executed.status == 0)
            #expect((executed.json["temporary_password"] as? String)?.count == 24)
            #expect((executed.json["request"] as? [String: Any])?["state"] as? String == "executed")
            #expect(try cli.run(["request", "notify", number]).status == 0)
            #expect(try cli.run(["request", "handover", number, "--channel", "phone", "--recipient", "Sekar"]).status == 0)
            #expect(try cli.run(["request", "confirm-receipt", number]).status == 0)
            let listed = try cli.run(["request", "list", "--json"], asStaf)
            #expect(listed.stdout.contains(number))
            let archived = try cli.run(["request", "archive", number, "--json"], asStaf)
            #expect(archived.status == 0)
            #expect((archived.json["request"] as? [String: Any])?["state"] as? String == "archived")
            let shown = try cli.run(["request", "show", number, "--json"])
            #expect((shown.json["documents"] as? [Any])?.count == 2)
            let tar = cli.directory + "/\(number).tar"
            #expect(try cli.run(["request", "export", number, "--out", tar]).status == 0)
            #expect(FileManager.default.fileExists(atPath: tar))
            // Every step is audited under the operator who took it.
            #expect(try await cli.fixture.count("SELECT count(*) FROM audit_events WHERE request_id = $1 AND actor = 'staf.adm'", [number]) >= 4)
            #expect(try await cli.fixture.count("SELECT count(*) FROM audit_events WHERE request_id = $1 AND actor = 'admin.ppe'", [number]) >= 3)
            let help = try cli.run(["request", "--help"])
            #expect(help.status == 0 && help.stdout.contains("Example of a whole reset"))
        }
    }

    @Test("SIGTERM: /readyz turns 503 for the drain period while requests are still served, then the server exits cleanly")
    func gracefulShutdown() async throws {
        try await CLI.with { cli in
            var environment = cli.environment
            let port = HTTPProbe.freePort()
            environment["SPSE_PORT"] = String(port)
            environment["SPSE_SHUTDOWN_DRAIN_SECONDS"] = "2"
            environment["SPSE_NOTICE_FILE"] = cli.directory + "/notices.jsonl"
            let server = try ChildProcess.spawn([try CLI.executable, "serve"], environment: environment)
            defer { kill(server.pid, SIGKILL) }
            func get(_ path: String) -> Int { HTTPProbe.status(port: port, path: path) }
            var ready = 0
            for _ in 0..<100 where ready != 200 {
                ready = get("/readyz")
                if ready != 200 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(ready == 200)
            kill(server.pid, SIGTERM)
            try await Task.sleep(for: .milliseconds(400))
            #expect(get("/readyz") == 503, "draining")
            #expect(get("/healthz") == 200, "still serving during the drain")
            let started = ContinuousClock.now
            let status = server.wait()
            #expect(status == 0)
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(get("/healthz") == 0, "no longer accepting")
        }
    }

    @Test("a single-admin site recovers its admin_ppe with the database owner's credentials, audited")
    func recoverAdmin() async throws {
        try await CLI.with { cli in
            let refused = try cli.run(["bootstrap-admin", "--user-id", "admin.ppe", "--recover"])
            #expect(refused.status == 1, "a reason is required")
            let recovered = try cli.run(["bootstrap-admin", "--user-id", "admin.ppe", "--recover", "--reason", "admin tunggal lupa password", "--json"])
            #expect(recovered.status == 0, "\(recovered.stderr)")
            let temporary = try #require(recovered.json["temporary_password"] as? String)
            #expect(try await cli.fixture.credentials.login(userID: "admin.ppe", password: temporary).code == "password_change_required")
            #expect(try await cli.fixture.count("SELECT count(*) FROM audit_events WHERE action = 'bootstrap.recover' AND actor = 'database-owner'") == 1)
        }
    }
}

@Suite("CLI: the operator's second factor")
struct CLISecondFactorTests {
    @Test("an operator enrols from the CLI, then every command needs SPSE_OPERATOR_TOTP; a replayed or wrong code is refused")
    func enrolAndUse() async throws {
        try await CLI.with { cli in
            let required: [String: String?] = ["SPSE_TOTP_OPERATORS": "required"]
            let blocked = try cli.run(["request", "list", "--json"], required)
            #expect(blocked.status == 6 && blocked.stdout.contains("totp_enrolment_required"))
            // Each enrolment is bound to the session that started it: a second one gets a new key, and
            // the first session can no longer confirm.
            let first = try cli.run(["totp", "enrol", "--json"], required)
            let second = try cli.run(["totp", "enrol", "--json"], required)
            #expect(first.status == 0 && second.status == 0)
            let (key1, token1) = (try #require(first.json["secret"] as? String), try #require(first.json["enrolment_token"] as? String))
            let (key, token) = (try #require(second.json["secret"] as? String), try #require(second.json["enrolment_token"] as? String))
            #expect(key != key1 && (second.json["otpauth_uri"] as? String)?.hasPrefix("otpauth://totp/") == true)
            #expect(try cli.run(["totp", "confirm", "--code", AuthenticatorApp.code(key1, at: Date())], ["SPSE_OPERATOR_TOKEN": token1]).status != 0)
            #expect(try cli.run(["totp", "confirm", "--code", "000000"], ["SPSE_OPERATOR_TOKEN": token]).status != 0)
            let confirmed = try cli.run(["totp", "confirm", "--json", "--code", AuthenticatorApp.code(key, at: Date())], ["SPSE_OPERATOR_TOKEN": token])
            #expect(confirmed.status == 0 && (confirmed.json["recovery_codes"] as? [String])?.count == 10)

            let noCode = try cli.run(["request", "list", "--json"], required)
            #expect(noCode.status == 1 && noCode.stderr.contains("SPSE_OPERATOR_TOTP"), "no code and no terminal: told what to set")
            // The next step's code (the current one was spent by the confirmation).
            let next = AuthenticatorApp.code(key, at: Date().addingTimeInterval(30))
            var withCode = required
            withCode["SPSE_OPERATOR_TOTP"] = next
            #expect(try cli.run(["request", "list", "--json"], withCode).status == 0)
            #expect(try cli.run(["request", "list", "--json"], withCode).status == 6, "the same code twice: a replay")
            withCode["SPSE_OPERATOR_TOTP"] = "123456"
            #expect(try cli.run(["request", "list", "--json"], withCode).status == 6)
            #expect(try await cli.fixture.count("SELECT count(*) FROM audit_events WHERE action = 'totp.enrolled' AND actor = 'admin.ppe'") == 1)
        }
    }
}
