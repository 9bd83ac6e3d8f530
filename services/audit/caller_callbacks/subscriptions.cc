#include "services/audit/caller_callbacks/subscriptions.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/caller_callbacks/callback_url.h"

namespace klaxon::audit {
namespace {

constexpr size_t kMinSecretBytes = 16;

}  // namespace

absl::StatusOr<CallbackSubscriptions> CallbackSubscriptions::Parse(std::string_view document) {
  CallbackSubscriptions subscriptions;
  int number = 0;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(document.data(), document.size()), '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    const std::vector<std::string> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipWhitespace());
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": expected \"<caller> <url> <secret>\", found ",
                       fields.size(), " field(s)"));
    }
    const std::string& caller = fields[0];
    const std::string& url = fields[1];
    if (const absl::Status checked =
            caller_callbacks::CheckCallbackUrl(url, caller_callbacks::PlainHttp::kAllowed);
        !checked.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, " (caller \"", caller, "\"): ", checked.message()));
    }
    if (fields[2].size() < kMinSecretBytes) {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, " (caller \"", caller,
                                                     "\"): the secret must be at least ",
                                                     kMinSecretBytes, " bytes"));
    }
    if (!subscriptions.by_caller_.emplace(caller, CallbackSubscription{url, fields[2]}).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": caller \"", caller, "\" is listed twice"));
    }
  }
  return subscriptions;
}

const CallbackSubscription* CallbackSubscriptions::Find(std::string_view caller) const {
  auto found = by_caller_.find(caller);
  return found == by_caller_.end() ? nullptr : &found->second;
}

std::set<std::string, std::less<>> CallbackSubscriptions::Callers() const {
  std::set<std::string, std::less<>> callers;
  for (const auto& [caller, subscription] : by_caller_) callers.insert(caller);
  return callers;
}

}  // namespace klaxon::audit
