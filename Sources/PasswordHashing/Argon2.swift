import CArgon2

/// The only code that calls libargon2. Blocking and CPU-bound: call it from the hashing pool.
enum Argon2 {
    /// Argon2id of `password` with `salt`, as a PHC string.
    static func hash(password: [UInt8], salt: [UInt8], parameters: Argon2Parameters) throws(PasswordHashingError) -> PasswordHash {
        let length = argon2_encodedlen(
            parameters.iterations, parameters.memoryKiB, parameters.parallelism,
            UInt32(salt.count), UInt32(parameters.hashLength), Argon2_id)
        var encoded = [CChar](repeating: 0, count: length)
        let code = password.withUnsafeBytes { pwd in
            salt.withUnsafeBytes { saltBytes in
                argon2_hash(
                    parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                    pwd.baseAddress, pwd.count, saltBytes.baseAddress, saltBytes.count,
                    nil, parameters.hashLength, &encoded, length, Argon2_id, ARGON2_VERSION_13.rawValue)
            }
        }
        guard code == ARGON2_OK.rawValue else { throw failure(code) }
        let text = encoded.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return try PasswordHash(encoded: text)
    }

    /// Checks `password` against a PHC string of any Argon2 variant, with the parameters it
    /// carries. libargon2 compares the digests in constant time.
    static func verify(password: [UInt8], against hash: PasswordHash) throws(PasswordHashingError) -> Bool {
        let type: argon2_type
        switch hash.variant {
        case .argon2i: type = Argon2_i
        case .argon2d: type = Argon2_d
        case .argon2id: type = Argon2_id
        }
        let code = password.withUnsafeBytes { pwd in
            argon2_verify(hash.encoded, pwd.baseAddress, pwd.count, type)
        }
        switch code {
        case ARGON2_OK.rawValue: return true
        case ARGON2_VERIFY_MISMATCH.rawValue: return false
        case ARGON2_DECODING_FAIL.rawValue, ARGON2_SALT_TOO_SHORT.rawValue, ARGON2_OUTPUT_TOO_SHORT.rawValue,
            ARGON2_INCORRECT_TYPE.rawValue:
            throw .malformedHash
        default: throw failure(code)
        }
    }

    private static func failure(_ code: Int32) -> PasswordHashingError {
        .hashingFailed(code: code, message: String(cString: argon2_error_message(code)))
    }
}

/// Which of libargon2's fill codes runs on this CPU. Every one computes the same hashes; the
/// widest one the CPU has is chosen when the process starts.
public enum Argon2Implementation {
    /// The fill codes this build has, widest first (`ref` only where it is not x86-64).
    public static let all = ["avx512", "avx2", "sse2", "ref"]

    /// The fill code running now.
    public static var current: String { String(cString: spse_argon2_implementation()) }

    /// Switches to `name` if this CPU runs it, for every hash of the process (tests, benchmarks).
    @discardableResult
    public static func use(_ name: String) -> Bool { spse_argon2_use(name) == 1 }
}
