import Core

/// Parses caller ARNs and matches them against an identity's allowed principals, with `*`
/// wildcards matched literally character by character (no regular expressions, so a pattern
/// can never inject syntax).
enum PrincipalMatcher {
    /// A caller as STS reports it.
    struct Caller: Equatable {
        let partition: String
        let account: String
        /// `user`, `assumed-role`, `root`, or another IAM type.
        let kind: String
        /// For users: the name; for assumed roles: the role name.
        let name: String
        let arn: String

        /// The ARNs an allowed principal may name this caller by: its own ARN and, for an
        /// assumed role, the IAM role ARN (`arn:aws:iam::ACCOUNT:role/NAME`).
        var forms: [String] {
            kind == "assumed-role" ? [arn, "arn:\(partition):iam::\(account):role/\(name)"] : [arn]
        }
    }

    /// Parses `arn:PARTITION:iam::ACCOUNT:user/PATH/NAME`, `...:sts::ACCOUNT:assumed-role/ROLE/SESSION`
    /// and `...:iam::ACCOUNT:root`.
    static func parseCaller(_ arn: String) -> Caller? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-us-gov", "aws-cn"].contains(parts[1]), parts[3].isEmpty,
              isAccount(parts[4]) else { return nil }
        let resource = parts[5]
        if parts[2] == "iam", resource == "root" { return Caller(partition: parts[1], account: parts[4], kind: "root", name: "root", arn: arn) }
        let segments = resource.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.count >= 2, segments.allSatisfy({ !$0.isEmpty }) else { return nil }
        switch (parts[2], segments[0]) {
        case ("iam", "user"): return Caller(partition: parts[1], account: parts[4], kind: "user", name: segments.last!, arn: arn)
        case ("sts", "assumed-role") where segments.count == 3:
            return Caller(partition: parts[1], account: parts[4], kind: "assumed-role", name: segments[1], arn: arn)
        case ("sts", "federated-user"): return Caller(partition: parts[1], account: parts[4], kind: "federated-user", name: segments[1], arn: arn)
        default: return nil
        }
    }

    static func isAccount(_ text: String) -> Bool { text.count == 12 && text.allSatisfy { $0.isASCII && $0.isNumber } }

    /// Why a pattern is refused, or nil when it is valid: an IAM user or role ARN, an assumed-role
    /// ARN, or `arn:PARTITION:iam::ACCOUNT:*`; `*` and `?` may stand for parts. A role ARN may
    /// not carry a path: STS reports assumed roles without it, so a path could not be checked
    /// and would silently stop mattering (role names are unique within an account).
    static func problem(with pattern: String) -> String? {
        let parts = pattern.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-us-gov", "aws-cn", "*"].contains(parts[1]), parts[3].isEmpty,
              isAccount(parts[4]) || parts[4] == "*" else { return "is not an IAM user, role or assumed-role ARN (or arn:aws:iam::ACCOUNT:*)" }
        let resource = parts[5]
        guard !resource.isEmpty, resource.count <= 512, resource.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "," }) else {
            return "is not an IAM user, role or assumed-role ARN (or arn:aws:iam::ACCOUNT:*)"
        }
        switch parts[2] {
        case "iam":
            if resource.hasPrefix("role/"), resource.dropFirst(5).contains("/") {
                return "names a role with a path; STS reports assumed roles without their path, so name the role as arn:aws:iam::ACCOUNT:role/NAME"
            }
            return resource == "*" || resource.hasPrefix("user/") || resource.hasPrefix("role/") ? nil
                : "is not an IAM user, role or assumed-role ARN (or arn:aws:iam::ACCOUNT:*)"
        case "sts":
            return resource.hasPrefix("assumed-role/") ? nil : "is not an IAM user, role or assumed-role ARN (or arn:aws:iam::ACCOUNT:*)"
        default:
            return "is not an IAM user, role or assumed-role ARN (or arn:aws:iam::ACCOUNT:*)"
        }
    }

    static func isValidPattern(_ pattern: String) -> Bool { problem(with: pattern) == nil }

    /// IAM's `ArnLike`: the six colon-separated parts are matched one by one, so a wildcard
    /// never reaches across a `:` into another part (a user path may contain `:`); within the
    /// resource part `*` matches any run of characters and `?` any one.
    static func arnLike(_ pattern: String, _ arn: String) -> Bool {
        let p = pattern.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let a = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard p.count == 6, a.count == 6 else { return false }
        return zip(p, a).allSatisfy { Glob.matches(String($0), String($1)) }
    }

    /// Whether `caller` is allowed by any pattern: its own ARN, or for an assumed role the role
    /// by name (`arn:PARTITION:iam::ACCOUNT:role/NAME`), matched with ``arnLike(_:_:)``.
    static func allows(_ patterns: [String], _ caller: Caller) -> Bool {
        patterns.contains { pattern in caller.forms.contains { arnLike(pattern, $0) } }
    }
}
