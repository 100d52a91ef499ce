/// Hashes and verifies passwords with Argon2id on the hashing pool. Passwords are taken as the
/// caller gives them; normalization (NFKC) is the password policy's job, upstream.
public struct PasswordHasher: Sendable {
    public let parameters: Argon2Parameters
    public let pool: HashingPool
    private let randomBytes: RandomBytes

    public init(parameters: Argon2Parameters, pool: HashingPool, randomBytes: RandomBytes = .system) throws(PasswordHashingError) {
        try parameters.validate()
        self.parameters = parameters
        self.pool = pool
        self.randomBytes = randomBytes
    }

    /// A new PHC string for `password`, with a fresh 16-byte salt from the CSPRNG.
    public func hash(_ password: String) async throws(PasswordHashingError) -> PasswordHash {
        let salt = randomBytes(parameters.saltLength)
        let bytes = Array(password.utf8)
        let parameters = parameters
        return try await pool.run { () throws(PasswordHashingError) in
            try Argon2.hash(password: bytes, salt: salt, parameters: parameters)
        }
    }

    /// Whether `password` matches `hash`, whatever Argon2 variant and parameters `hash` carries.
    public func verify(_ password: String, against hash: PasswordHash,
                       in admission: HashingPool.Admission? = nil) async throws(PasswordHashingError) -> Bool {
        // A stored string asking for absurd memory would let one row exhaust the server.
        guard hash.memoryKiB <= 4 * 1024 * 1024, hash.iterations <= 1024, hash.parallelism <= 255 else {
            throw .invalidParameters("stored hash asks for \(hash.memoryKiB) KiB, t=\(hash.iterations), p=\(hash.parallelism)")
        }
        let bytes = Array(password.utf8)
        let job = { @Sendable () throws(PasswordHashingError) -> Bool in try Argon2.verify(password: bytes, against: hash) }
        if let admission { return try await admission.run(job) }
        return try await pool.run(job)
    }

    /// True when `hash` was made with weaker settings than the configured ones (or another
    /// variant), so a successful login should store a new hash.
    public func needsRehash(_ hash: PasswordHash) -> Bool {
        hash.isWeaker(than: parameters)
    }
}

extension PasswordHasher {
    /// Runs Argon2id on the calling thread, for the benchmark's single-thread baseline and for
    /// known-answer tests with a fixed salt. Service code goes through `hash(_:)`.
    public static func hashBlocking(_ password: String, salt: [UInt8], parameters: Argon2Parameters) throws(PasswordHashingError) -> PasswordHash {
        try parameters.validate()
        return try Argon2.hash(password: Array(password.utf8), salt: salt, parameters: parameters)
    }
}
