#include "common/limits/rate.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config/config.h"

namespace klaxon::limits {
namespace {

struct Unit {
  absl::Duration length;
  const char* label;
  const char* singular;
  const char* plural;
};

// Largest first, so a window is named in the largest unit that divides it.
constexpr Unit kUnits[] = {{absl::Hours(24), "d", "day", "days"},
                           {absl::Hours(1), "h", "hour", "hours"},
                           {absl::Minutes(1), "m", "minute", "minutes"},
                           {absl::Seconds(1), "s", "second", "seconds"}};

// The window as a whole number of the largest unit dividing it; windows are whole seconds.
std::pair<int64_t, const Unit*> InUnits(absl::Duration window) {
  for (const Unit& unit : kUnits) {
    absl::Duration rest;
    const int64_t n = absl::IDivDuration(window, unit.length, &rest);
    if (n > 0 && rest == absl::ZeroDuration()) return {n, &unit};
  }
  return {absl::ToInt64Seconds(window), &kUnits[3]};
}

}  // namespace

std::string Rate::WindowLabel() const {
  const auto [n, unit] = InUnits(window);
  return absl::StrCat(n, unit->label);
}

std::string Rate::Describe(std::string_view what) const {
  const auto [n, unit] = InUnits(window);
  const std::string counted =
      what.empty() ? absl::StrCat(count) : absl::StrCat(count, " ", std::string(what));
  return n == 1 ? absl::StrCat(counted, " per ", unit->singular)
                : absl::StrCat(counted, " per ", n, " ", unit->plural);
}

absl::StatusOr<Rate> ParseRate(std::string_view text) {
  const std::string trimmed(
      absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size())));
  const std::vector<std::string> parts = absl::StrSplit(trimmed, '/');
  Rate rate;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &rate.count) || rate.count <= 0) {
    return absl::InvalidArgumentError(
        "a rate must be <count>/<window> with a positive count, e.g. 5/15m");
  }
  if (!absl::ParseDuration(parts[1], &rate.window) || rate.window < absl::Seconds(1) ||
      rate.window % absl::Seconds(1) != absl::ZeroDuration() ||
      parts[1].find_first_of("0123456789") != 0) {
    return absl::InvalidArgumentError(
        "a rate's window must be a whole number of seconds in duration syntax, e.g. 1s, 15m, 1h");
  }
  return rate;
}

absl::StatusOr<std::vector<Rate>> ParseRateList(std::string_view text) {
  std::vector<Rate> rates;
  for (absl::string_view item :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',', absl::SkipWhitespace())) {
    absl::StatusOr<Rate> rate = ParseRate(std::string_view(item.data(), item.size()));
    if (!rate.ok()) return rate.status();
    rates.push_back(*rate);
  }
  std::sort(rates.begin(), rates.end(),
            [](const Rate& a, const Rate& b) { return a.window < b.window; });
  for (size_t i = 1; i < rates.size(); ++i) {
    if (rates[i].window == rates[i - 1].window) {
      return absl::InvalidArgumentError(
          absl::StrCat("two rates over the same window (", rates[i].WindowLabel(), ")"));
    }
  }
  return rates;
}

absl::StatusOr<std::map<std::string, Rate>> ParseNamedRates(std::string_view text,
                                                            std::string_view variable) {
  absl::StatusOr<std::vector<config::NamedValue>> entries = config::SplitNamedValues(
      text, {.variable = variable, .form = "<name>=<count>/<window>, e.g. pager=100/1m"});
  if (!entries.ok()) return entries.status();
  std::map<std::string, Rate> rates;
  for (const config::NamedValue& entry : *entries) {
    absl::StatusOr<Rate> rate = ParseRate(entry.value);
    if (!rate.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(variable), ": entry \"",
                                                     entry.entry, "\": ", rate.status().message()));
    }
    rates.emplace(entry.name, *rate);
  }
  return rates;
}

}  // namespace klaxon::limits
