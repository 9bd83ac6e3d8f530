#include "common/config/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include "absl/strings/match.h"

namespace klaxon::config {

bool IsLoopbackHost(std::string_view host) {
  if (absl::EqualsIgnoreCase(absl::string_view(host.data(), host.size()), "localhost")) return true;
  const std::string text(host);
  unsigned char v4[sizeof(in_addr)];  // network order: the first byte is the first octet
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) return v4[0] == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, text.c_str(), &v6) == 1 &&
         std::memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
}

}  // namespace klaxon::config
