import Foundation
import Gate
import SMTPSender
import Testing
import TestSupport

/// A real SMTP server (aiosmtpd) with STARTTLS and a throwaway self-signed certificate.
struct TestRelay {
    let process: ChildProcess
    let port: Int
    let directory: String
    var certificate: String { directory + "/cert.pem" }
    var received: String { directory + "/received.jsonl" }

    static var isAvailable: Bool { ProcessInfo.processInfo.environment["SPSE_TEST_SMTP_SERVER"].map { !$0.isEmpty } ?? false }

    static func start() async throws -> TestRelay {
        let script = ProcessInfo.processInfo.environment["SPSE_TEST_SMTP_SERVER"]!
        let directory = NSTemporaryDirectory() + "spse-smtp-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try ChildProcess.run([
            "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
        ])
        let process = try ChildProcess.spawn(["/usr/bin/python3", script, directory + "/cert.pem", directory + "/key.pem", directory + "/received.jsonl"])
        for _ in 0..<200 {
            if let line = process.output.split(separator: "\n").first(where: { $0.hasPrefix("ready ") }), let port = Int(line.dropFirst(6)) {
                return TestRelay(process: process, port: port, directory: directory)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let output = process.output
        process.terminate()
        throw TestSetupError("the SMTP test server did not start: \(output)")
    }

    func stop() {
        process.terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A sender for this relay; `trusted` false leaves the relay's self-signed certificate untrusted.
    func sender(password: String = "rahasia-relay", trusted: Bool = true) -> SMTPNoticeSender {
        SMTPNoticeSender(configuration: SMTPConfiguration(
            host: "localhost", port: port, username: "lpse", password: password, from: "lpse@purbalinggakab.go.id",
            caFile: trusted ? certificate : nil, timeout: 10))
    }

    func messages() throws -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: received, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }
}

let notice = OutgoingNotice(
    id: 7, requestNumber: "REQ-2026-000042", step: 8, recipient: "sekar@purbalinggakab.go.id", channel: "email",
    subjectID: "[REQ-2026-000042] Permohonan selesai diproses", bodyID: "Permohonan REQ-2026-000042 telah diproses. Segera login.\n.baris bertitik",
    subjectEN: "[REQ-2026-000042] Request processed", bodyEN: "Request REQ-2026-000042 has been processed.")

@Suite("SMTP sender against a real relay", .enabled(if: TestRelay.isAvailable))
struct SMTPSenderTests {
    @Test("a notice goes out over STARTTLS with AUTH, in UTF-8, both languages")
    func delivers() async throws {
        let relay = try await TestRelay.start()
        defer { relay.stop() }
        try await relay.sender().send(notice)
        let messages = try relay.messages()
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(message["tls"] as? Bool == true)
        #expect(message["authenticated"] as? Bool == true)
        #expect(message["to"] as? [String] == ["sekar@purbalinggakab.go.id"])
        let data = try #require(message["data"] as? String)
        #expect(data.contains("Subject: [REQ-2026-000042] Permohonan selesai diproses"))
        let body = data.components(separatedBy: "\r\n\r\n").dropFirst().joined().replacingOccurrences(of: "\r\n", with: "")
        let decoded = String(decoding: Data(base64Encoded: body) ?? Data(), as: UTF8.self)
        #expect(decoded.contains("telah diproses") && decoded.contains("has been processed") && decoded.contains(".baris bertitik"))
    }

    @Test("wrong credentials are refused with the server's answer, without the password")
    func wrongPassword() async throws {
        let relay = try await TestRelay.start()
        defer { relay.stop() }
        let error = await #expect(throws: SMTPError.self) { try await relay.sender(password: "salah-sandi").send(notice) }
        guard case .unexpectedReply(let command, let code, _) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(command == "AUTH" && code == 535)
        #expect(!(error?.description.contains("salah-sandi") ?? true))
        #expect(try relay.messages().isEmpty)
    }

    @Test("a server certificate the sender does not trust stops delivery")
    func untrustedCertificate() async throws {
        let relay = try await TestRelay.start()
        defer { relay.stop() }
        await #expect(throws: (any Error).self) { try await relay.sender(trusted: false).send(notice) }
        #expect(try relay.messages().isEmpty)
    }

    @Test("a contact that is not an e-mail address is undeliverable, not retried")
    func notAnAddress() async throws {
        let sender = SMTPNoticeSender(configuration: SMTPConfiguration(host: "localhost", port: 1, from: "lpse@purbalinggakab.go.id"))
        let phone = OutgoingNotice(id: 1, requestNumber: "REQ-2026-000001", step: 3, recipient: "0812-2700-1234", channel: "hardcopy",
                                   subjectID: "s", bodyID: "b", subjectEN: "s", bodyEN: "b")
        await #expect(throws: NoticeSenderError.undeliverable("0812-2700-1234 is not an e-mail address")) { try await sender.send(phone) }
    }

    @Test("configuration from SPSE_SMTP_* with clear errors")
    func configuration() throws {
        #expect(try SMTPConfiguration.fromEnvironment([:]) == nil)
        let configured = try #require(try SMTPConfiguration.fromEnvironment(["SPSE_SMTP_HOST": "mail.purbalinggakab.go.id", "SPSE_SMTP_FROM": "lpse@purbalinggakab.go.id"]))
        #expect(configured.port == 587 && configured.security == .startTLS)
        #expect(throws: SMTPError.self) { try SMTPConfiguration.fromEnvironment(["SPSE_SMTP_HOST": "mail", "SPSE_SMTP_FROM": "lpse@x.id", "SPSE_SMTP_PORT": "99999"]) }
        #expect(throws: SMTPError.self) { try SMTPConfiguration.fromEnvironment(["SPSE_SMTP_HOST": "mail"]) }
    }
}
