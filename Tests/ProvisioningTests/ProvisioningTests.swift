import Accounts
import Audit
import Foundation
import Postgres
import Provisioning
import Synchronization
import Testing
import TestSupport

/// A batch file the way an LPSE writes one: Excel's BOM, CRLF, quoted fields with commas and quotes.
func sampleCSV(count: Int = 3, prefix: String = "user") -> [UInt8] {
    var text = "\u{FEFF}user_id,role,full_name,nip,email,agency\r\n"
    let roles = ["helpdesk", "verifikator", "auditor", "admin_agency"]
    for i in 1...count {
        let nip = i % 5 == 0 ? "" : "19850315201012" + "1" + String(format: "%03d", i)
        let name = i == 2 ? "\"Sri Rahayu, S.Kom. \"\"Ayu\"\"\"" : "Pegawai \(i)"
        text += "\(prefix)\(i),\(roles[i % roles.count]),\(name),\(nip),\(prefix)\(i)@purbalinggakab.go.id,\"Dinas Kominfo, Kabupaten Purbalingga\"\r\n"
    }
    return Array(text.utf8)
}

func temporaryPath(_ name: String) -> String {
    let directory = NSTemporaryDirectory() + "spse-prov-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return directory + "/" + name
}

extension AccountsFixture {
    func provisioner(hooks: ProvisioningHooks = ProvisioningHooks()) -> Provisioner {
        Provisioner(pool: pool, directory: directory, credentials: credentials, hooks: hooks)
    }
}

func credentialLines(_ path: String) throws -> [[String]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
}

