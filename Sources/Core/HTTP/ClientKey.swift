/// The key by which per-client limits and lockouts count a client: its IPv4 address, or its
/// IPv6 /64 (one host commonly holds a whole /64, so counting single IPv6 addresses would let it
/// spread its attempts over 2^64 keys).
public enum ClientKey {
    public static func of(_ address: String?) -> String {
        guard let address else { return "-" }
        guard address.contains(":"), let range = IPRange(address), range.address.count == 16 else { return address }
        let hextets = stride(from: 0, to: 8, by: 2).map { String(UInt16(range.address[$0]) << 8 | UInt16(range.address[$0 + 1]), radix: 16) }
        return hextets.joined(separator: ":") + "::/64"
    }
}
