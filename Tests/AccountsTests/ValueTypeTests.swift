import Accounts
import Testing
import TestSupport

@Suite("Account fields")
struct ValueTypeTests {
    @Test("NIP accepts the SOP's example, with or without spaces")
    func nipAccepts() throws {
        #expect(try NIP("196102251986031010").value == "196102251986031010")
        #expect(try NIP("19610225 198603 1 010").value == "196102251986031010")
        #expect(try NIP("200002292021012001").value == "200002292021012001", "29 February of a leap year")
    }

    @Test("NIP refuses wrong dates, sex digit, length and appointments before 18", arguments: [
        ("19610231198603101", "18 digits"),       // 17 digits
        ("1961022519860310100", "18 digits"),     // 19 digits
        ("19610225198603101A", "18 digits"),
        ("196102311986031010", "birth date"),     // 31 February
        ("196113251986031010", "birth date"),     // month 13
        ("190102291986031010", "birth date"),     // 1901 is not a leap year
        ("196102251986131010", "appointment"),    // appointment month 13
        ("196102251975031010", "18th birthday"),  // appointed at 14
        ("196102251986033010", "sex"),            // sex digit 3
        ("196102251986030010", "sex"),            // sex digit 0
        ("196102251986031000", "sequence"),
    ])
    func nipRefuses(text: String, rule: String) {
        #expect {
            try NIP(text)
        } throws: { error in
            guard case .invalidField(.nip, let reason) = error as? AccountsError else { return false }
            return reason.contains(rule)
        }
    }

    @Test("user IDs are 3–64 of a-z 0-9 . _ - and compare case-insensitively")
    func userIDs() throws {
        #expect(try UserID("Helpdesk.Purbalingga_01").value == "helpdesk.purbalingga_01")
        for bad in ["ab", String(repeating: "a", count: 65), "budi santoso", "budi@lpse", "büdi", ""] {
            #expect(throws: AccountsError.self, "\(bad)") { try UserID(bad) }
        }
    }

    @Test("e-mail addresses are validated", arguments: [
        ("sekar.ayu@purbalinggakab.go.id", true), ("Sekar+LPSE@Mail.Example.ORG", true),
        ("sekar", false), ("sekar@", false), ("@purbalinggakab.go.id", false), ("sekar@localhost", false),
        ("sekar..ayu@kab.go.id", false), ("sekar@-kab.go.id", false), ("sekar ayu@kab.go.id", false), ("sekar@kab.go.i1", false),
    ])
    func emails(text: String, valid: Bool) {
        #expect(((try? EmailAddress(text)) != nil) == valid)
    }

    @Test("full names keep any script and are stored NFC")
    func names() throws {
        let decomposed = "Jose\u{301} Sukarno"
        #expect(try FullName(decomposed).value == "Jos\u{e9} Sukarno")
        #expect(try FullName("  YONATHAN EKO NUGROHO ").value == "YONATHAN EKO NUGROHO")
        #expect(throws: AccountsError.self) { try FullName("   ") }
        #expect(throws: AccountsError.self) { try FullName("Budi\u{7}") }
    }

    @Test("temporary passwords: ≥ 80 bits, dictation alphabet without 0/O/1/l/I, grouped, never the same")
    func temporaryPasswords() {
        #expect(TemporaryPassword.entropyBits >= 80)
        var seen = Set<String>()
        for _ in 0..<500 {
            let password = TemporaryPassword(randomBytes: .system)
            #expect(password.reveal.count == 24)
            #expect(password.reveal.split(separator: "-").allSatisfy { $0.count == 4 })
            #expect(!password.reveal.contains(where: { "0O1lI".contains($0) }))
            #expect(!String(describing: password).contains(password.reveal))
            seen.insert(password.reveal)
        }
        #expect(seen.count == 500)
    }

    @Test("the shipped policy has its blocklist and refuses a minimum length outside 8…128")
    func policy() throws {
        #expect(try PasswordPolicy.standard(minimumLength: 16).minimumLength == 16)
        #expect(throws: AccountsError.configuration("SPSE_PASSWORD_MIN_LENGTH must be 8…128")) { try PasswordPolicy.standard(minimumLength: 4) }
        #expect(try PasswordPolicy.standard().blocklistSize >= 10_000)
    }
}