@Suite("Provisioning")
struct ProvisioningTests {
    @Test("a valid CSV batch creates every account with a temporary password that must be changed at first login")
    func validBatch() async throws {
        try await AccountsFixture.with { fixture in
            let out = temporaryPath("credentials.csv")
            let report = try await fixture.provisioner().run(sampleCSV(count: 6), format: .csv, dryRun: false, credentialsTo: .file(out), by: fixture.admin)
            #expect(report.created == 6 && report.unchanged == 0)
            #expect(report.rows.map(\.line) == [2, 3, 4, 5, 6, 7])
            #expect(report.credentialsOut == out)
            #expect(try await fixture.count("SELECT count(*) FROM accounts WHERE must_change_password AND temp_password_expires_at IS NOT NULL") == 6)
            #expect(try await fixture.count("SELECT count(*) FROM accounts WHERE full_name = $1", ["Sri Rahayu, S.Kom. \"Ayu\""]) == 1)
            // The COPY added the names' words to the vocabulary the name lookup searches.
            #expect(try await fixture.count("SELECT count(*) FROM name_vocabulary WHERE word IN ('sri', 'rahayu', 'kom', 'ayu')") == 4)
            #expect(try await fixture.count("SELECT count(*) FROM accounts WHERE agency = 'Dinas Kominfo, Kabupaten Purbalingga'") == 6)
            #expect(try await fixture.count("SELECT count(*) FROM accounts WHERE nip IS NULL") == 1)

            let attributes = try FileManager.default.attributesOfItem(atPath: out)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let lines = try credentialLines(out)
            #expect(lines.first == ["user_id", "temporary_password", "expires_at"])
            #expect(lines.count == 7)
            #expect(!FileManager.default.fileExists(atPath: out + ".partial"))
            // The issued password is the one installed: login asks for a change.
            guard case .passwordChangeRequired = try await fixture.credentials.login(userID: lines[1][0], password: lines[1][1]) else {
                Issue.record("the temporary password from the credentials file did not log in")
                return
            }
            // No password, hashed or clear, in the audit trail; the batch is there with its counts.
            let audit = try await fixture.pool.withConnection {
                try await $0.query("SELECT actor, details::text FROM audit_events WHERE action = 'provisioning.batch'")
            }
            #expect(audit.count == 1)
            let details = try audit.first!.decode(String.self, at: 1)
            #expect(try audit.first!.decode(String.self, at: 0) == "admin.ppe")
            #expect(details.contains(report.fileSHA256) && details.contains("\"created\": 6"))
            for line in lines.dropFirst() { #expect(!details.contains(line[1])) }
            let dump = try await fixture.pool.withConnection { try await $0.query("SELECT string_agg(password_hash, ' ') FROM accounts") }
            for line in lines.dropFirst() { #expect(!(try dump.first!.decode(String.self, at: 0)).contains(line[1])) }
        }
    }

    @Test("every kind of bad row is reported at once with line, column and rule, and nothing is written")
    func badRows() async throws {
        try await AccountsFixture.with { fixture in
            _ = try await fixture.helpdesk("existing01", nip: "196102251986031010", email: "existing01@purbalinggakab.go.id")
            let accountsBefore = try await fixture.count("SELECT count(*) FROM accounts")
            let auditBefore = try await fixture.count("SELECT count(*) FROM audit_events")
            let csv = """
                user_id,role,full_name,nip,email,agency
                good01,helpdesk,Budi Santoso,198503152010121001,good01@purbalinggakab.go.id,Dinas Kominfo
                bad role,superuser,Andi,198503152010121002,andi@purbalinggakab.go.id,Dinas Kominfo
                bad03,helpdesk,Citra,1985031520101,citra@purbalinggakab.go.id,Dinas Kominfo
                bad04,helpdesk,Dewi,198503152010121004,dewi-at-purbalinggakab.go.id,Dinas Kominfo
                bad05,admin_ppe,Eko,198503152010121005,eko@purbalinggakab.go.id,Dinas Kominfo
                bad06,helpdesk,,198503152010121006,fajar@purbalinggakab.go.id,
                good01,auditor,Gita,198503152010121007,gita@purbalinggakab.go.id,Dinas Kominfo
                bad08,auditor,Hadi,198503152010121008,GOOD01@purbalinggakab.go.id,Dinas Kominfo
                existing01,auditor,Someone Else,198503152010121009,existing01@purbalinggakab.go.id,Dinas Kominfo
                bad10,auditor,Joko,196102251986031010,joko@purbalinggakab.go.id,Dinas Kominfo
                bad11,auditor,Kartika
                bad12,verifikator,Lestari,199013452015011001,lestari@purbalinggakab.go.id,Dinas Kominfo
                bad14,auditor,"Mega
                Wati",198503152010121014,mega@purbalinggakab.go.id,Dinas Kominfo
                bad16,auditor,Nanda,198503152010121016,nanda@,Dinas Kominfo
                """
            let out = temporaryPath("credentials.csv")
            let error = await #expect(throws: ProvisioningError.self) {
                try await fixture.provisioner().run(Array(csv.utf8), format: .csv, dryRun: false, credentialsTo: .file(out), by: fixture.admin)
            }
            guard case .invalidRows(let problems) = error else { Issue.record("expected invalidRows, got \(String(describing: error))"); return }
            let found = problems.map { "\($0.line):\($0.column?.rawValue ?? "-"):\($0.rule.rawValue)" }
            #expect(found == [
                "3:user_id:bad_user_id", "3:role:bad_role",
                "4:nip:bad_nip",
                "5:email:bad_email",
                "6:role:role_not_provisionable",
                "7:full_name:bad_full_name", "7:agency:bad_agency",
                "8:user_id:duplicate_in_file",
                "9:email:duplicate_in_file",
                "10:user_id:conflict_existing",
                "11:nip:conflict_existing",
                "12:-:field_count",
                "13:nip:bad_nip",
                "14:full_name:bad_full_name",
                "16:email:bad_email",
            ])
            #expect(problems.first { $0.line == 8 }?.detail == "same user_id as line 2")
            #expect(try await fixture.count("SELECT count(*) FROM accounts") == accountsBefore)
            #expect(try await fixture.count("SELECT count(*) FROM audit_events") == auditBefore)
            #expect(try await fixture.count("SELECT count(*) FROM provisioning_batches") == 0)
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test("a file without the header, with an unknown column or with an open quote is refused whole")
    func badStructure() async throws {
        try await AccountsFixture.with { fixture in
            func problems(_ text: String, _ format: BatchFormat = .csv) async -> [String] {
                do {
                    _ = try await fixture.provisioner().run(Array(text.utf8), format: format, dryRun: true, credentialsTo: .none, by: fixture.admin)
                    return []
                } catch ProvisioningError.invalidRows(let problems) {
                    return problems.map { "\($0.line):\($0.rule.rawValue)" }
                } catch {
                    return ["\(error)"]
                }
            }
            #expect(await problems("bud1,helpdesk,Budi,,budi@x.go.id,Dinas\n") == ["1:bad_header"])
            #expect(await problems("user_id,role,full_name,email,agency\n") == ["1:bad_header"])
            #expect(await problems("") == ["1:missing_header"])
            #expect(await problems("user_id,role,full_name,nip,email,agency\n") == ["1:no_rows"])
            #expect(await problems("user_id,role,full_name,nip,email,agency\nbudi,helpdesk,\"Budi,,budi@x.go.id,Dinas\n") == ["2:field_count", "2:unterminated_quote"])
            #expect(await problems("{\"user_id\":\"budi\"}\nnot json\n", .jsonl) == ["1:field_count", "2:invalid_json"])
            #expect(await problems("user_id,role,full_name,nip,email,agency\nbudi,helpdesk,Bud\u{FF}i\n".replacingOccurrences(of: "\u{FF}", with: "")) == ["2:field_count"])
            var latin1 = Array("user_id,role,full_name,nip,email,agency\nbudi,helpdesk,Bud".utf8)
            latin1 += [0xE9] + Array("i,,b@x.go.id,Dinas\n".utf8)
            let error = await #expect(throws: ProvisioningError.self) {
                try await fixture.provisioner().run(latin1, format: .csv, dryRun: true, credentialsTo: .none, by: fixture.admin)
            }
            #expect(error == .invalidRows([RowProblem(line: 2, column: nil, rule: .notUTF8, detail: "is not UTF-8 (save the file as \"CSV UTF-8\")")]))
        }
    }

