#pragma once
// API-key authentication of gRPC callers. Keys are never stored: KLAXON_API_KEYS holds
// "caller=sha256hex[,caller=sha256hex]", the lowercase hex SHA-256 of each caller's key
// (make one with HashApiKey(), e.g. `klaxonctl hash-key`). A caller presents
// "authorization: Bearer <key>"; the key is hashed and compared in constant time with every
// configured hash, and the matching caller name scopes idempotency keys, quotas and queries.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/string_ref.h"

namespace klaxon::auth {

// Lowercase hex SHA-256 of `api_key`: the value to put after "caller=" in KLAXON_API_KEYS.
std::string HashApiKey(std::string_view api_key);

class ApiKeyRegistry {
 public:
  // Caller names are 1 to 64 of [A-Za-z0-9._-]; hashes are 64 hex digits (either case). Entries
  // are trimmed; an empty spec, an empty entry, a duplicate caller or a duplicate hash is an error.
  // kInvalidArgument messages name the entry by position and caller, never echo a hash.
  static absl::StatusOr<ApiKeyRegistry> Parse(std::string_view spec);

  // The caller whose key this is. kUnauthenticated with the same fixed message for a missing,
  // malformed or unknown key. Cost does not depend on which entry (if any) matches.
  absl::StatusOr<std::string> Authenticate(std::string_view api_key) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string caller;
    std::string hash;  // 32 raw bytes
  };
  explicit ApiKeyRegistry(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  std::vector<Entry> entries_;
};

// The key of an "authorization: Bearer <key>" entry (scheme case-insensitive). kUnauthenticated
// when absent, repeated or not a Bearer credential.
absl::StatusOr<std::string> BearerKey(
    const std::multimap<grpc::string_ref, grpc::string_ref>& client_metadata);
absl::StatusOr<std::string> BearerKey(const grpc::ServerContextBase& context);

// BearerKey() then registry.Authenticate(): the caller of this RPC, or kUnauthenticated.
absl::StatusOr<std::string> AuthenticateCall(const ApiKeyRegistry& registry,
                                             const grpc::ServerContextBase& context);

}  // namespace klaxon::auth
