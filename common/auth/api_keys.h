#pragma once
// API-key authentication of gRPC callers. Keys are never stored: KLAXON_API_KEYS holds
// "caller=sha256hex[,caller=sha256hex]", the lowercase hex SHA-256 of each caller's key. An
// operator makes it with `printf %s "$KEY" | sha256sum | cut -d' ' -f1` (README.md,
// scripts/run.sh); HashApiKey() is the same in code. A caller may have several keys, so a
// key is rotated with overlap: add the new key's entry, move the caller to it, remove the old one.
// A caller presents "authorization: Bearer <key>"; the key is hashed and compared in constant
// time with every configured hash, and the matching caller name scopes idempotency keys, quotas
// and queries. Callers named as operators (KLAXON_OPERATOR_CALLERS) may also act on every
// caller's dead letters (docs/adr/0012-callers-and-operators.md).

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/string_ref.h"

namespace klaxon::auth {

// Lowercase hex SHA-256 of `api_key`: the value to put after "caller=" in KLAXON_API_KEYS.
std::string HashApiKey(std::string_view api_key);

using CallerSet = std::set<std::string, std::less<>>;

// Whether a caller name is 1 to 64 of [A-Za-z0-9._-].
bool IsCallerName(std::string_view name);

// The port services authenticate through: a fixed ApiKeyRegistry, or ApiKeys that follow a file.
// Safe to call from several threads.
class CallerAuthenticator {
 public:
  virtual ~CallerAuthenticator() = default;
  // The caller whose key this is. kUnauthenticated with the same fixed message for a missing,
  // malformed or unknown key.
  virtual absl::StatusOr<std::string> Authenticate(std::string_view api_key) const = 0;
  // Whether `caller` holds the operator role: it may list and replay every caller's dead letters.
  virtual bool IsOperator(std::string_view caller) const = 0;
};

class ApiKeyRegistry final : public CallerAuthenticator {
 public:
  // Caller names are 1 to 64 of [A-Za-z0-9._-]; hashes are 64 hex digits (either case). Entries
  // are separated by commas or line breaks and trimmed; a line starting with '#' is a comment
  // (for KLAXON_API_KEYS_FILE). A caller may appear several times, once per key. A spec without
  // entries, an empty entry between commas or a duplicate hash is an error. kInvalidArgument
  // messages name the entry by position and caller, never echo a hash. `operators` are the callers
  // holding the operator role; they need not have a key (yet).
  static absl::StatusOr<ApiKeyRegistry> Parse(std::string_view spec, CallerSet operators = {});

  // Cost does not depend on which entry (if any) matches.
  absl::StatusOr<std::string> Authenticate(std::string_view api_key) const override;
  bool IsOperator(std::string_view caller) const override;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string caller;
    std::string hash;  // 32 raw bytes
  };
  ApiKeyRegistry(std::vector<Entry> entries, CallerSet operators)
      : entries_(std::move(entries)), operators_(std::move(operators)) {}

  std::vector<Entry> entries_;
  CallerSet operators_;
};

// The key in an Authorization value "Bearer <key>" (scheme case-insensitive), or
// kUnauthenticated.
absl::StatusOr<std::string> BearerKeyOf(std::string_view authorization);

// The key of an "authorization: Bearer <key>" entry (scheme case-insensitive). kUnauthenticated
// when absent, repeated or not a Bearer credential.
absl::StatusOr<std::string> BearerKey(
    const std::multimap<grpc::string_ref, grpc::string_ref>& client_metadata);
absl::StatusOr<std::string> BearerKey(const grpc::ServerContextBase& context);

// BearerKey() then authenticator.Authenticate(): the caller of this RPC, or kUnauthenticated.
absl::StatusOr<std::string> AuthenticateCall(const CallerAuthenticator& authenticator,
                                             const grpc::ServerContextBase& context);

}  // namespace klaxon::auth
