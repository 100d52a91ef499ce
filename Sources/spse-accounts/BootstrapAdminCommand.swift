import Accounts
import ArgumentParser
import Foundation

struct BootstrapAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap-admin",
        abstract: "Create the first admin_ppe with a temporary password, printed once.",
        discussion: """
            Works only while no active admin_ppe exists (exit 2 otherwise). The temporary password \
            must be changed at first login and expires after SPSE_TEMP_PASSWORD_TTL (default 72h).

            Example:
              spse-accounts bootstrap-admin --user-id admin.ppe --name "Budi Santoso" \\
                --email budi@purbalinggakab.go.id --agency "LPSE Kabupaten Purbalingga"
            """
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Login name: 3–64 of a-z 0-9 . _ -") var userId: String
    @Option(help: "Full name as written.") var name: String?
    @Option(help: "E-mail address.") var email: String?
    @Flag(help: "Recover the existing admin_ppe --user-id of a single-admin site (needs the database owner's DATABASE_URL): enabled, a new temporary password, locks lifted; audited.")
    var recover = false
    @Option(help: "With --recover: why (recorded in the audit trail).") var reason: String?
    @Option(help: "Agency (instansi/satker).") var agency: String = "LPSE"
    @Option(help: "NIP, 18 digits (optional).") var nip: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        if recover && (reason ?? "").isEmpty { throw ValidationError("--recover needs --reason") }
        if !recover && (name == nil || email == nil) { throw ValidationError("a new admin needs --name and --email") }
        do {
            try await database.withGraph { graph in
                let bootstrap = Bootstrap(pool: graph.pool, directory: graph.directory, credentials: graph.credentials)
                if recover {
                    let (temporary, expiresAt) = try await bootstrap.recoverAdmin(try UserID(userId), reason: reason ?? "")
                    let expiry = ISO8601DateFormatter().string(from: expiresAt)
                    if json {
                        let object = ["user_id": userId, "temporary_password": temporary.reveal, "expires_at": expiry]
                        print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                    } else {
                        print("recovered admin_ppe \(userId); temporary password (shown once, change at first login): \(temporary.reveal)")
                        print("expires at \(expiry)")
                    }
                    return
                }
                let (account, temporary, expiresAt) = try await bootstrap
                    .createFirstAdmin(userID: try UserID(userId), fullName: try FullName(name ?? ""), email: try EmailAddress(email ?? ""),
                                      agency: try Agency(agency), nip: try nip.map { try NIP($0) })
                let expiry = ISO8601DateFormatter().string(from: expiresAt)
                if json {
                    let object = ["user_id": account.userID.value, "temporary_password": temporary.reveal, "expires_at": expiry]
                    print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                } else {
                    print("created admin_ppe \(account.userID)")
                    print("temporary password (shown once, change at first login): \(temporary.reveal)")
                    print("expires at \(expiry)")
                }
            }
        } catch {
            throw ExitStatus.fail(error)
        }
    }
}
