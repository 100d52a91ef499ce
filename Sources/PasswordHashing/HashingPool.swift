import Foundation
import Synchronization

/// A fixed set of worker threads for CPU-bound work (Argon2), no wider than the machine's cores,
/// with a bounded queue in front. Argon2 takes tens of milliseconds and hundreds of KiB to MiBs:
/// running it on an event loop would stall every connection, and an unbounded queue would let a
/// flood of logins grow memory without limit. When the queue is full, `run` throws `.overloaded`
/// at once so the caller can answer "try again later".
public final class HashingPool: Sendable {
    /// Worker threads.
    public let width: Int
    /// Jobs that may wait for a worker, beyond the ones running.
    public let queueLimit: Int
    fileprivate let queue: JobQueue
    fileprivate let jobsRunCount = Atomic<Int>(0)

    /// Called with each job's time in the queue, for metrics.
    private let waitObserver: (@Sendable (Duration) -> Void)?

    /// `admissionWait`: how long a job that finds the queue full may wait for room before it is
    /// refused, with at most `waitingLimit` such jobs. A client that ignores `Retry-After` and
    /// re-sends at once is then paced by the server instead of turning the cores into a stream of
    /// refusals (`spse-bench login --clients 512`); zero refuses at once.
    public init(width: Int = ProcessInfo.processInfo.activeProcessorCount, queueLimit: Int = 1024,
                admissionWait: Duration = .zero, waitingLimit: Int = 4096,
                waitObserver: (@Sendable (Duration) -> Void)? = nil) {
        self.width = max(1, min(width, ProcessInfo.processInfo.activeProcessorCount))
        self.queueLimit = max(0, queueLimit)
        self.waitObserver = waitObserver
        self.queue = JobQueue(capacity: self.width + self.queueLimit, admissionWait: admissionWait, waitingLimit: max(0, waitingLimit))
        for index in 0..<self.width {
            let queue = self.queue
            let thread = Thread {
                Self.yieldToShortWork()
                queue.workLoop()
            }
            thread.name = "spse-hash-\(index)"
            thread.start()
        }
    }

    deinit { queue.shutDown() }

    /// Niceness of the workers: a hash (10-25 ms of CPU) gives way to the event loops, the tasks
    /// and the database backends, whose work is short and which someone waits on; the cores stay
    /// as busy, and a login's steps around its hash stop queuing behind other logins' hashes.
    public static let workerNiceness: Int32 = 5

    /// Lowers the calling thread's priority (Linux keeps a niceness per thread).
    private static func yieldToShortWork() {
        #if os(Linux)
        // 0 is the calling thread: on Linux the niceness is per thread, whatever POSIX says.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, workerNiceness)
        #endif
    }

    /// Jobs that have run since the pool started (for metrics, and for tests that prove work was not spent).
    public var jobsRun: Int { jobsRunCount.load(ordering: .relaxed) }

    /// Jobs waiting for a worker now, in the queue or for room in it.
    public var queueDepth: Int { queue.depth }

    /// Whether a job submitted now would most likely be refused at once (the queue and the room to
    /// wait for it both full): callers with work to do before hashing (a login's database read)
    /// check this first, so a flood is turned away without it.
    public var isSaturated: Bool { queue.isFull }

    /// Runs `job` on a worker and returns its result; throws `.overloaded` when the queue is full
    /// and stays full for the admission wait.
    public func run<T: Sendable>(_ job: @escaping @Sendable () throws(PasswordHashingError) -> T) async throws(PasswordHashingError) -> T {
        let enqueued = ContinuousClock.now
        let observer = waitObserver
        let result: Result<T, PasswordHashingError> = await withCheckedContinuation { continuation in
            // Exactly one of the two closures runs, once: the job, or the refusal.
            queue.enqueue(
                {
                    observer?(ContinuousClock.now - enqueued)
                    self.jobsRunCount.add(1, ordering: .relaxed)
                    continuation.resume(returning: Result { () throws(PasswordHashingError) -> T in try job() })
                },
                refuse: { continuation.resume(returning: .failure($0)) })
        }
        return try result.get()
    }

    /// Takes a place in the queue before the work that precedes the hash (a login's database
    /// read), waiting for room like `run`: a login that must wait, waits here, holding no
    /// database connection. The place is used by `Admission.run` or given back by `release`.
    public func admit() async throws(PasswordHashingError) -> Admission {
        let result: Result<Admission, PasswordHashingError> = await withCheckedContinuation { continuation in
            queue.enqueue({ continuation.resume(returning: .success(Admission(pool: self))) }, reservation: true,
                          refuse: { continuation.resume(returning: .failure($0)) })
        }
        return try result.get()
    }

    /// A reserved place in the pool's queue (`admit`): run one job in it, or give it back.
    public final class Admission: Sendable {
        let pool: HashingPool
        private let used = Atomic<Bool>(false)
        init(pool: HashingPool) { self.pool = pool }

