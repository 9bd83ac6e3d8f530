#pragma once
// Certificates made on the spot for tests of encrypted links: a CA and the server and client
// certificates it signs (P-256 keys, SHA-256 signatures, valid from an hour ago for a day), made
// with OpenSSL's C API so a test needs no openssl binary and no files in the repository.

#include <string>
#include <vector>

namespace klaxon::testing {

struct PemPair {
  std::string cert;  // PEM certificate
  std::string key;   // PEM (PKCS#8) private key
};

class TestCa {
 public:
  // A self-signed CA named `common_name`.
  explicit TestCa(const std::string& common_name);

  const std::string& cert() const { return self_.cert; }

  // A leaf certificate for `common_name` with these subject alternative names: an IP literal
  // ("127.0.0.1", "::1") becomes an IP SAN, anything else a DNS SAN. Usable by servers and clients.
  PemPair Issue(const std::string& common_name, const std::vector<std::string>& names = {}) const;

 private:
  PemPair self_;
};

// Writes `content` to `path` atomically (a sibling temporary file renamed over it), as
// cert-manager and a Kubernetes secret volume replace files.
void WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace klaxon::testing
