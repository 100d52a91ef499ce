import Operations
import PasswordHashing
import Testing

@Suite("Settings: every variable read once, a bad value stops startup by name")
struct SettingsTests {
    @Test("unset variables take the documented defaults")
    func defaults() throws {
        let settings = try Settings(environment: [:])
        #expect(settings.argon2 == .owasp)
        #expect(settings.passwordMinimumLength == 12)
        #expect(settings.credentials.temporaryPasswordLifetime == 72 * 3600)
        #expect(settings.port == 8080 && settings.host == "127.0.0.1")
        #expect(settings.maxConnections == 8 && settings.jsonMaxBytes == 65_536 && settings.documentMaxBytes == 10_485_760)
        #expect(settings.hashAdmissionWait == .milliseconds(1000))
        #expect(settings.smtp == nil)
    }

    @Test("set variables are read with their types")
    func values() throws {
        let settings = try Settings(environment: [
            "SPSE_ARGON2_MEMORY_KIB": "65536", "SPSE_ARGON2_ITERATIONS": "3", "SPSE_ARGON2_PARALLELISM": "2",
            "SPSE_TEMP_PASSWORD_TTL": "48h", "SPSE_PASSWORD_MIN_LENGTH": "16", "SPSE_PORT": "9000", "SPSE_LOGIN_BURST": "5",
            "SPSE_HASH_ADMISSION_WAIT_MS": "0", "SPSE_LOG_LEVEL": "debug",
        ])
        #expect(settings.argon2 == Argon2Parameters(memoryKiB: 65_536, iterations: 3, parallelism: 2))
        #expect(settings.credentials.temporaryPasswordLifetime == 48 * 3600)
        #expect(try Settings(environment: ["SPSE_TEMP_PASSWORD_TTL": "900"]).credentials.temporaryPasswordLifetime == 900)
        #expect(settings.passwordMinimumLength == 16 && settings.port == 9000 && settings.loginBurst == 5)
        #expect(settings.hashAdmissionWait == .zero && settings.logLevel == "debug")
    }

    @Test("a bad value is refused naming the variable, never falling back to the default", arguments: [
        ("SPSE_PASSWORD_MIN_LENGTH", "abc"), ("SPSE_PASSWORD_MIN_LENGTH", "4"), ("SPSE_TEMP_PASSWORD_TTL", "soon"),
        ("SPSE_TEMP_PASSWORD_TTL", "-5m"), ("SPSE_ARGON2_ITERATIONS", "two"), ("SPSE_ARGON2_PARALLELISM", "0"),
        ("SPSE_PORT", "70000"), ("SPSE_DB_MAX_CONNECTIONS", "-3"), ("SPSE_HASH_QUEUE_LIMIT", "-1"), ("SPSE_LOGIN_PER_MINUTE", "lots"),
        ("SPSE_JSON_MAX_BYTES", "99999999999999999999"), ("SPSE_LOG_LEVEL", "loud"), ("SPSE_NOTICE_INTERVAL", "-2"),
        ("SPSE_HASH_ADMISSION_WAIT_MS", "60001"), ("SPSE_DOCUMENT_MAX_BYTES", "1e6"),
    ])
    func refusals(variable: String, value: String) {
        #expect {
            try Settings(environment: [variable: value])
        } throws: { error in
            (error as? SettingsError)?.variable == variable && !"\(error)".contains(value)
        }
    }

    @Test("Argon2 memory below 8 KiB per lane is refused")
    func argon2Memory() {
        #expect(throws: SettingsError.self) { try Settings(environment: ["SPSE_ARGON2_MEMORY_KIB": "16", "SPSE_ARGON2_PARALLELISM": "4"]) }
    }
}
