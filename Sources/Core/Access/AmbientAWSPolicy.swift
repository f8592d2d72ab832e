/// Which organizations may act through the server's own AWS identity (its IRSA role, the AWS
/// default chain, the `KMS_*_AWS_*` keys). That identity belongs to the operator, so it is
/// never reachable through org-level power unless the operator lists the organization in
/// `KMS_AWS_AMBIENT_ORGS` (organization ids or slugs). The default is nobody; there is no
/// wildcard.
public struct AmbientAWSPolicy: Sendable {
    let allowed: Set<String>

    public init(allowed: [String] = []) {
        self.allowed = Set(allowed.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "*" })
    }

    /// Whether `organization` may use the server's AWS identity.
    public func allows(_ organization: Organization) -> Bool {
        allowed.contains(organization.id) || allowed.contains(organization.slug)
    }

    /// Throws a 403 that tells the operator how to allow it, unless `orgId` is allowed.
    public func require(orgId: String, tenants: TenantStore, use: String) async throws {
        guard let org = try await tenants.organization(id: orgId), allows(org) else {
            throw APIError.forbidden("\(use) uses this server's own AWS identity, which this organization may not use; "
                                     + "the operator can allow it with KMS_AWS_AMBIENT_ORGS=<organization id or slug>")
        }
    }
}
