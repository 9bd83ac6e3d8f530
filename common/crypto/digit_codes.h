#pragma once
// Short numeric codes a person reads and types back (a verification code, an SMS reply code),
// drawn from OpenSSL's CSPRNG behind a port so tests choose the codes they expect (STYLE.md:
// randomness is injected).

#include <string>

#include "absl/status/statusor.h"

namespace klaxon::crypto {

// Port: where codes come from.
class CodeSource {
 public:
  virtual ~CodeSource() = default;
  // `length` decimal digits, each equally likely. kInternal when the CSPRNG fails.
  virtual absl::StatusOr<std::string> Mint(int length) = 0;
};

// OpenSSL's CSPRNG, one random byte per digit, bytes of 250 and over drawn again so that no
// digit is likelier than another.
class CsprngCodeSource final : public CodeSource {
 public:
  absl::StatusOr<std::string> Mint(int length) override;
};

}  // namespace klaxon::crypto
