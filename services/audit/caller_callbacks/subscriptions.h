#pragma once
// Which callers are told of their alerts' status changes, where, and with which secret (caller
// callbacks, ADR 0028). Read once at start from KLAXON_CALLER_CALLBACKS (or its _FILE), a secret:
// one caller per line, fields separated by spaces or tabs,
//
//   <caller> <url> <secret>
//
// blank lines and lines starting with '#' ignored. The URL is http:// or https://; the secret,
// at least 16 bytes, keys the HMAC-SHA256 signature of every POST to that caller
// (common/caller_callbacks/signature.h).

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace klaxon::audit {

struct CallbackSubscription {
  std::string url;
  std::string secret;
};

class CallbackSubscriptions {
 public:
  CallbackSubscriptions() = default;

  // kInvalidArgument naming the line (and its caller) of the first problem; never the secret.
  static absl::StatusOr<CallbackSubscriptions> Parse(std::string_view document);

  // The caller's subscription, nullptr when it takes no callbacks.
  const CallbackSubscription* Find(std::string_view caller) const;
  // Every caller that takes callbacks, for the store's outbox.
  std::set<std::string, std::less<>> Callers() const;
  bool empty() const { return by_caller_.empty(); }

 private:
  std::map<std::string, CallbackSubscription, std::less<>> by_caller_;
};

}  // namespace klaxon::audit
