#pragma once
// The webhook routes ingress serves to Twilio, and the callback URLs the workers give Twilio for
// them. A callback URL names its alert and attempt in its query string, so the event ingress
// publishes can be keyed by alert_id; Twilio signs the whole URL, so they cannot be forged.

#include <cstdint>
#include <string>
#include <string_view>

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

// `public_base_url` (scheme://host[:port][/prefix], a trailing '/' ignored) + `path` +
// "?alert_id=<alert_id>&attempt=<attempt>".
std::string CallbackUrl(std::string_view public_base_url, std::string_view path,
                        std::string_view alert_id, uint32_t attempt);

}  // namespace klaxon::twilio
