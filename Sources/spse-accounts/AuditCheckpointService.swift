import Audit
import Foundation
import HTTPAPI
import Logging
import Operations
import Postgres
import ServiceLifecycle

/// Signs a checkpoint of the audit chain's head at start and every interval while `serve` runs.
struct AuditCheckpointService: Service {
    let pool: ConnectionPool
    let keyFile: String
    let file: String
    let interval: Duration
    let state: ServerState
    let logger: Logger

    func run() async throws {
        _ = try AuditSigningKey.load(keyFile)  // an unreadable key stops serve at start, not an hour later
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    // Read each time: a rotated key file takes effect at the next checkpoint.
                    let key = try AuditSigningKey.load(keyFile)
                    if let checkpoint = try await AuditCheckpointWriter.write(signingWith: key, to: file, pool: pool) {
                        state.checkpointWritten(at: checkpoint.at)
                        logger.info("audit checkpoint", metadata: ["row": "\(checkpoint.row)"])
                    }
                } catch {
                    logger.warning("audit checkpoint not written", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
