/// Wildcard matching with no regular expressions, so a pattern can never inject syntax: `*`
/// matches any run of characters (including none) and, when `questionMark` is on, `?` exactly
/// one; every other character is literal. Linear in practice (greedy with one backtrack point).
public enum Glob {
    public static func matches(_ pattern: String, _ text: String, questionMark: Bool = true) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        let star = UInt8(ascii: "*"), any = UInt8(ascii: "?")
        var pi = 0, ti = 0, lastStar = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != star, p[pi] == t[ti] || (questionMark && p[pi] == any) {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == star {
                lastStar = pi; mark = ti; pi += 1
            } else if lastStar >= 0 {
                pi = lastStar + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == star { pi += 1 }
        return pi == p.count
    }
}
