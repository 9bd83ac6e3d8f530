#pragma once
// The webhook routes ingress serves to Twilio, and the callback URLs the workers give Twilio for
// them. A callback URL names its alert and attempt in its query string, so the event ingress
// publishes can be keyed by alert_id; Twilio signs the whole URL, so they cannot be forged.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace klaxon::twilio {

inline constexpr std::string_view kMessageStatusPath = "/twilio/messages/status";
inline constexpr std::string_view kCallStatusPath = "/twilio/calls/status";
inline constexpr std::string_view kInboundMessagePath = "/twilio/messages/inbound";
inline constexpr std::string_view kGatherPath = "/twilio/calls/gather";

// The auth token of Klaxon's local Twilio sandbox (tools/twilio-sandbox): well known, so only
// ever accepted when a service runs in sandbox mode.
inline constexpr std::string_view kSandboxAuthToken = "sandbox-token";

inline constexpr std::string_view kAlertIdParameter = "alert_id";
inline constexpr std::string_view kAttemptParameter = "attempt";

// Where Twilio reaches ingress's webhook routes: scheme://host[:port][/prefix], the public URL
// of ingress's root (behind a proxy, the proxy's).
struct PublicBaseUrl {
  std::string scheme{};
  std::string authority{};  // host[:port], as configured
  std::string prefix{};     // "" or "/prefix" without a trailing '/'
};

// OK for the host[:port] of a URL Twilio accepts as a callback: a hostname of letters, digits,
// '-' and '.' (Twilio: "underscores are not allowed"; 21609 on every create otherwise) or an
// IPv6 literal in brackets, and a port of digits. Otherwise kInvalidArgument saying what is wrong.
absl::Status CheckCallbackAuthority(std::string_view authority);

// kInvalidArgument saying what is wrong for anything but http(s)://authority[/path] without a
// query or fragment (the route path and its query are appended to it), or an authority
// CheckCallbackAuthority refuses.
absl::StatusOr<PublicBaseUrl> ParsePublicBaseUrl(std::string_view url);

// `public_base_url` (scheme://host[:port][/prefix], a trailing '/' ignored) + `path` +
// "?alert_id=<alert_id>&attempt=<attempt>".
std::string CallbackUrl(std::string_view public_base_url, std::string_view path,
                        std::string_view alert_id, uint32_t attempt);

}  // namespace klaxon::twilio
