import Accounts
import Audit
import Crypto
import Foundation
import Postgres

/// Runs a provisioning batch: validate the whole file, check it against the accounts that exist,
/// hash a temporary password per new account on the Argon2 pool (outside any transaction), then
/// load every new account with one COPY in one transaction that also records the batch and its
/// audit row. All or nothing: a bad row, a crash or a conflict leaves the database as it was, and
/// a re-run of the same file creates only what is missing.
public struct Provisioner: Sendable {
    let pool: ConnectionPool
    let directory: AccountDirectory
    let credentials: Credentials
    let audit: AuditTrail
    let clock: ServiceClock
    let maxRows: Int
    let hooks: ProvisioningHooks

    /// The audit trail and clock are the directory's, so a batch and its accounts share them.
    public init(
        pool: ConnectionPool, directory: AccountDirectory, credentials: Credentials, maxRows: Int = 100_000,
        hooks: ProvisioningHooks = ProvisioningHooks()
    ) {
        self.pool = pool
        self.directory = directory
        self.credentials = credentials
        self.audit = directory.audit
        self.clock = directory.clock
        self.maxRows = maxRows
        self.hooks = hooks
    }

    public func run(
        _ bytes: [UInt8], format: BatchFormat, dryRun: Bool, credentialsTo destination: CredentialsDestination, by actor: Operator,
        progress: @Sendable (ProvisioningProgress) -> Void = { _ in }
    ) async throws -> BatchReport {
        guard AccessPolicy.allows(actor.role, .provisionAccounts) else { throw ProvisioningError.notPermitted(role: actor.role) }
        let credentialsFile: CredentialsFile? = if case .file(let path) = destination { CredentialsFile(path: path) } else { nil }
        let fileSHA256 = CredentialsFile.digest(bytes)

        let plan = try await plan(bytes, format: format)
        if dryRun {
            return report(plan, created: [], dryRun: true, format: format, fileSHA256: fileSHA256)
        }
        var recovered: String?
        if let credentialsFile { recovered = try await recoverInterrupted(credentialsFile) }
        // Checked only when there is something to write: re-running the same command, with the
        // same --credentials-out, is a no-op, not an error.
        if !plan.toCreate.isEmpty {
            if destination == .none { throw ProvisioningError.credentialsOutputRequired(newAccounts: plan.toCreate.count) }
            try credentialsFile?.checkWritable()
        }

        let prepared = try await hashPasswords(for: plan.toCreate, progress: progress)
        progress(ProvisioningProgress(phase: .writing, done: 0, total: prepared.count))
        let committed = try await commit(plan: plan, prepared: prepared, format: format, fileSHA256: fileSHA256, by: actor, file: credentialsFile)
        try await hooks.afterCommit?()
        if committed.wroteFile { try credentialsFile?.publish() }
        progress(ProvisioningProgress(phase: .writing, done: prepared.count, total: prepared.count))

        var result = report(committed.plan, created: committed.created, dryRun: false, format: format, fileSHA256: fileSHA256)
        result = BatchReport(
            dryRun: false, format: format, fileSHA256: fileSHA256, batchID: committed.batchID, rows: result.rows,
            created: committed.created.count, unchanged: committed.plan.unchanged.count,
            expiresAt: committed.created.isEmpty ? nil : committed.expiresAt,
            credentialsOut: committed.wroteFile ? credentialsFile?.path : nil, recoveredCredentials: recovered,
            credentials: destination == .returned
                ? committed.created.map { IssuedCredential(userID: $0.row.account.userID.value, temporaryPassword: $0.password.password.reveal, expiresAt: committed.expiresAt) }
                : nil)
        return result
    }

    /// Every problem of the file, or what it would do.
    func plan(_ bytes: [UInt8], format: BatchFormat) async throws -> BatchPlan {
        let (records, readProblems) = BatchReader.read(bytes, format: format)
        var problems = readProblems
        if records.count > maxRows {
            throw ProvisioningError.invalidRows([RowProblem(line: records[maxRows].line, column: nil, rule: .tooManyRows,
                                                            detail: "a batch holds at most \(maxRows) rows; split the file")])
        }
        if records.isEmpty && problems.isEmpty {
            problems.append(RowProblem(line: 1, column: nil, rule: .noRows, detail: "the file holds no accounts"))
        }
        let (valid, fieldProblems) = RowValidator.validate(records)
        let (unique, duplicateProblems) = BatchPlan.duplicates(in: valid)
        let existing = try await pool.withConnection { try await directory.colliding(with: unique.map(\.account), on: $0) }
        var plan = BatchPlan.classify(unique, against: existing)
        plan.problems = (problems + fieldProblems + duplicateProblems + plan.problems).sorted {
            ($0.line, $0.column.map { BatchColumn.allCases.firstIndex(of: $0)! } ?? -1)
                < ($1.line, $1.column.map { BatchColumn.allCases.firstIndex(of: $0)! } ?? -1)
        }
        guard plan.problems.isEmpty else { throw ProvisioningError.invalidRows(plan.problems) }
        return plan
    }

    struct Prepared: Sendable {
        let row: ValidRow
        let password: Credentials.PreparedTemporaryPassword
    }

