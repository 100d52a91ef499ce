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

    public var description: String { "m=\(memoryKiB),t=\(iterations),p=\(parallelism)" }
}

import Foundation
