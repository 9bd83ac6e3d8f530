#include "services/ingress/quiet_hours.h"

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/phone/time_zone.h"

namespace klaxon::ingress {
namespace {

// "HH:MM" or "HH:MM:SS" as a time into the day.
absl::StatusOr<absl::Duration> ParseTimeOfDay(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  const int limits[] = {24, 60, 60};
  if (parts.size() < 2 || parts.size() > 3) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not HH:MM or HH:MM:SS"));
  }
  absl::Duration into_day;
  const absl::Duration units[] = {absl::Hours(1), absl::Minutes(1), absl::Seconds(1)};
  for (size_t i = 0; i < parts.size(); ++i) {
    int value = 0;
    if (parts[i].size() != 2 || !absl::SimpleAtoi(parts[i], &value) || value < 0 ||
        value >= limits[i]) {
      return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not HH:MM or HH:MM:SS"));
    }
    into_day += value * units[i];
  }
  return into_day;
}

std::string FormatTimeOfDay(absl::Duration into_day) {
  const absl::CivilSecond midnight;
  const absl::CivilSecond at = midnight + absl::ToInt64Seconds(into_day);
  return at.second() == 0 ? absl::StrFormat("%02d:%02d", at.hour(), at.minute())
                          : absl::StrFormat("%02d:%02d:%02d", at.hour(), at.minute(), at.second());
}

absl::StatusOr<QuietWindow> ParseWindow(absl::string_view text) {
  absl::string_view span = text;
  std::string zone = "UTC";
  if (const size_t at = text.find('@'); at != absl::string_view::npos) {
    span = text.substr(0, at);
    zone = std::string(text.substr(at + 1));
  }
  absl::TimeZone loaded;
  if (!absl::LoadTimeZone(zone, &loaded)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", zone, "\" is not an IANA time zone this machine knows"));
  }
  const std::vector<absl::string_view> ends = absl::StrSplit(span, '-');
  if (ends.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", span, "\" is not a window like 22:00-07:00"));
  }
  absl::StatusOr<absl::Duration> starts = ParseTimeOfDay(ends[0]);
  if (!starts.ok()) return starts.status();
  absl::StatusOr<absl::Duration> stops = ParseTimeOfDay(ends[1]);
  if (!stops.ok()) return stops.status();
  if (*starts == *stops) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", span, "\" starts and ends at the same time"));
  }
  return QuietWindow{.starts = *starts, .ends = *stops, .default_zone = loaded};
}

// When `window` starts on `day`, and when one ending on `day` ends, in local time.
absl::CivilSecond StartOn(absl::CivilDay day, const QuietWindow& window) {
  return absl::CivilSecond(day) + absl::ToInt64Seconds(window.starts);
}
absl::CivilSecond EndOn(absl::CivilDay day, const QuietWindow& window) {
  return absl::CivilSecond(day) + absl::ToInt64Seconds(window.ends);
}

// The first moment a local time names: the change itself when the clocks skip it, the earlier of
// two when they repeat it.
absl::Time FirstMoment(const absl::TimeZone& zone, absl::CivilSecond local) {
  const absl::TimeZone::TimeInfo at = zone.At(local);
  return at.kind == absl::TimeZone::TimeInfo::SKIPPED ? at.trans : at.pre;
}

// The first moment after `from` a local time names (as FirstMoment, but the later of two repeated
// moments when the earlier is not after `from`).
absl::Time MomentAfter(const absl::TimeZone& zone, absl::CivilSecond local, absl::Time from) {
  const absl::TimeZone::TimeInfo at = zone.At(local);
  if (at.kind == absl::TimeZone::TimeInfo::SKIPPED) return at.trans;
  return at.pre > from ? at.pre : at.post;
}

}  // namespace

