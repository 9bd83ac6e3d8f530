#include "services/audit/query/page_token.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/hmac.h"

namespace klaxon::audit {
namespace {

// Not a secret: the fingerprint only has to change when the filters do. HMAC is the stable hash
// at hand (absl::Hash is seeded per process, and replicas must accept each other's tokens). The
// key predates ListInboundMessages and stays, so tokens ListAlerts issued before still work.
constexpr absl::string_view kFingerprintKey = "klaxon.ListAlerts.page_token.v1";
constexpr size_t kFingerprintBytes = 8;

std::string Fingerprint(absl::string_view filters) {
  return absl::BytesToHexString(
      crypto::HmacSha256(kFingerprintKey, filters).substr(0, kFingerprintBytes));
}

}  // namespace

absl::StatusOr<int32_t> PageSize(int32_t requested) {
  if (requested < 0 || requested > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat("page_size: must be 1 to ", kMaxPageSize,
                                                   " (0 means ", kDefaultPageSize, "), got ",
                                                   requested));
  }
  return requested == 0 ? kDefaultPageSize : requested;
}

std::string FilterTime(const std::optional<absl::Time>& time) {
  return time.has_value() ? absl::StrCat(absl::ToUnixMicros(*time)) : "-";
}

std::string EncodePageToken(const PagePosition& last, absl::string_view filters) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(absl::ToUnixMicros(last.at), ":", last.key, ":", Fingerprint(filters)));
}

absl::StatusOr<PagePosition> DecodePageToken(absl::string_view token, absl::string_view filters,
                                             absl::string_view rpc) {
  const auto bad = [rpc](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: is not a token ", rpc, " returned (", why, ")"));
  };
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(token, &decoded)) return bad("not base64url");
  // The key sits between the first ':' and the last, so it may hold ':' itself.
  const size_t first = decoded.find(':');
  const size_t last = decoded.rfind(':');
  int64_t micros = 0;
  if (first == std::string::npos || last == first ||
      !absl::SimpleAtoi(absl::string_view(decoded).substr(0, first), &micros)) {
    return bad("malformed");
  }
  if (decoded.substr(last + 1) != Fingerprint(filters)) {
    return absl::InvalidArgumentError(
        "page_token: was issued for other filters; repeat the first request's filters, or start "
        "again without a token");
  }
  return PagePosition{.at = absl::FromUnixMicros(micros),
                      .key = decoded.substr(first + 1, last - first - 1)};
}

}  // namespace klaxon::audit
