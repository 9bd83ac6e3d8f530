#pragma once
// The opaque keyset page tokens of audit's list RPCs (ListAlerts, ListInboundMessages):
// base64url("<µs>:<key>:<fingerprint>"), the position of a page's last row in its newest-first
// order (its time and its key, which may contain ':') and a fingerprint of the caller and the
// filters the token was issued for. A token used with other filters, by another caller or with
// another RPC is refused instead of silently skipping rows.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace klaxon::audit {

inline constexpr int32_t kDefaultPageSize = 50;
inline constexpr int32_t kMaxPageSize = 500;

// The rows a request's page_size asks for: 0 means kDefaultPageSize; kInvalidArgument naming
// page_size outside 0 to kMaxPageSize.
absl::StatusOr<int32_t> PageSize(int32_t requested);

// A page's last row: the next page starts strictly after it.
struct PagePosition {
  absl::Time at{};
  std::string key{};

  friend bool operator==(const PagePosition&, const PagePosition&) = default;
};

// An optional time filter as it is written into a request's canonical `filters` text.
std::string FilterTime(const std::optional<absl::Time>& time);

// `filters` is a canonical text of the caller and every filter of the request, in which each RPC
// names itself so tokens do not cross RPCs.
std::string EncodePageToken(const PagePosition& last, absl::string_view filters);

// kInvalidArgument naming page_token when the token is not base64url, is malformed, or was issued
// for other `filters`; `rpc` names the RPC that issues the tokens, for the message.
absl::StatusOr<PagePosition> DecodePageToken(absl::string_view token, absl::string_view filters,
                                             absl::string_view rpc);

}  // namespace klaxon::audit
