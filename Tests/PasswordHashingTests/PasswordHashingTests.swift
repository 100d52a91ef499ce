import Foundation
import PasswordHashing
import Synchronization
import Testing

/// Cheap parameters for tests that are about behaviour, not cost (a configuration, not a fake).
let cheap = Argon2Parameters(memoryKiB: 64, iterations: 1, parallelism: 1)

@Suite("Argon2id password hashing")
struct PasswordHashingTests {
    @Test("the reference implementation's known answer at OWASP parameters")
    func knownAnswer() throws {
        let hash = try PasswordHasher.hashBlocking("password", salt: Array("somesalt12345678".utf8), parameters: .owasp)
        #expect(hash.encoded == "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQxMjM0NTY3OA$DEwLbbIZGUtgBuB4gYok6r6hNvevYZoxkwMQ5/LXSaU")
    }

    @Test("hashes made by other implementations verify, with whatever parameters they carry", arguments: ForeignHashes.all)
    func foreignHashes(fixture: ForeignHashes.Fixture) async throws {
        let hasher = try PasswordHasher(parameters: cheap, pool: HashingPool(width: 1))
        let hash = try PasswordHash(encoded: fixture.encoded)
        #expect(try await hasher.verify(fixture.password, against: hash))
        #expect(try await !hasher.verify(fixture.password + " ", against: hash))
        #expect(hasher.needsRehash(hash) == (hash.variant != .argon2id || hash.version != 0x13))
    }

    @Test("every fill code this CPU runs (AVX-512, AVX2, SSE2) gives the reference implementation's known answer and verifies other implementations' hashes")
    func everyFillCodeAgrees() async throws {
        let widest = Argon2Implementation.current
        defer { Argon2Implementation.use(widest) }
        #expect(Argon2Implementation.all.contains(widest))
        var ran: [String] = []
        for name in Argon2Implementation.all where Argon2Implementation.use(name) {
            ran.append(name)
            let hash = try PasswordHasher.hashBlocking("password", salt: Array("somesalt12345678".utf8), parameters: .owasp)
            #expect(hash.encoded == "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQxMjM0NTY3OA$DEwLbbIZGUtgBuB4gYok6r6hNvevYZoxkwMQ5/LXSaU", "\(name)")
            let hasher = try PasswordHasher(parameters: cheap, pool: HashingPool(width: 1))
            for fixture in ForeignHashes.all {
                #expect(try await hasher.verify(fixture.password, against: try PasswordHash(encoded: fixture.encoded)), "\(name): \(fixture)")
            }
        }
        #if arch(x86_64)
        #expect(ran.contains("sse2") && !Argon2Implementation.use("ref"), "every x86-64 runs SSE2; the reference code is not built there")
        #endif
        #expect(!Argon2Implementation.use("mmx"))
    }

    @Test("a new hash is a PHC argon2id string with a fresh 16-byte salt, and verifies")
    func hashAndVerify() async throws {
        let hasher = try PasswordHasher(parameters: cheap, pool: HashingPool(width: 2))
        let first = try await hasher.hash("Sekar Ayu 2026 kata sandi")
        let second = try await hasher.hash("Sekar Ayu 2026 kata sandi")
        #expect(first.encoded.hasPrefix("$argon2id$v=19$m=64,t=1,p=1$"))
        #expect(first.saltLength == 16)
        #expect(first.hashLength == 32)
        #expect(first.encoded != second.encoded, "each hash has its own salt")
        #expect(try await hasher.verify("Sekar Ayu 2026 kata sandi", against: first))
        #expect(try await !hasher.verify("sekar ayu 2026 kata sandi", against: first))
        #expect(try await !hasher.verify("", against: first))
        #expect(!String(describing: first).contains(first.encoded), "descriptions keep hashes out of logs")
    }

