import ArgumentParser
import Foundation
import Operations
import Postgres

struct DeploymentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployment",
        abstract: "Facts every instance of this deployment shares (recorded in the database).",
        subcommands: [DeploymentSealedDeliveryCommand.self]
    )
}

struct DeploymentSealedDeliveryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sealed-delivery",
        abstract: "Show, or change for every instance at once, whether step 6 uses sealed delivery.",
        discussion: """
            Every `serve` and CLI started with SPSE_SEALED_DELIVERY other than the recorded mode \
            refuses to start. To change it: stop the instances, run this, start them with the new \
            setting (and SPSE_SMTP_HOST, which sealed delivery needs).

            Examples:
              spse-accounts deployment sealed-delivery            # prints true or false
              spse-accounts deployment sealed-delivery --set true
            """
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "true or false: the new mode for the whole deployment.") var set: String?

    func run() async throws {
        let settings = try database.settings()
        guard set == nil || set == "true" || set == "false" else { throw ValidationError("--set must be true or false") }
        let pool = database.makePool(settings)
        do {
            try await pool.withConnection { try await database.makeMigrator(settings).requireCurrent(on: $0) }
            if let set {
                try await DeploymentFacts.setSealedDelivery(set == "true", pool: pool, now: Date())
            }
            let recorded = try await pool.withConnection { connection in
                try await connection.query("SELECT value FROM deployment_facts WHERE name = 'sealed_delivery'").first?
                    .decode(String.self, column: "value")
            }
            print(recorded ?? "not recorded yet (the first instance to start records its SPSE_SEALED_DELIVERY)")
            await pool.shutdown()
        } catch {
            await pool.shutdown()
            throw ExitStatus.fail(error)
        }
    }
}