    @Test("a dry run validates against the database and writes nothing")
    func dryRun() async throws {
        try await AccountsFixture.with { fixture in
            let out = temporaryPath("credentials.csv")
            let report = try await fixture.provisioner().run(sampleCSV(count: 4), format: .csv, dryRun: true, credentialsTo: .file(out), by: fixture.admin)
            #expect(report.dryRun && report.created == 0)
            #expect(report.rows.map(\.outcome) == Array(repeating: .wouldCreate, count: 4))
            #expect(try await fixture.count("SELECT count(*) FROM accounts") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM audit_events") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM provisioning_batches") == 0)
            #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".partial"))
        }
    }

    @Test("re-running the same file creates nothing and issues no new password")
    func rerunIsNoOp() async throws {
        try await AccountsFixture.with { fixture in
            let provisioner = fixture.provisioner()
            let first = temporaryPath("first.csv")
            _ = try await provisioner.run(sampleCSV(count: 3), format: .csv, dryRun: false, credentialsTo: .file(first), by: fixture.admin)
            let hashes = try await fixture.pool.withConnection { try await $0.query("SELECT string_agg(password_hash, ',' ORDER BY id) FROM accounts") }
                .first!.decode(String.self, at: 0)
            let second = temporaryPath("second.csv")
            let report = try await provisioner.run(sampleCSV(count: 3), format: .csv, dryRun: false, credentialsTo: .file(second), by: fixture.admin)
            #expect(report.created == 0 && report.unchanged == 3)
            #expect(report.rows.allSatisfy { $0.outcome == .unchanged })
            #expect(!FileManager.default.fileExists(atPath: second))
            let after = try await fixture.pool.withConnection { try await $0.query("SELECT string_agg(password_hash, ',' ORDER BY id) FROM accounts") }
                .first!.decode(String.self, at: 0)
            #expect(after == hashes)
            // The same command again, credentials file and all, is a no-op rather than an error.
            let same = try await provisioner.run(sampleCSV(count: 3), format: .csv, dryRun: false, credentialsTo: .file(first), by: fixture.admin)
            #expect(same.created == 0 && same.unchanged == 3)
            #expect(try credentialLines(first).count == 4)
            // A re-run needs no credentials destination at all, and is recorded as its own batch.
            let third = try await provisioner.run(sampleCSV(count: 3), format: .csv, dryRun: false, credentialsTo: .none, by: fixture.admin)
            #expect(third.unchanged == 3)
            #expect(try await fixture.count("SELECT count(*) FROM provisioning_batches WHERE created_count = 0 AND unchanged_count = 3") == 3)
            // A longer file with the same first rows creates only what is new.
            let fourth = try await provisioner.run(sampleCSV(count: 5), format: .csv, dryRun: false, credentialsTo: .returned, by: fixture.admin)
            #expect(fourth.created == 2 && fourth.unchanged == 3)
            #expect(fourth.credentials?.map(\.userID) == ["user4", "user5"])
        }
    }