    @Test("needsRehash when the configured parameters are stronger or the variant is older")
    func needsRehash() throws {
        let configured = Argon2Parameters(memoryKiB: 19_456, iterations: 2, parallelism: 1)
        let hasher = try PasswordHasher(parameters: configured, pool: HashingPool(width: 1))
        let salt = Array("garamdapur16abcd".utf8)
        let same = try PasswordHasher.hashBlocking("x", salt: salt, parameters: configured)
        let lessMemory = try PasswordHasher.hashBlocking("x", salt: salt, parameters: .init(memoryKiB: 4096, iterations: 2, parallelism: 1))
        let fewerPasses = try PasswordHasher.hashBlocking("x", salt: salt, parameters: .init(memoryKiB: 19_456, iterations: 1, parallelism: 1))
        let stronger = try PasswordHasher.hashBlocking("x", salt: salt, parameters: .init(memoryKiB: 32_768, iterations: 3, parallelism: 1))
        #expect(!hasher.needsRehash(same))
        #expect(hasher.needsRehash(lessMemory))
        #expect(hasher.needsRehash(fewerPasses))
        #expect(!hasher.needsRehash(stronger))
        #expect(hasher.needsRehash(try PasswordHash(encoded: ForeignHashes.all[1].encoded)), "argon2i is replaced by argon2id")
    }

    @Test("strings that are not PHC Argon2 are refused as malformed", arguments: [
        "", "plain text", "$2b$12$abcdefghijklmnopqrstuu", "$argon2id$v=19$m=65536,t=3$c2FsdHNhbHQ$aGFzaGhhc2g",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ", "$argon2x$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
        "$argon2id$v=18$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", "$argon2id$v=19$m=65536,t=3,p=4$!!!$aGFzaGhhc2g",
    ])
    func malformed(encoded: String) {
        #expect(throws: PasswordHashingError.malformedHash) { try PasswordHash(encoded: encoded) }
    }
}

@Suite("Hashing pool")
struct HashingPoolTests {
    /// Puts a job on the pool's only worker that holds it until the returned gate opens; returns
    /// once it runs. The task's value is 0.
    func occupyOnlyWorker(of pool: HashingPool) async throws -> (Gate, Task<Int, any Error>) {
        let gate = Gate()
        let running = Task { try await pool.run { gate.wait(); return 0 } }
        let deadline = ContinuousClock.now + .seconds(20)
        while !gate.isWaiting, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        guard gate.isWaiting else {
            gate.open()
            throw WorkerNeverRan()
        }
        return (gate, running)
    }

    /// Returns once `count` jobs wait for a worker.
    func untilQueued(_ count: Int, in pool: HashingPool) async throws {
        while pool.queueDepth < count { try await Task.sleep(for: .milliseconds(1)) }
    }

    @Test("no wider than the machine's cores")
    func width() {
        #expect(HashingPool(width: 1000).width == ProcessInfo.processInfo.activeProcessorCount)
        #expect(HashingPool(width: 1).width == 1)
    }

    #if os(Linux)
    @Test("hashes run at a lower priority than the threads that parse requests and wait on the database; the caller's priority is untouched")
    func workersYield() async throws {
        errno = 0
        let callerBefore = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let pool = HashingPool(width: 2)
        let seen = try await pool.run { () throws(PasswordHashingError) -> Int32 in getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
        #expect(seen == HashingPool.workerNiceness && seen > 0)
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == callerBefore)
    }
    #endif

    @Test("when the queue is full, further work is refused at once instead of piling up")
    func boundedQueue() async throws {
        let pool = HashingPool(width: 1, queueLimit: 2)
        let (gate, running) = try await occupyOnlyWorker(of: pool)
        let queued = (1...2).map { n in Task { try await pool.run { n } } }
        try await untilQueued(2, in: pool)
        #expect(pool.isSaturated)
        await #expect(throws: PasswordHashingError.overloaded(queued: 2)) { try await pool.run { 3 } }
        gate.open()
        #expect(try await running.value == 0)
        #expect(try await queued[0].value == 1)
        #expect(try await queued[1].value == 2)
        #expect(try await pool.run { 4 } == 4, "capacity comes back once the queue drains")
        #expect(!pool.isSaturated)
    }

    @Test("with an admission wait, work that finds the queue full waits its turn, first come first served, and runs when room frees in time")
    func admissionWaitAdmits() async throws {
        let pool = HashingPool(width: 1, queueLimit: 0, admissionWait: .seconds(30), waitingLimit: 2)
        let (gate, running) = try await occupyOnlyWorker(of: pool)
        let order = Log()
        let first = Task { try await pool.run { order.append(1); return 1 } }
        try await untilQueued(1, in: pool)
        let second = Task { try await pool.run { order.append(2); return 2 } }
        try await untilQueued(2, in: pool)
        #expect(pool.isSaturated, "the queue and the room to wait are both full")
        await #expect(throws: PasswordHashingError.overloaded(queued: 2)) { try await pool.run { 3 } }
        gate.open()
        #expect(try await running.value == 0)
        #expect(try await first.value == 1)
        #expect(try await second.value == 2)
        #expect(order.entries == [1, 2])
        #expect(!pool.isSaturated)
    }