    /// Keeps the pool's workers busy (width + a few queued) without flooding its bounded queue.
    func hashPasswords(for rows: [ValidRow], progress: @Sendable (ProvisioningProgress) -> Void) async throws -> [Prepared] {
        let window = max(1, credentials.hashingWidth * 2)
        var prepared: [Prepared?] = Array(repeating: nil, count: rows.count)
        try await withThrowingTaskGroup(of: (Int, Credentials.PreparedTemporaryPassword).self) { group in
            var next = 0
            var done = 0
            while next < rows.count && next < window {
                let index = next
                group.addTask { (index, try await credentials.prepareTemporaryPassword()) }
                next += 1
            }
            while let (index, password) = try await group.next() {
                prepared[index] = Prepared(row: rows[index], password: password)
                done += 1
                progress(ProvisioningProgress(phase: .hashing, done: done, total: rows.count))
                if next < rows.count {
                    let index = next
                    group.addTask { (index, try await credentials.prepareTemporaryPassword()) }
                    next += 1
                }
            }
        }
        return prepared.map { $0! }
    }

    struct Committed: Sendable {
        let plan: BatchPlan
        let created: [Prepared]
        let expiresAt: Date
        let batchID: Int64
        let wroteFile: Bool
    }

    /// One transaction: re-check under a lock (another run may have provisioned some rows since
    /// the plan), COPY, the batch row, the audit row, and the synced partial credentials file.
    func commit(
        plan: BatchPlan, prepared: [Prepared], format: BatchFormat, fileSHA256: String, by actor: Operator, file: CredentialsFile?
    ) async throws -> Committed {
        var partialFD: Int32?
        defer { if let partialFD { close(partialFD) } }
        do {
            return try await pool.withTransaction { connection in
                // A batch is one COPY of up to 100,000 rows: the service's statement timeout (meant
                // for requests stuck behind a lock) does not apply to it.
                try await connection.executeScript("SET LOCAL statement_timeout = 0")
                _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtext('spse.provisioning'))")
                let now = clock.now
                let expiresAt = credentials.temporaryPasswordExpiry(from: now)
                let existing = try await directory.colliding(with: prepared.map(\.row.account), on: connection)
                let recheck = BatchPlan.classify(prepared.map(\.row), against: existing)
                guard recheck.problems.isEmpty else { throw ProvisioningError.invalidRows(recheck.problems) }
                let createdLines = Set(recheck.toCreate.map(\.line))
                let created = prepared.filter { createdLines.contains($0.row.line) }
                var finalPlan = plan
                finalPlan.toCreate = recheck.toCreate
                finalPlan.unchanged = (plan.unchanged + recheck.unchanged).sorted { $0.line < $1.line }

                try await credentials.insertProvisioned(created.map { ($0.row.account, $0.password) }, expiresAt: expiresAt, at: now, on: connection)
                var credentialsDigest: String?
                if let file, !created.isEmpty {
                    let stamp = ISO8601DateFormatter().string(from: expiresAt)
                    let bytes = CredentialsFile.render(created.map {
                        CredentialsFile.Line(userID: $0.row.account.userID.value, password: $0.password.password.reveal, expiresAt: stamp)
                    })
                    partialFD = try file.writePartial(bytes)
                    credentialsDigest = CredentialsFile.digest(bytes)
                }
                let batchID = try await connection.query(
                    """
                    INSERT INTO provisioning_batches (operator, file_sha256, format, row_count, created_count, unchanged_count,
                                                      credentials_sha256, committed_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
                    """,
                    [actor.userID.value, fileSHA256, format.rawValue, created.count + finalPlan.unchanged.count, created.count,
                     finalPlan.unchanged.count, credentialsDigest, now]
                ).first!.decode(Int64.self, at: 0)
                try await audit.record(
                    AuditEvent(
                        occurredAt: now, actor: actor.userID.value, action: "provisioning.batch", subject: "batch-\(batchID)",
                        details: [
                            "file_sha256": .string(fileSHA256), "format": .string(format.rawValue),
                            "rows": .int(created.count + finalPlan.unchanged.count), "created": .int(created.count),
                            "unchanged": .int(finalPlan.unchanged.count), "created_user_ids": .strings(created.map(\.row.account.userID.value)),
                        ]),
                    on: connection)
                return Committed(plan: finalPlan, created: created, expiresAt: expiresAt, batchID: batchID, wroteFile: credentialsDigest != nil)
            }
        } catch {
            // The batch did not commit, so the passwords in a partial file were never installed.
            if partialFD != nil { file?.discardPartial() }
            throw error
        }
    }

    /// A partial left by a run killed after writing it: published if its batch committed,
    /// removed if not. Returns what was done, for the report.
    func recoverInterrupted(_ file: CredentialsFile) async throws -> String? {
        guard let bytes = try file.abandonedPartial() else { return nil }
        let digest = CredentialsFile.digest(bytes)
        let batch = try await pool.withConnection { connection in
            try await connection.query("SELECT id FROM provisioning_batches WHERE credentials_sha256 = $1", [digest]).first?.decode(Int64.self, at: 0)
        }
        if let batch {
            try file.publish()
            return "published \(file.path) from interrupted batch \(batch)"
        }
        file.discardPartial()
        return "removed \(file.partialPath): its batch never committed, so those passwords were never installed"
    }

    private func report(_ plan: BatchPlan, created: [Prepared], dryRun: Bool, format: BatchFormat, fileSHA256: String) -> BatchReport {
        let rows = (plan.toCreate.map { BatchReport.Row(line: $0.line, userID: $0.account.userID.value, outcome: dryRun ? .wouldCreate : .created) }
            + plan.unchanged.map { BatchReport.Row(line: $0.line, userID: $0.account.userID.value, outcome: .unchanged) })
            .sorted { $0.line < $1.line }
        return BatchReport(
            dryRun: dryRun, format: format, fileSHA256: fileSHA256, batchID: nil, rows: rows, created: dryRun ? 0 : created.count,
            unchanged: plan.unchanged.count, expiresAt: nil, credentialsOut: nil, recoveredCredentials: nil, credentials: nil)
    }
}
