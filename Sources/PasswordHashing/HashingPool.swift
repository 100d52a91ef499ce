import Foundation

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
    private let queue: JobQueue

    /// Called with each job's time in the queue, for metrics.
    private let waitObserver: (@Sendable (Duration) -> Void)?

    public init(width: Int = ProcessInfo.processInfo.activeProcessorCount, queueLimit: Int = 1024,
                waitObserver: (@Sendable (Duration) -> Void)? = nil) {
        self.width = max(1, min(width, ProcessInfo.processInfo.activeProcessorCount))
        self.queueLimit = max(0, queueLimit)
        self.waitObserver = waitObserver
        self.queue = JobQueue(capacity: self.width + self.queueLimit)
        for index in 0..<self.width {
            let queue = self.queue
            let thread = Thread { queue.workLoop() }
            thread.name = "spse-hash-\(index)"
            thread.start()
        }
    }

    deinit { queue.shutDown() }

    /// Jobs waiting for a worker now.
    public var queueDepth: Int { queue.depth }

    /// Whether a job submitted now would most likely be refused: callers with work to do before
    /// hashing (a login's database read) check this first, so a flood is turned away without it.
    public var isSaturated: Bool { queue.isFull }

    /// Runs `job` on a worker and returns its result; throws `.overloaded` when the queue is full.
    public func run<T: Sendable>(_ job: @escaping @Sendable () throws(PasswordHashingError) -> T) async throws(PasswordHashingError) -> T {
        let enqueued = ContinuousClock.now
        let observer = waitObserver
        let result: Result<T, PasswordHashingError> = await withCheckedContinuation { continuation in
            let admitted = queue.enqueue {
                observer?(ContinuousClock.now - enqueued)
                continuation.resume(returning: Result { () throws(PasswordHashingError) -> T in try job() })
            }
            if let refusal = admitted { continuation.resume(returning: .failure(refusal)) }
        }
        return try result.get()
    }

    /// Stops the workers once the queued jobs are done; later `run` calls throw `.shutDown`.
    public func shutDown() { queue.shutDown() }
}

/// The queue the workers share, guarded by one condition variable. `capacity` bounds the jobs in
/// flight (running plus waiting), so a burst never holds more than that many passwords in memory.
private final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var jobs: [() -> Void] = []
    private var head = 0
    private var inFlight = 0
    private var stopped = false

    init(capacity: Int) { self.capacity = capacity }

    var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    /// Whether `enqueue` would refuse now (every worker busy and the queue full).
    var isFull: Bool {
        condition.lock()
        defer { condition.unlock() }
        return inFlight >= capacity
    }

    /// Enqueues `job`, or returns why it was refused.
    func enqueue(_ job: @escaping () -> Void) -> PasswordHashingError? {
        condition.lock()
        defer { condition.unlock() }
        if stopped { return .shutDown }
        if inFlight >= capacity { return .overloaded(queued: jobs.count - head) }
        inFlight += 1
        jobs.append(job)
        condition.signal()
        return nil
    }

    func workLoop() {
        while let job = next() {
            job()
            condition.lock()
            inFlight -= 1
            condition.unlock()
        }
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
        condition.broadcast()
        condition.unlock()
    }
}