        /// Runs `job` in this place (once); a second call throws `.shutDown`.
        public func run<T: Sendable>(_ job: @escaping @Sendable () throws(PasswordHashingError) -> T) async throws(PasswordHashingError) -> T {
            guard !used.exchange(true, ordering: .acquiringAndReleasing) else { throw .shutDown }
            let pool = pool
            let result: Result<T, PasswordHashingError> = await withCheckedContinuation { continuation in
                pool.queue.enqueueReserved {
                    pool.jobsRunCount.add(1, ordering: .relaxed)
                    continuation.resume(returning: Result { () throws(PasswordHashingError) -> T in try job() })
                }
            }
            return try result.get()
        }

        /// Gives the place back unused (the login was refused before its hash); idempotent.
        public func release() {
            guard !used.exchange(true, ordering: .acquiringAndReleasing) else { return }
            pool.queue.leave()
        }

        deinit { release() }
    }

    /// Stops the workers once the queued jobs are done; later `run` calls throw `.shutDown`.
    public func shutDown() { queue.shutDown() }
}

/// The queue the workers share, guarded by one condition variable. `capacity` bounds the jobs in
/// flight (running plus queued), so a burst never holds more than that many passwords in memory
/// beyond the `waitingLimit` jobs waiting (for at most `admissionWait`) for room.
private final class JobQueue: @unchecked Sendable {
    private struct Waiter {
        let id: UInt64
        /// What to do when room is made: queue a job for a worker, or hand a reserved place to its
        /// holder (who queues its job later, or gives the place back).
        let job: () -> Void
        let isReservation: Bool
        let refuse: (PasswordHashingError) -> Void
    }

    private let condition = NSCondition()
    private let capacity: Int
    private let admissionWait: Duration
    private let waitingLimit: Int
    private var jobs: [() -> Void] = []
    private var head = 0
    private var inFlight = 0
    private var waiting: [Waiter] = []
    private var nextWaiter: UInt64 = 0
    private var stopped = false

    init(capacity: Int, admissionWait: Duration, waitingLimit: Int) {
        self.capacity = capacity
        self.admissionWait = admissionWait
        self.waitingLimit = admissionWait > .zero ? waitingLimit : 0
    }

    var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return waitingForWorker
    }

    /// Jobs queued for a worker or waiting for room; read under the lock.
    private var waitingForWorker: Int { jobs.count - head + waiting.count }

    /// Whether `enqueue` would refuse now (every worker busy, the queue full, no room to wait).
    var isFull: Bool {
        condition.lock()
        defer { condition.unlock() }
        return inFlight >= capacity && waiting.count >= waitingLimit
    }

    /// Queues `job`, or has it wait for room, or refuses it: `refuse` is called (at once or when
    /// the wait is over) instead of `job`, never as well.
    func enqueue(_ job: @escaping () -> Void, reservation: Bool = false, refuse: @escaping (PasswordHashingError) -> Void) {
        condition.lock()
        if stopped {
            condition.unlock()
            return refuse(.shutDown)
        }
        if inFlight < capacity {
            inFlight += 1
            if reservation {
                condition.unlock()
                return job()
            }
            jobs.append(job)
            condition.signal()
            condition.unlock()
            return
        }
        guard waiting.count < waitingLimit else {
            let queued = waitingForWorker
            condition.unlock()
            return refuse(.overloaded(queued: queued))
        }
        nextWaiter += 1
        let id = nextWaiter
        waiting.append(Waiter(id: id, job: job, isReservation: reservation, refuse: refuse))
        condition.unlock()
        let (seconds, attoseconds) = admissionWait.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [weak self] in self?.expire(id) }
    }

    /// The wait of waiter `id` is over: refused, unless a worker made room for it in time.
    private func expire(_ id: UInt64) {
        condition.lock()
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return condition.unlock() }
        let waiter = waiting.remove(at: index)
        let queued = waitingForWorker
        condition.unlock()
        waiter.refuse(.overloaded(queued: queued))
    }

    func workLoop() {
        while let job = next() {
            job()
            leave()
        }
    }

    /// A place in flight is free again (a job ran, or a reserved place was given back): it goes
    /// to the longest-waiting job or reservation, before any newcomer.
    func leave() {
        condition.lock()
        inFlight -= 1
        var granted: (() -> Void)?
        if !waiting.isEmpty, !stopped {
            inFlight += 1
            let waiter = waiting.removeFirst()
            if waiter.isReservation { granted = waiter.job } else { jobs.append(waiter.job); condition.signal() }
        }
        condition.unlock()
        granted?()
    }

    /// Queues the job of a place reserved earlier (already counted in flight).
    func enqueueReserved(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func next() -> (() -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count {
            if stopped { return nil }
            condition.wait()
        }
        let job = jobs[head]
        head += 1
        // Compact now and then instead of removing from the front each time.
        if head > 64, head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }

    func shutDown() {
        condition.lock()
        stopped = true
        let refused = waiting
        waiting.removeAll()
        condition.broadcast()
        condition.unlock()
        for waiter in refused { waiter.refuse(.shutDown) }
    }
}
