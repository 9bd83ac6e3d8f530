#pragma once
// Which URLs a caller callback may be POSTed to: an operator's (KLAXON_CALLER_CALLBACKS, read by
// audit) or a caller's own for one alert (SendAlert's callback_url, checked by ingress). Parsed
// with libcurl's URL parser, the one that later sends to it.

#include <sys/socket.h>

#include <string_view>

#include "absl/status/status.h"

namespace klaxon::caller_callbacks {

// Whether plain http:// is accepted.
enum class PlainHttp {
  kAllowed,       // the operator's configuration: any host
  kLoopbackOnly,  // a caller's URL: https://, or http:// to localhost, 127.0.0.0/8 or [::1] only
};

inline constexpr size_t kMaxUrlLength = 2048;

// OK for an absolute http(s) URL with a host, at most kMaxUrlLength bytes, within `plain_http`,
// whose host is not an address IsRefusedAddress refuses; else kInvalidArgument saying what is
// wrong with it (not naming the URL, which the caller has).
absl::Status CheckCallbackUrl(std::string_view url, PlainHttp plain_http);

// An address no callback may reach, whoever names it: link-local (169.254.0.0/16, where clouds
// serve instance metadata and credentials, and fe80::/10), the metadata services elsewhere
// (fd00:ec2::254, 100.100.100.200), or unspecified (0.0.0.0/8, ::), also within IPv6 (mapped,
// compatible, or NAT64's 64:ff9b::/96).
// Callers' receivers on private networks (10/8 and the like) are allowed: Klaxon's callers are a
// company's own backends. Audit's poster checks every address it connects to, so a name that
// resolves to one is refused too.
bool IsRefusedAddress(const sockaddr& address);

}  // namespace klaxon::caller_callbacks
