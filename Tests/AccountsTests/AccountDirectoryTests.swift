import Accounts
import Foundation
import Inputs
import Postgres
import Testing
import TestSupport

@Suite("Account directory")
struct AccountDirectoryTests {
    func new(_ userID: String, _ name: String, nip: String? = nil, email: String? = nil, role: Role = .helpdesk,
             agency: String = "Dinas Komunikasi dan Informatika") throws -> NewAccount {
        NewAccount(userID: try UserID(userID), role: role, fullName: try FullName(name), nip: try nip.map { try NIP($0) },
                   email: try EmailAddress(email ?? "\(userID)@purbalinggakab.go.id"), agency: try Agency(agency))
    }

    @Test("create then show; the account starts with must-change and no usable password")
    func createAndShow() async throws {
        try await AccountsFixture.with { f in
            let created = try await f.directory.create(try new("helpdesk01", "Sekar Ayu Wulandari", nip: "196102251986031010"), by: f.admin)
            let shown = try await f.directory.show(try UserID("HELPDESK01"), by: f.staf, reason: "REQ-2026-000001")
            #expect(shown == created)
            #expect(shown.mustChangePassword)
            #expect(shown.status == .active)
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action IN ('account.create', 'account.show')") == 2)
            #expect(try await f.credentials.login(userID: "helpdesk01", password: "anything at all").code == "invalid_credentials")
        }
    }

