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

    /// Validates an allowed-principal pattern: an IAM user or role ARN (paths allowed), an
    /// assumed-role ARN, or `arn:PARTITION:iam::ACCOUNT:*`; `*` may stand for any part.
    static func isValidPattern(_ pattern: String) -> Bool {
        let parts = pattern.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-us-gov", "aws-cn", "*"].contains(parts[1]), parts[3].isEmpty,
              isAccount(parts[4]) || parts[4] == "*" else { return false }
        let resource = parts[5]
        guard !resource.isEmpty, resource.count <= 512, resource.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "," }) else { return false }
        switch parts[2] {
        case "iam": return resource == "*" || resource.hasPrefix("user/") || resource.hasPrefix("role/")
        case "sts": return resource.hasPrefix("assumed-role/")
        default: return false
        }
    }

    /// Glob match where `*` matches any run of characters (including none).
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != UInt8(ascii: "*"), p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Whether `caller` is allowed by any pattern. A role pattern with a path
    /// (`role/path/NAME`) matches an assumed role of that name, since STS drops role paths.
    static func allows(_ patterns: [String], _ caller: Caller) -> Bool {
        for pattern in patterns {
            for form in caller.forms where glob(pattern, form) { return true }
            if caller.kind == "assumed-role", let roleName = rolePathName(pattern),
               glob(pattern.replacingOccurrences(of: roleName.path, with: ""), "arn:\(caller.partition):iam::\(caller.account):role/\(caller.name)") {
                return true
            }
        }
        return false
    }

    /// For `arn:...:role/a/b/NAME`, the path part `a/b/` (to drop) ; nil without a path.
    static func rolePathName(_ pattern: String) -> (path: String, name: String)? {
        guard let range = pattern.range(of: ":role/") else { return nil }
        let rest = pattern[range.upperBound...]
        let segments = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count > 1 else { return nil }
        return (segments.dropLast().joined(separator: "/") + "/", String(segments.last!))
    }
}
