#include "services/ingress/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"

namespace klaxon::ingress {
namespace {

// X-Forwarded-For entries examined at most: a chain of proxies is short, a header is not.
constexpr int kMaxHops = 16;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  text = Trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string terminated(text);
  IpAddress address;
  if (::inet_pton(AF_INET, terminated.c_str(), address.bytes_.data()) == 1) {
    address.v4_ = true;
    return address;
  }
  if (::inet_pton(AF_INET6, terminated.c_str(), address.bytes_.data()) != 1) return std::nullopt;
  // ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket: the same source as a.b.c.d.
  constexpr std::array<uint8_t, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped.begin(), kMapped.end(), address.bytes_.begin())) {
    std::copy(address.bytes_.begin() + 12, address.bytes_.end(), address.bytes_.begin());
    std::fill(address.bytes_.begin() + 4, address.bytes_.end(), 0);
    address.v4_ = true;
  }
  return address;
}

bool IpAddress::IsLoopback() const {
  if (v4_) return bytes_[0] == 127;
  return std::all_of(bytes_.begin(), bytes_.end() - 1, [](uint8_t byte) { return byte == 0; }) &&
         bytes_.back() == 1;
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v4_ ? AF_INET : AF_INET6, bytes_.data(), text, sizeof(text));
  return text;
}

absl::StatusOr<IpRange> IpRange::Parse(std::string_view cidr) {
  cidr = Trim(cidr);
  const size_t slash = cidr.find('/');
  const std::optional<IpAddress> network = IpAddress::Parse(cidr.substr(0, slash));
  if (!network) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(cidr), "\" is not an IP address or CIDR range"));
  }
  const int width = network->is_v4() ? 32 : 128;
  int prefix = width;
  if (slash != std::string_view::npos) {
    const std::string_view digits = cidr.substr(slash + 1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        prefix < 0 || prefix > width) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", std::string(cidr), "\" has a prefix length outside 0..", width));
    }
  }
  IpRange range;
  range.network_ = *network;
  range.prefix_ = prefix;
  for (int bit = prefix; bit < width; ++bit) {
    if (network->bytes_[static_cast<size_t>(bit / 8)] & (0x80 >> (bit % 8))) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", std::string(cidr), "\" has address bits set past its prefix length"));
    }
  }
  return range;
}

bool IpRange::Contains(const IpAddress& address) const {
  if (address.v4_ != network_.v4_) return false;
  for (int bit = 0; bit < prefix_; ++bit) {
    const auto byte = static_cast<size_t>(bit / 8);
    const int mask = 0x80 >> (bit % 8);
    if ((address.bytes_[byte] & mask) != (network_.bytes_[byte] & mask)) return false;
  }
  return true;
}

absl::StatusOr<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies proxies;
  while (!Trim(list).empty()) {
    const size_t comma = list.find(',');
    absl::StatusOr<IpRange> range = IpRange::Parse(list.substr(0, comma));
    if (!range.ok()) return range.status();
    proxies.ranges_.push_back(*range);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return proxies;
}

bool TrustedProxies::Trusts(const IpAddress& address) const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const IpRange& range) { return range.Contains(address); });
}

bool TrustedProxies::Trusts(std::string_view address) const {
  const std::optional<IpAddress> parsed = IpAddress::Parse(address);
  return parsed && Trusts(*parsed);
}

std::string TrustedProxies::ClientAddress(std::string_view peer,
                                          std::optional<std::string_view> forwarded_for) const {
  const std::optional<IpAddress> peer_address = IpAddress::Parse(peer);
  if (!peer_address) return std::string(peer);  // the server's own peer string: never garbage
  IpAddress client = *peer_address;
  if (!forwarded_for || !Trusts(client)) return client.ToString();
  std::string_view rest = *forwarded_for;
  for (int hop = 0; hop < kMaxHops && Trusts(client) && !Trim(rest).empty(); ++hop) {
    const size_t comma = rest.rfind(',');
    const std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
    const std::optional<IpAddress> forwarded = IpAddress::Parse(entry);
    if (!forwarded) break;  // garbage: the trusted hop that passed it on is the best we know
    client = *forwarded;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
  }
  return client.ToString();
}

}  // namespace klaxon::ingress
