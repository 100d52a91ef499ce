import Accounts
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

@Suite("Console: my account and the audit event list")
struct MyAccountConsoleTests {
    @Test("'Akun saya' shows my facts and sessions, this one marked; ending the other signs that browser out, and never another's")
    func mySessions() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let laptop = Browser(client), phone = Browser(client), other = Browser(client)
            #expect(try await laptop.signIn("helpdesk01", ConsoleFixture.password).location == "/beranda")
            #expect(try await phone.signIn("helpdesk01", ConsoleFixture.password).location == "/beranda")
            #expect(try await other.signIn("helpdesk02", ConsoleFixture.password).location == "/beranda")
            let page = try await laptop.get("/akun-saya")
            #expect(page.status == .ok)
            #expect(page.body.contains("Akun saya") && page.body.contains("helpdesk01") && page.body.contains("sesi ini"))
            #expect(!page.body.contains("helpdesk02"))
            let handles = page.body.matches(of: /data-session="([0-9a-f]{16})"/).map { String($0.1) }
            #expect(handles.count >= 2)
            // The phone's own page names it first.
            let phoneHandle = String(try #require(try await phone.get("/akun-saya").body.matches(of: /data-session="([0-9a-f]{16})"/).first).1)
            #expect(handles.contains(phoneHandle) && handles.first != phoneHandle)
            _ = try await laptop.get("/akun-saya")
            let ended = try await laptop.post("/akun-saya/sesi/\(phoneHandle)/akhiri", [:])
            #expect(ended.status == .seeOther && ended.location == "/akun-saya?ok=session_ended")
            #expect(try await laptop.get("/akun-saya?ok=session_ended").body.contains("Sesi diakhiri."))
            // The phone is signed out at once; the laptop and the other account stay in.
            #expect(try await phone.get("/beranda").location?.hasPrefix("/masuk") == true)
            #expect(try await laptop.get("/beranda").status == .ok)
            #expect(try await other.get("/beranda").status == .ok)
            // Someone else's handle is not found, and ends nothing.
            let theirs = try #require(try await other.get("/akun-saya").body.matches(of: /data-session="([0-9a-f]{16})"/).first).1
            _ = try await laptop.get("/akun-saya")
            #expect(try await laptop.post("/akun-saya/sesi/\(theirs)/akhiri", [:]).status == .notFound)
            #expect(try await other.get("/beranda").status == .ok)
            // Everywhere else: the rest of mine end, mine stays.
            _ = try await laptop.get("/akun-saya")
            let all = try await laptop.post("/akun-saya/sesi/akhiri-semua", [:])
            #expect(all.location == "/akun-saya?ok=sessions_ended")
            let after = try await laptop.get("/akun-saya")
            #expect(after.body.contains("Tidak ada sesi lain.") && after.body.matches(of: /data-session=/).count == 1)
            // In English too, at the same address.
            let english = Browser(client, language: "en")
            _ = try await english.signIn("helpdesk02", ConsoleFixture.password)
            let mine = try await english.get("/akun-saya")
            #expect(mine.body.contains("My account") && mine.body.contains("this session") && mine.body.contains("lang=\"en\""))
        }
    }

    @Test("the audit page lists the events its filters find, pages on, refuses a bad filter at the field, and is the auditor's and the admin's only")
    func auditEvents() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let request = try await f.request(approved: true)
            _ = try await Browser(client).signIn("helpdesk01", "bukan password saya")
            f.accounts.clock.advance(1)
            let admin = Browser(client)
            _ = try await admin.signIn("admin.ppe", ConsoleFixture.password)
            let all = try await admin.get("/audit")
            #expect(all.status == .ok && all.body.contains("Rantai audit utuh") && all.body.contains("id=\"audit-events\""))
            let logins = try await admin.get("/audit?action=login")
            let actions = Set(logins.body.matches(of: /data-action="([a-z_.]+)"/).map { String($0.1) })
            #expect(actions.contains("login.failure") && actions.allSatisfy { $0.hasPrefix("login.") }, "\(actions)")
            let under = try await admin.get("/audit?request=\(request.number)")
            #expect(under.body.contains("href=\"/permohonan/\(request.number)\"") && !under.body.contains("data-action=\"login."))
            #expect(under.body.contains("/audit/ekspor?") && under.body.contains("request=\(request.number)"))
            let bad = try await admin.get("/audit?from=kemarin")
            #expect(bad.status == .unprocessableContent && bad.body.contains("role=\"alert\""))
            let cursor = try await admin.get("/audit?after=abc")
            #expect(cursor.status == .unprocessableContent)
            let nothing = try await admin.get("/audit?actor=tidak.ada")
            #expect(nothing.body.contains("id=\"no-events\""))
            let helpdesk = Browser(client)
            _ = try await helpdesk.signIn("helpdesk01", ConsoleFixture.password)
            #expect(try await helpdesk.get("/audit").status == .forbidden)
        }
    }
}
