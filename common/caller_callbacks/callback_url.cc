#include "common/caller_callbacks/callback_url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace klaxon::caller_callbacks {
namespace {

// A part of a parsed URL, empty when it has none.
std::string PartOf(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) return "";
  std::string copy(value);
  curl_free(value);
  return copy;
}

// localhost, or an IP literal of the loopback range (never a name that merely starts "127.").
bool IsLoopback(const std::string& host) {
  if (absl::EqualsIgnoreCase(host, "localhost") || host == "[::1]") return true;
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

// 0.0.0.0/8, 169.254.0.0/16 and Alibaba Cloud's metadata service, 100.100.100.200.
bool IsRefusedIpv4(uint32_t host_order) {
  return (host_order >> 24) == 0 || (host_order >> 16) == 0xA9FE || host_order == 0x646464C8;
}

// AWS's instance metadata service over IPv6, fd00:ec2::254.
bool IsAwsMetadataV6(const in6_addr& address) {
  static const in6_addr kAws = [] {
    in6_addr parsed{};
    inet_pton(AF_INET6, "fd00:ec2::254", &parsed);
    return parsed;
  }();
  return std::memcmp(&address, &kAws, sizeof(kAws)) == 0;
}

// The address of an IP literal host ("10.0.0.1", "[fe80::1]"), as a socket address; nullopt
// for a name.
std::optional<sockaddr_storage> LiteralAddress(const std::string& host) {
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    return storage;
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    const std::string inside = host.substr(1, host.size() - 2);
    // A zone (fe80::1%eth0) is itself link-local.
    const std::string address = inside.substr(0, inside.find('%'));
    if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      return storage;
    }
  }
  return std::nullopt;
}

}  // namespace

bool IsRefusedAddress(const sockaddr& address) {
  if (address.sa_family == AF_INET) {
    return IsRefusedIpv4(ntohl(reinterpret_cast<const sockaddr_in&>(address).sin_addr.s_addr));
  }
  if (address.sa_family != AF_INET6) return false;
  const in6_addr& v6 = reinterpret_cast<const sockaddr_in6&>(address).sin6_addr;
  if (IN6_IS_ADDR_UNSPECIFIED(&v6) || IN6_IS_ADDR_LINKLOCAL(&v6) || IsAwsMetadataV6(v6)) {
    return true;
  }
  // An IPv4 address carried in IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d, deprecated
  // but still routed by some stacks) or NAT64's well-known prefix (64:ff9b::a.b.c.d).
  static constexpr uint8_t kNat64[12] = {0x00, 0x64, 0xff, 0x9b};
  if (IN6_IS_ADDR_V4MAPPED(&v6) || IN6_IS_ADDR_V4COMPAT(&v6) ||
      std::memcmp(v6.s6_addr, kNat64, sizeof(kNat64)) == 0) {
    uint32_t embedded = 0;
    std::memcpy(&embedded, &v6.s6_addr[12], sizeof(embedded));
    return IsRefusedIpv4(ntohl(embedded));
  }
  return false;
}

absl::Status CheckCallbackUrl(std::string_view url, PlainHttp plain_http) {
  if (url.size() > kMaxUrlLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("the URL is ", url.size(), " bytes; at most ", kMaxUrlLength));
  }
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
  if (!parsed) return absl::ResourceExhaustedError("cannot allocate a URL parser");
  const std::string text(url);
  if (const CURLUcode code = curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0);
      code != CURLUE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("the URL does not parse as an absolute URL (", curl_url_strerror(code), ")"));
  }
  const std::string scheme = absl::AsciiStrToLower(PartOf(parsed.get(), CURLUPART_SCHEME));
  const std::string host = PartOf(parsed.get(), CURLUPART_HOST);
  if (scheme != "https" && scheme != "http") {
    return absl::InvalidArgumentError("the URL must start with https://");
  }
  if (host.empty()) return absl::InvalidArgumentError("the URL names no host");
  if (const std::optional<sockaddr_storage> literal = LiteralAddress(host);
      literal.has_value() && IsRefusedAddress(reinterpret_cast<const sockaddr&>(*literal))) {
    return absl::InvalidArgumentError(
        "the URL's host is a link-local, metadata-service or unspecified address, which no "
        "callback may reach (169.254.169.254 serves cloud instance metadata)");
  }
  if (scheme == "http" && plain_http == PlainHttp::kLoopbackOnly && !IsLoopback(host)) {
    return absl::InvalidArgumentError(
        "the URL must start with https:// (plain http:// only to localhost, for local runs)");
  }
  return absl::OkStatus();
}

}  // namespace klaxon::caller_callbacks
