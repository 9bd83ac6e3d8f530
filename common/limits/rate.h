#pragma once
// A rate limit as operators write it: "5/15m" is 5 per 15 minutes. Shared by sender pacing and
// recipient windows (delivery) and caller quotas (ingress), so every limit reads, labels and
// explains itself the same way. The Redis adapters enforce them; this unit only parses and names.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::limits {

struct Rate {
  int64_t count = 0;      // > 0
  absl::Duration window;  // > 0, whole seconds
  friend bool operator==(const Rate&, const Rate&) = default;

  // Time between two events at this rate, e.g. 200ms for 5/1s.
  absl::Duration Interval() const { return window / count; }
  // A metric label with no spaces: "15m", "1h", "1s", "90s".
  std::string WindowLabel() const;
  // Readable: "5 per 15 minutes", "11 per hour"; with `what`: "100 alerts per minute".
  std::string Describe(std::string_view what = {}) const;
};

// "<count>/<window>", the window in absl duration syntax ("1s", "15m", "1h", "24h"). A window
// with no number ("/h") is not accepted; kInvalidArgument says what is wrong.
absl::StatusOr<Rate> ParseRate(std::string_view text);

// Comma-separated rates ("5/15m,11/1h"); empty text is an empty list. Sorted by window, and two
// rates over the same window are refused (one of them would never matter).
absl::StatusOr<std::vector<Rate>> ParseRateList(std::string_view text);

// Per-name rates: "billing=100/1m,pager=20/1s"; the name "*" is the default for names not
// listed. Empty text is an empty map (no limits). kInvalidArgument naming `variable` (the
// setting the text comes from) and the entry at fault (config::SplitNamedValues).
absl::StatusOr<std::map<std::string, Rate>> ParseNamedRates(std::string_view text,
                                                            std::string_view variable);

}  // namespace klaxon::limits
