import { BlockList, isIP } from "node:net"

/**
 * Ranges an outbound request (tenant webhooks, ticket and billing endpoints, tenant tools)
 * must never reach: this host, private networks, link-local (cloud metadata at
 * 169.254.169.254 and fd00:ec2::254), carrier-grade NAT, multicast, reserved and
 * documentation ranges, and IPv6 forms that embed an IPv4 address (NAT64, 6to4). IPv4-mapped
 * IPv6 addresses are checked against the IPv4 ranges (BlockList does that by itself).
 */
const V4: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16],
  ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16],
  ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4]
]

const V6: ReadonlyArray<readonly [string, number]> = [
  ["::", 128], ["::1", 128], ["64:ff9b::", 96], ["64:ff9b:1::", 48], ["100::", 64],
  ["2001::", 32], ["2001:db8::", 32], ["2002::", 16], ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8]
]

const blocked = new BlockList()
for (const [network, prefix] of V4) blocked.addSubnet(network, prefix, "ipv4")
for (const [network, prefix] of V6) blocked.addSubnet(network, prefix, "ipv6")

/** Whether `address` (an IP literal) is a public unicast address; anything else is not. */
export const isPublicAddress = (address: string): boolean => {
  const family = isIP(address)
  if (family === 0) return false
  return !blocked.check(address, family === 4 ? "ipv4" : "ipv6")
}