    @Test("user ID, e-mail and NIP are unique; the conflict names the field and nothing is written")
    func conflicts() async throws {
        try await AccountsFixture.with { f in
            _ = try await f.directory.create(try new("helpdesk01", "Sekar Ayu", nip: "196102251986031010", email: "sekar@kab.go.id"), by: f.admin)
            await #expect(throws: AccountsError.conflict(.userID)) {
                try await f.directory.create(try new("HelpDesk01", "Other", email: "other@kab.go.id"), by: f.admin)
            }
            await #expect(throws: AccountsError.conflict(.email)) {
                try await f.directory.create(try new("helpdesk02", "Other", email: "SEKAR@KAB.GO.ID"), by: f.admin)
            }
            await #expect(throws: AccountsError.conflict(.nip)) {
                try await f.directory.create(try new("helpdesk03", "Other", nip: "19610225 198603 1 010"), by: f.admin)
            }
            #expect(try await f.count("SELECT count(*) FROM accounts") == 1)
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action = 'account.create'") == 1)
        }
    }

    @Test("only an admin_ppe creates, disables and unlocks; others get a refusal naming their role")
    func roles() async throws {
        try await AccountsFixture.with { f in
            await #expect(throws: AccountsError.notPermitted(role: .stafAdministrasi, operation: "create accounts")) {
                try await f.directory.create(try new("helpdesk01", "Sekar"), by: f.staf)
            }
            let auditor = Operator(userID: try UserID("auditor01"), role: .auditor)
            await #expect(throws: AccountsError.self) {
                try await f.directory.lookup(LookupQuery(text: "Sekar"), by: auditor, reason: "curiosity")
            }
            await #expect(throws: AccountsError.self) { try await f.directory.unlock(try UserID("helpdesk01"), by: f.staf) }
            await #expect(throws: AccountsError.accountNotFound) { try await f.directory.unlock(try UserID("nobody"), by: f.admin) }
        }
    }

    @Test("lookup by exact user ID, NIP and e-mail, and typo-tolerant by name: \"Yonatan Eko\" finds YONATHAN EKO NUGROHO")
    func lookup() async throws {
        try await AccountsFixture.with { f in
            _ = try await f.directory.create(try new("yonathan.eko", "YONATHAN EKO NUGROHO", nip: "198507172010011003", email: "yonathan@purbalinggakab.go.id"), by: f.admin)
            _ = try await f.directory.create(try new("sekar.ayu", "Sekar Ayu Wulandari", role: .verifikator, agency: "Dinas Pendidikan"), by: f.admin)
            _ = try await f.directory.create(try new("eko.prasetyo", "Eko Prasetyo", role: .auditor, agency: "Inspektorat"), by: f.admin)

            let byID = try await f.directory.lookup(LookupQuery(text: "Yonathan.Eko"), by: f.admin, reason: "REQ-2026-000007")
            #expect(byID.matchedBy == "user_id" && byID.accounts.map(\.userID.value) == ["yonathan.eko"])
            let byNIP = try await f.directory.lookup(LookupQuery(text: "19850717 201001 1 003"), by: f.admin, reason: "REQ-2026-000007")
            #expect(byNIP.matchedBy == "nip" && byNIP.accounts.map(\.userID.value) == ["yonathan.eko"])
            let byEmail = try await f.directory.lookup(LookupQuery(text: "YONATHAN@purbalinggakab.go.id"), by: f.staf, reason: "REQ-2026-000007")
            #expect(byEmail.matchedBy == "email" && byEmail.accounts.map(\.userID.value) == ["yonathan.eko"])

            let fuzzy = try await f.directory.lookup(LookupQuery(text: "Yonatan Eko"), by: f.admin, reason: "telepon helpdesk")
            #expect(fuzzy.matchedBy == "name")
            #expect(fuzzy.accounts.first?.userID.value == "yonathan.eko", "the closest name ranks first")

            let byAgency = try await f.directory.lookup(LookupQuery(text: "Pendidkan"), by: f.admin, reason: "REQ-2026-000008")
            #expect(byAgency.accounts.map(\.userID.value) == ["sekar.ayu"])

            let auditorsOnly = try await f.directory.lookup(LookupQuery(text: "Eko", role: .auditor), by: f.admin, reason: "REQ-2026-000009")
            #expect(auditorsOnly.accounts.map(\.userID.value) == ["eko.prasetyo"])

            let audited = try await f.count(
                "SELECT count(*) FROM audit_events WHERE action = 'account.lookup' AND actor IN ('admin.ppe', 'staf.adm') AND request_id IS NOT NULL")
            #expect(audited == 6)
            await #expect(throws: InputError(field: "reason", reason: "is required")) { try await f.directory.lookup(LookupQuery(text: "Eko"), by: f.admin, reason: " ") }
        }
    }

    @Test("a name lookup matches every word, in any order and with typos, before names that share one word; punctuation is no word")
    func lookupByNameWords() async throws {
        try await AccountsFixture.with { f in
            _ = try await f.directory.create(try new("m.santoso", "Muhammad Tri Santoso"), by: f.admin)
            _ = try await f.directory.create(try new("m.santoso2", "Muhammad Tri Santoso", role: .verifikator), by: f.admin)
            _ = try await f.directory.create(try new("m.rizki", "Muhammad Rizki"), by: f.admin)
            _ = try await f.directory.create(try new("d.santoso", "Dewi Santoso"), by: f.admin)
            _ = try await f.directory.create(try new("ahmad.fauzi", "H. Ahmad Fauzi, S.Kom.", role: .auditor), by: f.admin)

            let both = try await f.directory.lookup(LookupQuery(text: "Muhamad Santos"), by: f.admin, reason: "REQ-2026-000010")
            #expect(both.matchedBy == "name")
            #expect(both.accounts.map(\.userID.value) == ["m.santoso", "m.santoso2"], "every account with the name holding both words, none sharing one")
            let verifikator = try await f.directory.lookup(LookupQuery(text: "Muhamad Santos", role: .verifikator), by: f.admin, reason: "REQ-2026-000010")
            #expect(verifikator.accounts.map(\.userID.value) == ["m.santoso2"])

            let swapped = try await f.directory.lookup(LookupQuery(text: "fauzi ahmad"), by: f.admin, reason: "REQ-2026-000010")
            #expect(swapped.accounts.map(\.userID.value) == ["ahmad.fauzi"])
            let filtered = try await f.directory.lookup(LookupQuery(text: "Ahmad Fauzi", role: .helpdesk), by: f.admin, reason: "REQ-2026-000010")
            #expect(filtered.accounts.isEmpty, "the role filter applies to the word search too")

            // One word shared by several names: all their accounts, a page each; a page past the end is empty.
            var pages: [[String]] = []
            for page in 1...4 {
                let result = try await f.directory.lookup(LookupQuery(text: "Santoso", page: page, pageSize: 1), by: f.admin, reason: "REQ-2026-000010")
                pages.append(result.accounts.map(\.userID.value))
                #expect(result.hasMore == (page < 3))
            }
            #expect(Set(pages.joined()) == ["m.santoso", "m.santoso2", "d.santoso"] && pages[3].isEmpty)

            // The words of a renamed account reach the vocabulary too (bulk inserts: ProvisioningTests).
            try await f.pool.withConnection { connection in
                _ = try await connection.execute("UPDATE accounts SET full_name = 'Dewi Kartika Sari' WHERE user_id = 'd.santoso'")
            }
            let renamed = try await f.directory.lookup(LookupQuery(text: "Kartika Sari"), by: f.admin, reason: "REQ-2026-000010")
            #expect(renamed.accounts.map(\.userID.value) == ["d.santoso"])
        }
    }

    @Test("lookup pages through many matches without repeats")
    func pagination() async throws {
        try await AccountsFixture.with { f in
            for n in 1...25 {
                _ = try await f.directory.create(try new("pokja\(n)", "Anggota Pokja Pemilihan \(n)"), by: f.admin)
            }
            var seen: [String] = []
            var page = 1
            while page <= 10 {  // 25 accounts in pages of 10: three pages, never more than ten
                let result = try await f.directory.lookup(LookupQuery(text: "Anggota Pokja", page: page, pageSize: 10), by: f.admin, reason: "audit")
                seen += result.accounts.map(\.userID.value)
                if !result.hasMore { break }
                page += 1
            }
            #expect(page == 3)
            #expect(seen.count == 25 && Set(seen).count == 25)
        }
    }

    @Test("disabling revokes sessions and refuses login with the right password; enabling restores it")
    func disable() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            let token = try await f.firstLogin("helpdesk01", temporary: temporary, password: "kopi tubruk di alun-alun")
            try await f.directory.setStatus(.disabled, of: try UserID("helpdesk01"), by: f.admin)
            await #expect(throws: AccountsError.sessionInvalid) { try await f.credentials.session(for: token) }
            #expect(try await f.credentials.login(userID: "helpdesk01", password: "kopi tubruk di alun-alun").code == "disabled")
            #expect(try await f.credentials.login(userID: "helpdesk01", password: "wrong password here").code == "invalid_credentials")
            try await f.directory.setStatus(.active, of: try UserID("helpdesk01"), by: f.admin)
            #expect(try await f.credentials.login(userID: "helpdesk01", password: "kopi tubruk di alun-alun").code == "ok")
        }
    }
}