    @Test("with an admission wait, work is refused when no room frees within it, and never runs")
    func admissionWaitRefuses() async throws {
        let pool = HashingPool(width: 1, queueLimit: 0, admissionWait: .milliseconds(200))
        let (gate, running) = try await occupyOnlyWorker(of: pool)
        let ran = Log()
        let started = ContinuousClock.now
        await #expect(throws: PasswordHashingError.overloaded(queued: 0)) { try await pool.run { ran.append(1); return 1 } }
        #expect(ContinuousClock.now - started >= .milliseconds(200), "it waited before being refused")
        gate.open()
        #expect(try await running.value == 0)
        #expect(try await pool.run { 5 } == 5)
        #expect(ran.entries.isEmpty, "a refused job does not run later")
    }

    @Test("an admission holds a place before its work: others wait for it, first come first served; given back unused, the place goes to the next")
    func admissionBeforeWork() async throws {
        let pool = HashingPool(width: 1, queueLimit: 0, admissionWait: .seconds(30), waitingLimit: 4)
        let held = try await pool.admit()
        #expect(pool.isSaturated == false, "room to wait remains")
        let order = Log()
        let waiting = Task { try await pool.run { order.append(1); return 1 } }
        try await untilQueued(1, in: pool)
        let second = Task { try await pool.admit() }
        try await untilQueued(2, in: pool)
        held.release()                                   // refused before its hash: the place moves on
        #expect(try await waiting.value == 1)
        let admitted = try await second.value
        #expect(try await admitted.run { 7 } == 7, "an admission runs its one job in its place")
        await #expect(throws: PasswordHashingError.shutDown) { try await admitted.run { 8 } }
        #expect(try await pool.run { 9 } == 9, "every place came back")
        #expect(order.entries == [1])
    }

    @Test("shutting down refuses the work still waiting for room")
    func shutDownRefusesWaiting() async throws {
        let pool = HashingPool(width: 1, queueLimit: 0, admissionWait: .seconds(30))
        let (gate, running) = try await occupyOnlyWorker(of: pool)
        let waiting = Task { try await pool.run { 1 } }
        try await untilQueued(1, in: pool)
        pool.shutDown()
        await #expect(throws: PasswordHashingError.shutDown) { try await waiting.value }
        gate.open()
        #expect(try await running.value == 0)
    }

    @Test("many concurrent callers all get their own result")
    func concurrentCallers() async throws {
        let hasher = try PasswordHasher(parameters: cheap, pool: HashingPool(queueLimit: 512))
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for n in 0..<200 {
                group.addTask {
                    let hash = try await hasher.hash("password \(n)")
                    return try await hasher.verify("password \(n)", against: hash)
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0 })
    }

    @Test("each job's wait for a worker is reported, for the metrics")
    func waitObserver() async throws {
        let waits = Mutex<[Duration]>([])
        let pool = HashingPool(width: 1, waitObserver: { wait in waits.withLock { $0.append(wait) } })
        for n in 0..<5 { #expect(try await pool.run { n } == n) }
        #expect(waits.withLock { $0.count } == 5)
        #expect(waits.withLock { $0.allSatisfy { $0 >= .zero } })
    }

    @Test("a shut-down pool refuses work")
    func shutDown() async throws {
        let pool = HashingPool(width: 1)
        pool.shutDown()
        await #expect(throws: PasswordHashingError.shutDown) { try await pool.run { 1 } }
    }
}

/// What jobs recorded, in order.
final class Log: Sendable {
    private let state = Mutex<[Int]>([])
    var entries: [Int] { state.withLock { $0 } }
    func append(_ entry: Int) { state.withLock { $0.append(entry) } }
}

/// Blocks a worker thread until the test opens it.
struct WorkerNeverRan: Error {}

final class Gate: Sendable {
    private let state = Mutex((waiting: false, open: false))
    var isWaiting: Bool { state.withLock { $0.waiting } }
    func open() { state.withLock { $0.open = true } }
    func wait() {
        state.withLock { $0.waiting = true }
        // Opened by the test; a test that fails first must not leave the worker blocked for ever.
        let deadline = ContinuousClock.now + .seconds(60)
        while !state.withLock({ $0.open }), ContinuousClock.now < deadline { usleep(1000) }
    }
}
