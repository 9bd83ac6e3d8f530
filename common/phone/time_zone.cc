#include "common/phone/time_zone.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"

namespace klaxon::phone {
namespace {

struct PrefixZone {
  std::string_view prefix;  // country calling code and more digits
  std::string_view zone;    // empty: the prefix spans several zones
};

// Sorted by prefix, as the generator writes it.
constexpr PrefixZone kPrefixZones[] = {
#include "common/phone/time_zone_prefixes.inc"
};

constexpr size_t kLongestPrefix = [] {
  size_t longest = 0;
  for (const PrefixZone& row : kPrefixZones) longest = std::max(longest, row.prefix.size());
  return longest;
}();

// Every zone and link name tzdata.zi lists: "Z <name> ..." and "L <target> <name>" lines.
std::set<std::string, std::less<>> ReadZoneNames() {
  std::set<std::string, std::less<>> names;
  std::ifstream tzdata("/usr/share/zoneinfo/tzdata.zi");
  for (std::string line; std::getline(tzdata, line);) {
    std::istringstream words(line);
    std::string kind, first, second;
    words >> kind >> first >> second;
    if (kind == "Z") names.insert(first);
    if (kind == "L") names.insert(second);
  }
  names.insert("UTC");
  return names;
}

}  // namespace

std::optional<absl::TimeZone> KnownTimeZone(std::string_view name) {
  static const std::set<std::string, std::less<>> kKnown = ReadZoneNames();
  absl::TimeZone zone;
  if (!kKnown.contains(name) || !absl::LoadTimeZone(std::string(name), &zone)) return std::nullopt;
  return zone;
}

std::optional<std::string_view> TimeZoneOf(std::string_view e164) {
  if (e164.size() < 2 || e164[0] != '+') return std::nullopt;
  const std::string_view digits = e164.substr(1);
  if (!std::all_of(digits.begin(), digits.end(),
                   [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
    return std::nullopt;
  }
  for (size_t length = std::min(kLongestPrefix, digits.size()); length > 0; --length) {
    const std::string_view prefix = digits.substr(0, length);
    const auto* found = std::lower_bound(
        std::begin(kPrefixZones), std::end(kPrefixZones), prefix,
        [](const PrefixZone& row, std::string_view wanted) { return row.prefix < wanted; });
    if (found == std::end(kPrefixZones) || found->prefix != prefix) continue;
    if (found->zone.empty()) return std::nullopt;
    return found->zone;
  }
  return std::nullopt;
}

}  // namespace klaxon::phone
