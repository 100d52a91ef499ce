/// Argon2id cost parameters. The defaults are OWASP's: 19 MiB of memory, 2 passes, 1 lane.
public struct Argon2Parameters: Sendable, Equatable, CustomStringConvertible {
    public var memoryKiB: UInt32
    public var iterations: UInt32
    public var parallelism: UInt32
    public var saltLength: Int
    public var hashLength: Int

    public static let owasp = Argon2Parameters(memoryKiB: 19_456, iterations: 2, parallelism: 1)

    public init(memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32, saltLength: Int = 16, hashLength: Int = 32) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
        self.saltLength = saltLength
        self.hashLength = hashLength
    }

    /// Reads `SPSE_ARGON2_MEMORY_KIB`, `SPSE_ARGON2_ITERATIONS` and `SPSE_ARGON2_PARALLELISM`,
    /// keeping the OWASP default for each one not set.
    public init(environment: [String: String]) throws(PasswordHashingError) {
        self = .owasp
        memoryKiB = try Self.read("SPSE_ARGON2_MEMORY_KIB", environment, default: memoryKiB)
        iterations = try Self.read("SPSE_ARGON2_ITERATIONS", environment, default: iterations)
        parallelism = try Self.read("SPSE_ARGON2_PARALLELISM", environment, default: parallelism)
        try validate()
    }

    /// libargon2's own limits: at least 8 KiB per lane, 1 pass, 1 lane.
    public func validate() throws(PasswordHashingError) {
        guard parallelism >= 1, parallelism <= 255 else {
            throw .invalidParameters("parallelism must be 1…255, not \(parallelism)")
        }
        guard iterations >= 1 else { throw .invalidParameters("iterations must be at least 1") }
        guard memoryKiB >= 8 * parallelism else {
            throw .invalidParameters("memory must be at least 8 KiB per lane, not \(memoryKiB) KiB for \(parallelism)")
        }
        guard memoryKiB <= 4 * 1024 * 1024 else { throw .invalidParameters("memory above 4 GiB is refused") }
        guard saltLength >= 8, hashLength >= 16 else { throw .invalidParameters("salt ≥ 8 and hash ≥ 16 bytes") }
    }

    private static func read(_ name: String, _ environment: [String: String], default value: UInt32) throws(PasswordHashingError) -> UInt32 {
        guard let text = environment[name] else { return value }
        guard let number = UInt32(text.trimmingCharacters(in: .whitespaces)) else {
            throw .invalidParameters("\(name) must be a whole number, not \"\(text)\"")
        }
        return number
    }

    public var description: String { "m=\(memoryKiB),t=\(iterations),p=\(parallelism)" }
}

import Foundation
