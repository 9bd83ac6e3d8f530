#include "common/caller_callbacks/signature.h"

#include <openssl/crypto.h>

#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/abseil/string_view.h"
#include "common/crypto/hmac.h"

namespace klaxon::caller_callbacks {
namespace {

using abseil::AbslView;

constexpr absl::string_view kV1Prefix = "v1=";
// Lowercase hex of a 32-byte HMAC-SHA256.
constexpr size_t kV1HexLength = 64;
// Header values are untrusted: a message shows at most this much of one.
constexpr size_t kMaxShown = 40;

// C-escaped, quoted and cut short, so a hostile header can neither flood nor forge a log line.
std::string Quoted(absl::string_view text) {
  const bool cut = text.size() > kMaxShown;
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxShown)), cut ? "...\"" : "\"");
}

// "412 s", or abseil's notation when the duration is not whole seconds ("1.5s").
std::string SecondsText(absl::Duration duration) {
  if (duration == absl::Trunc(duration, absl::Seconds(1))) {
    return absl::StrCat(absl::ToInt64Seconds(duration), " s");
  }
  return absl::FormatDuration(duration);
}

// True when one of the v1 entries (the hex after "v1=") is `expected_hex`. Every entry is
// compared, in time independent of where it differs, so the time taken does not tell which entry
// (if any) matched or how much of it did.
bool AnyEntryMatches(absl::string_view expected_hex, const std::vector<absl::string_view>& v1) {
  bool matched = false;
  for (const absl::string_view hex : v1) {
    // The length is public (every v1 signature has it); only the content is compared in
    // constant time.
    if (hex.size() != expected_hex.size()) continue;
    matched |= CRYPTO_memcmp(hex.data(), expected_hex.data(), hex.size()) == 0;
  }
  return matched;
}

}  // namespace

std::string Sign(std::string_view secret, int64_t timestamp, std::string_view body) {
  const std::string mac =
      crypto::HmacSha256(AbslView(secret), absl::StrCat(timestamp, ".", AbslView(body)));
  return absl::StrCat(kV1Prefix, absl::BytesToHexString(mac));
}

absl::Status Verify(std::string_view secret, std::string_view timestamp_header,
                    std::string_view signature_header, std::string_view body, absl::Time now,
                    absl::Duration tolerance) {
  if (secret.empty()) {
    // Anyone can compute an HMAC under an empty key: accepting one would accept anything.
    return absl::InvalidArgumentError(
        "the callback secret is empty: configure the secret Klaxon issued for your callback URL");
  }

  const absl::string_view timestamp_text = absl::StripAsciiWhitespace(AbslView(timestamp_header));
  if (timestamp_text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kTimestampHeader, " is missing: it must be the unix seconds the request was signed at"));
  }
  int64_t timestamp = 0;
  // SimpleAtoi alone would take "+12" and " 12"; the header is digits only.
  if (!absl::c_all_of(timestamp_text, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(timestamp_text, &timestamp)) {
    return absl::InvalidArgumentError(absl::StrCat(kTimestampHeader, " ", Quoted(timestamp_text),
                                                   " is not a whole number of seconds"));
  }

  if (absl::StripAsciiWhitespace(AbslView(signature_header)).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kSignatureHeader, " is missing: the request is not signed, or a proxy dropped the header"));
  }
  std::vector<absl::string_view> v1;
  for (absl::string_view entry : absl::StrSplit(AbslView(signature_header), ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    // Other schemes ("v2=...") are for receivers that know them.
    if (absl::ConsumePrefix(&entry, kV1Prefix)) v1.push_back(entry);
  }
  if (v1.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kSignatureHeader, " holds no v1= signature (got ", Quoted(AbslView(signature_header)),
        "): it must be \"v1=<64 lowercase hex digits>\", entries separated by commas"));
  }

  const std::string expected = Sign(secret, timestamp, body);
  if (!AnyEntryMatches(absl::string_view(expected).substr(kV1Prefix.size()), v1)) {
    return absl::UnauthenticatedError(
        absl::StrCat("no v1 signature matches the body and timestamp: the secret is wrong or the "
                     "body was changed (verify the raw body bytes, before any JSON parsing)",
                     v1.size() == 1 && v1.front().size() != kV1HexLength
                         ? absl::StrCat("; the v1 entry has ", v1.front().size(),
                                        " characters instead of ", kV1HexLength)
                         : ""));
  }

  // Judged only once the signature matched: the timestamp is then Klaxon's own.
  const absl::Duration age = now - absl::FromUnixSeconds(timestamp);
  if (age > tolerance) {
    return absl::UnauthenticatedError(
        absl::StrCat(kTimestampHeader, " is ", SecondsText(absl::Ceil(age, absl::Seconds(1))),
                     " old, beyond the ", SecondsText(tolerance),
                     " tolerance: a replay or a delayed delivery; refuse it"));
  }
  if (-age > tolerance) {
    return absl::UnauthenticatedError(absl::StrCat(
        kTimestampHeader, " is ", SecondsText(absl::Ceil(-age, absl::Seconds(1))),
        " in the future, beyond the ", SecondsText(tolerance),
        " tolerance: this receiver's clock (or Klaxon's) is wrong; check NTP, and refuse it"));
  }
  return absl::OkStatus();
}

}  // namespace klaxon::caller_callbacks
