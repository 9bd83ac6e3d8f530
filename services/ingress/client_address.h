#pragma once
// Who sent a webhook: the connecting address, or, when that address is one of the operator's
// proxies (KLAXON_WEBHOOK_TRUSTED_PROXIES, CIDR ranges), the address the proxies saw, read from
// X-Forwarded-For. Entries are parsed as IP addresses and read from the right (what the nearest
// proxy appended) past every trusted proxy; the client controls everything to the left of that,
// so nothing there is believed. A garbage entry ends the walk at the hop that forwarded it. The
// answer is always one canonical address (IPv4-mapped IPv6 as IPv4), so a flood of distinct or
// malformed header values cannot make more distinct sources than there are real addresses.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace klaxon::ingress {

class IpAddress {
 public:
  // "203.0.113.7", "2001:db8::1", "[2001:db8::1]"; nullopt for anything else.
  static std::optional<IpAddress> Parse(std::string_view text);

  bool is_v4() const { return v4_; }
  // 127.0.0.0/8 or ::1.
  bool IsLoopback() const;
  // inet_ntop's form: dotted quad or RFC 5952 IPv6.
  std::string ToString() const;

 private:
  friend class IpRange;
  bool v4_ = false;
  std::array<uint8_t, 16> bytes_{};  // IPv4 in the first 4 bytes
};

class IpRange {
 public:
  // "10.0.0.0/8", "2001:db8::/32", or one address ("10.1.2.3" is /32). kInvalidArgument for a
  // bad address, a prefix over the family's width, or host bits set below the prefix.
  static absl::StatusOr<IpRange> Parse(std::string_view cidr);

  bool Contains(const IpAddress& address) const;

 private:
  IpAddress network_;
  int prefix_ = 0;
};

class TrustedProxies {
 public:
  // A comma-separated list of ranges; empty trusts no proxy.
  static absl::StatusOr<TrustedProxies> Parse(std::string_view list);

  bool empty() const { return ranges_.empty(); }
  bool Trusts(std::string_view address) const;

  // The client's address for a request from `peer` carrying `forwarded_for` (X-Forwarded-For).
  std::string ClientAddress(std::string_view peer,
                            std::optional<std::string_view> forwarded_for) const;

 private:
  bool Trusts(const IpAddress& address) const;

  std::vector<IpRange> ranges_;
};

}  // namespace klaxon::ingress
