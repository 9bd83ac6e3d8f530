#pragma once
// Settings given per caller with a default: KLAXON_VERIFY_CALLER_LIMITS, KLAXON_VERIFY_DAILY_SPEND
// and KLAXON_VERIFY_REGIONS each map a caller's name to its value, and "*" to the value of every
// caller not listed. One lookup, so every such setting falls back the same way.

#include <map>
#include <string>
#include <string_view>

namespace klaxon::ingress::verification {

// The name that stands for every caller without an entry of its own.
inline constexpr std::string_view kEveryCaller = "*";

// `caller`'s own value, else the kEveryCaller entry's; nullptr when there is neither.
template <typename Value, typename Less>
const Value* ForCaller(const std::map<std::string, Value, Less>& per_caller,
                       std::string_view caller) {
  auto found = per_caller.find(std::string(caller));
  if (found == per_caller.end()) found = per_caller.find(std::string(kEveryCaller));
  return found == per_caller.end() ? nullptr : &found->second;
}

}  // namespace klaxon::ingress::verification
