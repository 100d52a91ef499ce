import Accounts
import ArgumentParser
import Audit
import Foundation
import Operations
import Migrations
import PasswordHashing
import Postgres
import Provisioning

/// A provisioning batch of generated accounts into a scratch database: accounts/s against the
/// Argon2 bound (cores × single-thread hashes/s) measured in the same run. The whole run counts —
/// parsing, validation, the collision query, hashing, COPY, the audit row — so the ratio says how
/// hashing-bound provisioning is.
struct ProvisionScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Provision N generated accounts from CSV into a scratch database; prints accounts/s and the ratio to the Argon2 bound.",
        discussion: """
            Needs DATABASE_URL (a server where it may create and drop a database) and the sql/ \
            directory (--migrations-dir, default ./sql). Argon2 parameters from SPSE_ARGON2_*.

            Example:
              swift build -c release --product spse-bench && .build/release/spse-bench provision --accounts 10000
            """
    )

    @Option(help: "Accounts in the batch.") var accounts: Int = 10_000
    @Option(help: "Directory of the migrations.") var migrationsDir: String = "sql"
    @Option(help: "Seconds to measure the single-thread hash rate (before and after the batch).") var boundSeconds: Double = 5
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var settings = try Settings(environment: environment)
        // The whole batch may queue: this measures throughput, not admission.
        settings.hashQueueLimit = 1 << 16
        let parameters = settings.argon2
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let server = ConnectionConfiguration.fromEnvironment(environment)
        let name = "spse_bench_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await PostgresConnection.connect(server)
        try await admin.executeScript("CREATE DATABASE \(name)")
        do {
            try await measure(server: server, database: name, settings: settings, cores: cores)
            try await admin.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            await admin.close()
        } catch {
            try? await admin.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            await admin.close()
            throw error
        }
    }

    private func measure(server: ConnectionConfiguration, database name: String, settings: Settings, cores: Int) async throws {
        let parameters = settings.argon2
        let pool = ConnectionPool(configuration: server.database(name), maxConnections: 4)
        try await pool.withConnection { try await Migrator(migrations: try Migration.load(from: URL(fileURLWithPath: migrationsDir))).migrate(on: $0) }

        let graph = try await ServiceGraph.make(settings, pool: pool)
        guard (1...11_988).contains(accounts) else { throw ValidationError("--accounts must be 1…11988 (unique generated NIPs)") }
        let file = Array(Self.generate(accounts).utf8)
        let out = NSTemporaryDirectory() + "\(name)-credentials.csv"
        defer { unlink(out) }

        let singleBefore = try HashScenario.singleThreadRate(parameters, seconds: boundSeconds)
        let start = ContinuousClock.now
        let report = try await graph.provisioner.run(file, format: .csv, dryRun: false, credentialsTo: .file(out),
                                                     by: Operator(userID: try UserID("bench.admin"), role: .adminPPE))
        let elapsed = (ContinuousClock.now - start).seconds
        let singleAfter = try HashScenario.singleThreadRate(parameters, seconds: boundSeconds)
        await graph.shutdown()

        guard report.created == accounts else { throw ValidationError("created \(report.created) of \(accounts)") }
        let single = (singleBefore + singleAfter) / 2
        let bound = Double(cores) * single
        let rate = Double(accounts) / elapsed
        if json {
            let figures: [String: Any] = [
                "scenario": "provision", "accounts": accounts, "parameters": parameters.description, "cores": cores,
                "seconds": elapsed, "accounts_per_s": rate, "single_hashes_per_s": single, "bound_hashes_per_s": bound, "ratio": rate / bound,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("scenario provision  \(accounts) accounts  Argon2id \(parameters)  cores \(cores)")
            print(String(format: "batch           %8.2f s  (parse, validate, hash, COPY, audit, credentials file)", elapsed))
            print(String(format: "provisioned     %8.2f accounts/s", rate))
            print(String(format: "single thread   %8.2f hashes/s  (%.2f before, %.2f after)", single, singleBefore, singleAfter))
            print(String(format: "bound           %8.2f hashes/s  (cores × single)", bound))
            print(String(format: "ratio           %8.3f  (accounts/s / bound; goal ≥ 0.9)", rate / bound))
        }
    }

    /// Deterministic rows: Indonesian names, valid NIPs, unique e-mails, a few agencies.
    static func generate(_ count: Int) -> String {
        let given = ["Agus", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gunawan", "Hadi", "Indah", "Joko", "Kartika", "Lestari", "Made", "Nur", "Putri", "Rahmat", "Sri", "Teguh", "Wahyu", "Yuni"]
        let family = ["Santoso", "Wulandari", "Nugroho", "Saputra", "Hidayat", "Kusuma", "Setiawan", "Handayani", "Pratama", "Susanti", "Wijaya", "Rahayu"]
        let agencies = ["Dinas Kesehatan", "Dinas Pendidikan dan Kebudayaan", "Dinas Pekerjaan Umum dan Penataan Ruang", "Bagian Pengadaan Barang/Jasa", "Inspektorat Daerah"]
        let roles = ["helpdesk", "admin_agency", "verifikator", "auditor"]
        var text = "user_id,role,full_name,nip,email,agency\n"
        for i in 0..<count {
            // Birth 1970–1994, appointed at 25, sex digit 1/2; the sequence (i mod 999) and the
            // appointment month (i / 999) together make every NIP valid and unique below 11,988.
            let year = 1970 + i % 25
            let nip = String(format: "%04d%02d%02d%04d%02d%d%03d", year, i % 12 + 1, i % 28 + 1, year + 25, (i / 999) % 12 + 1, i % 2 + 1, i % 999 + 1)
            text += "bench\(i),\(roles[i % roles.count]),\(given[i % given.count]) \(family[(i / given.count) % family.count]),\(nip),bench\(i)@purbalinggakab.go.id,\(agencies[i % agencies.count])\n"
        }
        return text
    }
}