absl::StatusOr<QuietHours> QuietHours::Parse(std::string_view windows_text,
                                             std::string_view exempt_text) {
  const absl::string_view windows(windows_text.data(), windows_text.size());
  const absl::string_view exempt(exempt_text.data(), exempt_text.size());
  QuietHours parsed;
  const absl::string_view exempt_word = absl::StripAsciiWhitespace(exempt);
  absl::StatusOr<limits::PriorityExemption> exempt_from =
      limits::PriorityExemption::Parse(std::string_view(exempt_word.data(), exempt_word.size()));
  if (!exempt_from.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("KLAXON_QUIET_HOURS_EXEMPT: ", exempt_from.status().message()));
  }
  parsed.exempt_ = *exempt_from;
  for (absl::string_view entry : absl::StrSplit(windows, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    const std::vector<absl::string_view> sides = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    auto refuse = [entry](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("KLAXON_QUIET_HOURS: entry \"", entry, "\": ", why));
    };
    if (sides.size() != 2 || sides[0].empty()) {
      return refuse("is not caller=HH:MM-HH:MM[@Zone]");
    }
    absl::StatusOr<QuietWindow> window = ParseWindow(sides[1]);
    if (!window.ok()) return refuse(window.status().message());
    if (!parsed.windows_.emplace(std::string(sides[0]), *std::move(window)).second) {
      return refuse("names a caller already given quiet hours");
    }
  }
  return parsed;
}

std::optional<QuietHold> QuietHours::Hold(std::string_view caller, std::string_view recipient,
                                          const std::optional<absl::TimeZone>& zone,
                                          types::v1::Priority priority, absl::Time from) const {
  auto found = windows_.find(caller);
  if (found == windows_.end()) found = windows_.find("*");
  if (found == windows_.end()) return std::nullopt;
  if (exempt_.Exempts(priority)) return std::nullopt;

  const QuietWindow& window = found->second;
  absl::TimeZone local = window.default_zone;
  if (zone.has_value()) {
    local = *zone;
  } else if (const std::optional<std::string_view> mapped = phone::TimeZoneOf(recipient)) {
    // A zone this machine's tzdata lacks leaves the caller's default.
    absl::TimeZone mapped_zone;
    if (absl::LoadTimeZone(std::string(*mapped), &mapped_zone)) local = mapped_zone;
  }
  // The end (local time) of the window the alert is in, if any. By the clock first, as ADR 0026
  // reads a window: a time of day between its start and its end (across midnight when it ends
  // earlier than it starts).
  const absl::CivilSecond now = absl::ToCivilSecond(from, local);
  const absl::CivilDay today(now);
  const absl::Duration into_day = absl::Seconds(now - absl::CivilSecond(today));
  std::optional<absl::CivilDay> ends_on;
  if (window.starts < window.ends) {
    if (into_day >= window.starts && into_day < window.ends) ends_on = today;
  } else if (into_day >= window.starts) {
    ends_on = today + 1;  // in the window's first part, before midnight
  } else if (into_day < window.ends) {
    ends_on = today;  // in its second part, after midnight
  }
  // Then in absolute time, from the start's first moment to the end's first moment after it: a
  // window that began before an hour the clocks repeat also holds an alert on the second pass,
  // whose clock time is before the start.
  for (const absl::CivilDay day : {today - 1, today}) {
    if (ends_on.has_value()) break;
    const absl::CivilDay end_day = window.starts < window.ends ? day : day + 1;
    const absl::Time start = FirstMoment(local, StartOn(day, window));
    if (start <= from && from < MomentAfter(local, EndOn(end_day, window), start)) {
      ends_on = end_day;
    }
  }
  if (!ends_on.has_value()) return std::nullopt;
  // A clock change may skip the end (then it is the moment of the change) or repeat it (then the
  // first of its two moments after `from`).
  const absl::Time until = MomentAfter(local, EndOn(*ends_on, window), from);
  if (until <= from) return std::nullopt;
  return QuietHold{.until = until,
                   .why = absl::StrCat(FormatTimeOfDay(window.starts), "-",
                                       FormatTimeOfDay(window.ends), " in ", local.name())};
}

}  // namespace klaxon::ingress
