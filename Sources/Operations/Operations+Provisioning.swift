import Accounts
import Provisioning

/// A provisioning file as a door received it.
public struct BatchForm: Sendable {
    public var bytes: [UInt8]
    public var format: BatchFormat
    public var dryRun: Bool
    public init(bytes: [UInt8], format: BatchFormat, dryRun: Bool) {
        self.bytes = bytes
        self.format = format
        self.dryRun = dryRun
    }
}

extension Operations {
    /// `read` reads the file (up to `SPSE_BATCH_MAX_BYTES`) only once the caller may provision:
    /// nobody else makes the server read or parse a batch. `destination(dryRun)` says where the
    /// temporary passwords of a real run go.
    public func provision(by caller: Caller, _ read: () async throws -> BatchForm,
                          credentialsTo destination: (Bool) -> CredentialsDestination,
                          progress: @Sendable (ProvisioningProgress) -> Void = { _ in }) async throws -> BatchReport {
        try AccessPolicy.require(caller.role, .provisionAccounts)
        let form = try await read()
        if !form.dryRun { try requireStepUp(caller) }
        return try await provisioner.run(form.bytes, format: form.format, dryRun: form.dryRun, credentialsTo: destination(form.dryRun),
                                         by: caller.asOperator, progress: progress)
    }

    /// A provisioning batch already in hand (the CLI's file); the file is validated whole by the provisioner.
    public func provision(_ bytes: [UInt8], format: BatchFormat, dryRun: Bool, credentialsTo destination: CredentialsDestination,
                          by caller: Caller, progress: @Sendable (ProvisioningProgress) -> Void = { _ in }) async throws -> BatchReport {
        try await provision(by: caller, { BatchForm(bytes: bytes, format: format, dryRun: dryRun) }, credentialsTo: { _ in destination },
                            progress: progress)
    }
}
