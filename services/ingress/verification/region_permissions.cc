#include "services/ingress/verification/region_permissions.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/config/config.h"
#include "common/phone/phone.h"
#include "services/ingress/verification/per_caller.h"

namespace klaxon::ingress::verification {
namespace {

constexpr std::string_view kVariable = "KLAXON_VERIFY_REGIONS";
constexpr std::string_view kForm = "<caller>=<REGION>[+<REGION>...], e.g. *=US+CA";

bool IsRegionCode(absl::string_view region) {
  return region.size() == 2 && absl::ascii_isupper(static_cast<unsigned char>(region[0])) &&
         absl::ascii_isupper(static_cast<unsigned char>(region[1]));
}

}  // namespace

absl::StatusOr<RegionPermissions> RegionPermissions::Parse(std::string_view text) {
  absl::StatusOr<std::vector<config::NamedValue>> entries =
      config::SplitNamedValues(text, {.variable = kVariable, .form = kForm});
  if (!entries.ok()) return entries.status();
  std::map<std::string, std::set<std::string>, std::less<>> allowed;
  for (const config::NamedValue& entry : *entries) {
    if (entry.value.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(kVariable), ": entry \"",
                                                     entry.entry, "\" names no region; write ",
                                                     std::string(kForm)));
    }
    std::set<std::string> regions;
    for (absl::string_view region : absl::StrSplit(entry.value, '+')) {
      if (!IsRegionCode(region)) {
        return absl::InvalidArgumentError(
            absl::StrCat(std::string(kVariable), ": entry \"", entry.entry, "\" names \"", region,
                         "\", not an ISO 3166 region in capitals; write ", std::string(kForm)));
      }
      regions.insert(std::string(region));
    }
    allowed.emplace(entry.name, std::move(regions));
  }
  return RegionPermissions(std::move(allowed));
}

absl::Status RegionPermissions::Check(std::string_view caller, std::string_view e164) const {
  const std::set<std::string>* regions = ForCaller(allowed_, caller);
  if (regions == nullptr) return absl::OkStatus();
  const std::optional<std::string> region = phone::RegionCode(e164);
  if (region.has_value() && regions->contains(*region)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("caller ", std::string(caller), " may not verify numbers in ",
                   region.value_or("an unknown region"), "; ", std::string(kVariable),
                   " allows it ", absl::StrJoin(*regions, ", ")));
}

}  // namespace klaxon::ingress::verification
