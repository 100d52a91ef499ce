import ArgumentParser
import Foundation
import Operations
import PasswordHashing

/// The bound itself: Argon2id hashes/s on one thread, then through the hashing pool on all cores.
struct HashScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Argon2id hashes/s on one thread and through the worker pool; prints pool / (cores × single).",
        discussion: """
            Parameters come from SPSE_ARGON2_MEMORY_KIB, _ITERATIONS, _PARALLELISM (default OWASP \
            m=19456 KiB, t=2, p=1). The single-thread rate is measured before and after the pool run \
            and averaged, so drift (heat, other load) shows up as a spread instead of a biased ratio.

            Example:
              swift build -c release --product spse-bench && .build/release/spse-bench hash --seconds 10
            """
    )

    @Option(help: "Seconds for each measurement.")
    var seconds: Double = 5

    @Option(help: "Concurrent callers feeding the pool (default: 4 per core).")
    var callers: Int?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() async throws {
        let parameters = try Settings(environment: ProcessInfo.processInfo.environment).argon2
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let pool = HashingPool(width: cores, queueLimit: 1 << 16)
        let hasher = try PasswordHasher(parameters: parameters, pool: pool)

        let singleBefore = try Self.singleThreadRate(parameters, seconds: seconds)
        let pooled = try await poolRate(hasher, callers: callers ?? cores * 4)
        let singleAfter = try Self.singleThreadRate(parameters, seconds: seconds)
        pool.shutDown()

        let single = (singleBefore + singleAfter) / 2
        let bound = Double(cores) * single
        let ratio = pooled / bound
        if json {
            let figures: [String: Any] = [
                "scenario": "hash", "parameters": parameters.description, "cores": cores,
                "single_hashes_per_s": single, "single_before": singleBefore, "single_after": singleAfter,
                "pool_hashes_per_s": pooled, "bound_hashes_per_s": bound, "ratio": ratio,
            ]
            let data = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("scenario hash  Argon2id \(parameters) (libargon2 fill code: \(Argon2Implementation.current))  cores \(cores)")
            print(String(format: "single thread   %8.2f hashes/s  (%.2f before, %.2f after; %.1f ms/hash)", single, singleBefore, singleAfter, 1000 / single))
            print(String(format: "pool (%d wide)   %8.2f hashes/s", pool.width, pooled))
            print(String(format: "bound           %8.2f hashes/s  (cores × single)", bound))
            print(String(format: "ratio           %8.3f  (pool / bound; goal ≥ 0.9)", ratio))
        }
    }

    static func singleThreadRate(_ parameters: Argon2Parameters, seconds: Double) throws -> Double {
        let salt = RandomBytes.system(parameters.saltLength)
        let start = ContinuousClock.now
        let limit = Duration.seconds(seconds)
        var count = 0
        while ContinuousClock.now - start < limit {
            _ = try PasswordHasher.hashBlocking("benchmark password \(count)", salt: salt, parameters: parameters)
            count += 1
        }
        return Double(count) / (ContinuousClock.now - start).seconds
    }

    /// Closed loop: `callers` tasks each hash, await, hash again until time is up.
    private func poolRate(_ hasher: PasswordHasher, callers: Int) async throws -> Double {
        let start = ContinuousClock.now
        let limit = Duration.seconds(seconds)
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var count = 0
                    while ContinuousClock.now - start < limit {
                        _ = try await hasher.hash("benchmark password \(caller).\(count)")
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / (ContinuousClock.now - start).seconds
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