    @Test("the credentials file is never overwritten and new accounts need one")
    func credentialsFileRules() async throws {
        try await AccountsFixture.with { fixture in
            let out = temporaryPath("credentials.csv")
            try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: out))
            let error = await #expect(throws: ProvisioningError.self) {
                try await fixture.provisioner().run(sampleCSV(), format: .csv, dryRun: false, credentialsTo: .file(out), by: fixture.admin)
            }
            #expect(error == .credentialsOutputExists(path: out))
            #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me\n")
            let missing = await #expect(throws: ProvisioningError.self) {
                try await fixture.provisioner().run(sampleCSV(), format: .csv, dryRun: false, credentialsTo: .none, by: fixture.admin)
            }
            #expect(missing == .credentialsOutputRequired(newAccounts: 3))
            let nowhere = await #expect(throws: ProvisioningError.self) {
                try await fixture.provisioner().run(sampleCSV(), format: .csv, dryRun: false, credentialsTo: .file("/nonexistent-dir/c.csv"), by: fixture.admin)
            }
            #expect(nowhere == .credentialsOutput(path: "/nonexistent-dir/c.csv", reason: "the directory does not exist"))
            let staff = await #expect(throws: ProvisioningError.self) {
                try await fixture.provisioner().run(sampleCSV(), format: .csv, dryRun: false, credentialsTo: .returned, by: fixture.staf)
            }
            #expect(staff == .notPermitted(role: .stafAdministrasi))
            #expect(try await fixture.count("SELECT count(*) FROM accounts") == 0)
        }
    }

    @Test("a run that dies between commit and naming the credentials file is completed by the next run")
    func crashAfterCommit() async throws {
        try await AccountsFixture.with { fixture in
            struct Crash: Error {}
            let out = temporaryPath("credentials.csv")
            let crashing = fixture.provisioner(hooks: ProvisioningHooks(afterCommit: { throw Crash() }))
            await #expect(throws: Crash.self) {
                try await crashing.run(sampleCSV(count: 3), format: .csv, dryRun: false, credentialsTo: .file(out), by: fixture.admin)
            }
            #expect(try await fixture.count("SELECT count(*) FROM accounts") == 3)
            #expect(FileManager.default.fileExists(atPath: out + ".partial") && !FileManager.default.fileExists(atPath: out))
            let report = try await fixture.provisioner().run(sampleCSV(count: 3), format: .csv, dryRun: false, credentialsTo: .file(out), by: fixture.admin)
            #expect(report.unchanged == 3 && report.created == 0)
            #expect(report.recoveredCredentials?.hasPrefix("published") == true)
            let lines = try credentialLines(out)
            #expect(lines.count == 4)
            guard case .passwordChangeRequired = try await fixture.credentials.login(userID: lines[3][0], password: lines[3][1]) else {
                Issue.record("the recovered credentials do not log in")
                return
            }
        }
    }

    @Test("a leftover credentials file of a batch that never committed is removed, not published")
    func uncommittedPartialRemoved() async throws {
        try await AccountsFixture.with { fixture in
            let out = temporaryPath("credentials.csv")
            try Data("user_id,temporary_password,expires_at\nuser1,aaaa-bbbb-cccc-dddd-eeee,2026-11-27T01:00:00Z\n".utf8)
                .write(to: URL(fileURLWithPath: out + ".partial"))
            let report = try await fixture.provisioner().run(sampleCSV(count: 2), format: .csv, dryRun: false, credentialsTo: .file(out), by: fixture.admin)
            #expect(report.created == 2)
            #expect(report.recoveredCredentials?.hasPrefix("removed") == true)
            let lines = try credentialLines(out)
            #expect(lines.count == 3 && !lines.joined().joined().contains("aaaa-bbbb"))
        }
    }

    @Test("two runs of one file at the same time provision every row exactly once")
    func concurrentRuns() async throws {
        try await AccountsFixture.with { fixture in
            let paths = [temporaryPath("a.csv"), temporaryPath("b.csv")]
            let reports = try await withThrowingTaskGroup(of: BatchReport.self) { group in
                for path in paths {
                    group.addTask { try await fixture.provisioner().run(sampleCSV(count: 20), format: .csv, dryRun: false, credentialsTo: .file(path), by: fixture.admin) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.map(\.created).reduce(0, +) == 20)
            #expect(try await fixture.count("SELECT count(*) FROM accounts") == 20)
            let issued = paths.filter { FileManager.default.fileExists(atPath: $0) }.flatMap { (try? credentialLines($0).dropFirst().map { $0[0] }) ?? [] }
            #expect(issued.sorted() == (1...20).map { "user\($0)" }.sorted())
        }
    }

    @Test("a JSON Lines batch is provisioned like a CSV one; NIP may be null or left out")
    func jsonLines() async throws {
        try await AccountsFixture.with { fixture in
            let jsonl = """
                {"user_id":"ver01","role":"verifikator","full_name":"Wahyu Nugroho","nip":"198503152010121001","email":"ver01@purbalinggakab.go.id","agency":"BPKAD"}
                {"user_id":"aud01","role":"auditor","full_name":"Yuni Astuti","nip":null,"email":"aud01@purbalinggakab.go.id","agency":"Inspektorat"}

                {"user_id":"hd01","role":"helpdesk","full_name":"Zainal Arifin","email":"hd01@purbalinggakab.go.id","agency":"Diskominfo"}
                """
            let report = try await fixture.provisioner().run(Array(jsonl.utf8), format: .jsonl, dryRun: false, credentialsTo: .returned, by: fixture.admin)
            #expect(report.rows.map(\.line) == [1, 2, 4])
            #expect(report.credentials?.count == 3)
            #expect(try await fixture.count("SELECT count(*) FROM accounts WHERE nip IS NULL") == 2)
        }
    }
}
