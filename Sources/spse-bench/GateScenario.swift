import ArgumentParser
import Foundation
import PasswordHashing
import Synchronization

/// Requests driven through every SOP step over HTTP by concurrent workers, each step timed.
struct GateScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "N requests (reset + user ID) through all nine SOP steps over HTTP with cheap Argon2: steps/s and p50/p99 per step.",
        discussion: """
            Each request: submit and two documents (staf), completeness (staf), validity and execute \
            (admin), notify, handover and confirm-receipt (admin), archive (staf). Cheap Argon2 parameters \
            (m=64 KiB, t=1) for the server, so the figure is the gate's own cost, not hashing.

            Example:
              .build/release/spse-bench gate --requests 10000 --workers 8
            """
    )

    @Option(help: "Requests to drive through.") var requests = 10_000
    @Option(help: "Concurrent workers, each driving its requests one after another.") var workers = 8
    @Option(help: "Loopback port for the server.") var port = 18_083
    @Option(help: "Directory of the migrations.") var migrationsDir = "sql"

    static let steps = ["submit", "document", "completeness", "validity", "execute", "notify", "handover", "confirm-receipt", "archive"]
    static let pdf = Array("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".utf8)

    func run() async throws {
        raiseOpenFileLimit()
        let cheap = Argon2Parameters(memoryKiB: 64, iterations: 1, parallelism: 1)
        try await ScratchDatabase.with(migrationsDir: migrationsDir) { database in
            try await BenchAccounts.loadLoginAccounts(1000, parameters: cheap, into: database)
            let server = try BenchServer(database: database, port: port, environment: [
                "SPSE_ARGON2_MEMORY_KIB": "64", "SPSE_ARGON2_ITERATIONS": "1", "SPSE_NOTICE_INTERVAL": "3600",
            ])
            defer { server.stop() }
            try await server.waitUntilReady()
            let admin = try await token("bench.admin")
            let staf = try await token("bench.staf")
            let port = self.port
            let recorder = Recorder()
            let start = ContinuousClock.now
            // Workers are threads of their own: their socket calls block, and on the cooperative
            // pool (one thread per core) they would cap the load at two requests at a time.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let group = DispatchGroup()
                for worker in 0..<workers {
                    let share = Array(stride(from: worker, to: requests, by: workers))
                    group.enter()
                    Thread {
                        for index in share {
                            do {
                                let timed = try Self.drive(index, port: port, admin: admin, staf: staf)
                                recorder.latencies.withLock { for (step, ms) in timed { $0[step, default: []].append(ms) } }
                            } catch {
                                recorder.failures.withLock { $0.append("request \(index): \(error)") }
                            }
                        }
                        group.leave()
                    }.start()
                }
                group.notify(queue: .global()) { continuation.resume() }
            }
            let elapsed = (ContinuousClock.now - start).seconds
            let all = recorder.latencies.withLock { $0 }
            let total = all.values.reduce(0) { $0 + $1.count }
            let failed = recorder.failures.withLock { $0 }
            print(String(format: "scenario gate  %d requests  %d workers  %.1f s  %.1f requests/s  %.1f HTTP steps/s  server peak RSS %.0f MiB",
                         requests, workers, elapsed, Double(requests - failed.count) / elapsed, Double(total) / elapsed, server.peakRSSMiB))
            print("step               count     p50 ms     p99 ms")
            for step in Self.steps {
                let sorted = (all[step] ?? []).sorted()
                guard !sorted.isEmpty else { continue }
                print(step.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " %7d %10.2f %10.2f", sorted.count, percentile(sorted, 0.5), percentile(sorted, 0.99)))
            }
            if !failed.isEmpty { print("failed: \(failed.count), first: \(failed[0])") }
        }
    }

    private func token(_ userID: String) async throws -> String {
        let (status, body) = try await HTTP.request(
            "POST", port: port, path: "/v1/auth/login", body: #"{"user_id":"\#(userID)","password":"\#(BenchAccounts.password)"}"#)
        guard status == 200, let token = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["token"] as? String else {
            throw BenchError("login of \(userID) failed: \(status) \(body)")
        }
        return token
    }

    /// One request through every step; the milliseconds each step took, by name.
    static func drive(_ index: Int, port: Int, admin: String, staf: String) throws -> [(String, Double)] {
        var timed: [(String, Double)] = []
        func step(_ name: String, _ path: String, _ body: String?, token: String, expect: Int = 200) throws -> String {
            let start = ContinuousClock.now
            let (status, text) = try HTTP.exchange("POST", port: port, path: path, body: body.map { Array($0.utf8) },
                                                   contentType: "application/json", token: token)
            timed.append((name, (ContinuousClock.now - start).seconds * 1000))
            guard status == expect else { throw BenchError("\(name): \(status) \(text.prefix(200))") }
            return text
        }
        let subject = String(format: "load%04d", index % 1000)
        let created = try step("submit", "/v1/requests", #"""
            {"kinds":["reset_password","user_id_info"],"subject":{"user_id":"\#(subject)"},"requester_name":"Pegawai \#(index)",
             "requester_contact":"\#(subject)@purbalinggakab.go.id","channel":"hardcopy"}
            """#, token: staf, expect: 201)
        guard let id = (try? JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: Any])?["id"] as? Int else {
            throw BenchError("submit answered no id")
        }
        for type in ["surat_permohonan", "sk_pengangkatan"] {
            let start = ContinuousClock.now
            let (status, text) = try HTTP.exchange("POST", port: port, path: "/v1/requests/\(id)/documents?type=\(type)", body: pdf,
                                                   contentType: "application/pdf", token: staf, headers: ["X-File-Name: \(type).pdf"])
            timed.append(("document", (ContinuousClock.now - start).seconds * 1000))
            guard status == 201 else { throw BenchError("document: \(status) \(text.prefix(200))") }
        }
        _ = try step("completeness", "/v1/requests/\(id)/completeness", #"{"complete":true}"#, token: staf)
        _ = try step("validity", "/v1/requests/\(id)/validity", #"{"valid":true,"subject_user_id":"\#(subject)"}"#, token: admin)
        _ = try step("execute", "/v1/requests/\(id)/execute", nil, token: admin)
        _ = try step("notify", "/v1/requests/\(id)/notify", nil, token: admin)
        _ = try step("handover", "/v1/requests/\(id)/handover", #"{"channel":"phone","recipient":"Pegawai \#(index)"}"#, token: admin)
        _ = try step("confirm-receipt", "/v1/requests/\(id)/confirm-receipt", nil, token: admin)
        _ = try step("archive", "/v1/requests/\(id)/archive", nil, token: staf)
        return timed
    }
}

/// What the workers measured, shared between them.
final class Recorder: Sendable {
    let latencies = Mutex<[String: [Double]]>([:])
    let failures = Mutex<[String]>([])
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}
