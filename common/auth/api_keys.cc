#include "common/auth/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace klaxon::auth {
namespace {

constexpr size_t kMaxCallerLength = 64;
constexpr char kUnauthenticated[] = "missing or invalid API key";

std::string Sha256(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return std::string(digest.begin(), digest.end());
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 64 hex digits -> 32 raw bytes, or empty on malformed input.
std::string DecodeHash(absl::string_view hex) {
  if (hex.size() != 2 * SHA256_DIGEST_LENGTH) return "";
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = HexValue(hex[i]);
    const int low = HexValue(hex[i + 1]);
    if (high < 0 || low < 0) return "";
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

}  // namespace

bool IsCallerName(std::string_view name) {
  if (name.empty() || name.size() > kMaxCallerLength) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string HashApiKey(std::string_view api_key) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const char c : Sha256(api_key)) {
    const auto byte = static_cast<unsigned char>(c);
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0xf]);
  }
  return hex;
}

absl::StatusOr<ApiKeyRegistry> ApiKeyRegistry::Parse(std::string_view spec, CallerSet operators) {
  std::vector<Entry> entries;
  std::set<std::string> hashes;
  size_t position = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(spec.data(), spec.size()), '\n')) {
    const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    for (absl::string_view raw : absl::StrSplit(trimmed, ',')) {
      ++position;
      const absl::string_view entry = absl::StripAsciiWhitespace(raw);
      const auto error = [&](absl::string_view problem) {
        return absl::InvalidArgumentError(
            absl::StrCat("KLAXON_API_KEYS entry ", position, problem));
      };
      if (entry.empty()) return error(" is empty");
      const size_t equals = entry.find('=');
      // Without "caller=", the entry may be a bare hash (or worse, a key): never echo it.
      if (equals == absl::string_view::npos) return error(" is not caller=sha256hex");
      const absl::string_view caller = absl::StripAsciiWhitespace(entry.substr(0, equals));
      if (!IsCallerName(std::string_view(caller.data(), caller.size()))) {
        return error(" has an invalid caller name (1 to 64 of A-Z a-z 0-9 . _ -)");
      }
      const std::string hash = DecodeHash(absl::StripAsciiWhitespace(entry.substr(equals + 1)));
      const std::string named = absl::StrCat(" (caller \"", caller, "\")");
      if (hash.empty()) return error(absl::StrCat(named, ": hash is not 64 hex digits"));
      if (!hashes.insert(hash).second) {
        return error(absl::StrCat(named, ": same key hash as an earlier entry"));
      }
      entries.push_back(Entry{.caller = std::string(caller), .hash = hash});
    }
  }
  if (entries.empty()) return absl::InvalidArgumentError("KLAXON_API_KEYS: no API keys configured");
  return ApiKeyRegistry(std::move(entries), std::move(operators));
}

absl::StatusOr<std::string> ApiKeyRegistry::Authenticate(std::string_view api_key) const {
  if (api_key.empty()) return absl::UnauthenticatedError(kUnauthenticated);
  const std::string presented = Sha256(api_key);
  // Compare with every entry, without an early exit, so timing does not reveal which one matched.
  const Entry* match = nullptr;
  for (const Entry& entry : entries_) {
    const bool equal = CRYPTO_memcmp(presented.data(), entry.hash.data(), presented.size()) == 0;
    if (equal) match = &entry;
  }
  if (match == nullptr) return absl::UnauthenticatedError(kUnauthenticated);
  return match->caller;
}

bool ApiKeyRegistry::IsOperator(std::string_view caller) const {
  return operators_.find(caller) != operators_.end();
}

absl::StatusOr<std::string> BearerKeyOf(std::string_view authorization) {
  const absl::string_view value(authorization.data(), authorization.size());
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError(kUnauthenticated);
  }
  const absl::string_view key = absl::StripAsciiWhitespace(value.substr(kScheme.size()));
  if (key.empty()) return absl::UnauthenticatedError(kUnauthenticated);
  return std::string(key);
}

absl::StatusOr<std::string> BearerKey(
    const std::multimap<grpc::string_ref, grpc::string_ref>& client_metadata) {
  const auto [begin, end] = client_metadata.equal_range("authorization");
  if (begin == end || std::next(begin) != end) return absl::UnauthenticatedError(kUnauthenticated);
  return BearerKeyOf(std::string_view(begin->second.data(), begin->second.size()));
}

absl::StatusOr<std::string> BearerKey(const grpc::ServerContextBase& context) {
  return BearerKey(context.client_metadata());
}

absl::StatusOr<std::string> AuthenticateCall(const CallerAuthenticator& authenticator,
                                             const grpc::ServerContextBase& context) {
  absl::StatusOr<std::string> key = BearerKey(context);
  if (!key.ok()) return key.status();
  return authenticator.Authenticate(*key);
}

}  // namespace klaxon::auth
