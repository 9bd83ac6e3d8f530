#include "common/twilio/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace klaxon::twilio {

std::string CanonicalSignedData(std::string_view url, const FormParams& params) {
  // Sorting whole (key, value) pairs and dropping equal pairs gives exactly Twilio's rule:
  // keys by byte value, a repeated key's distinct values sorted, duplicates once.
  std::vector<std::pair<std::string_view, std::string_view>> sorted;
  sorted.reserve(params.size());
  for (const auto& [key, value] : params) sorted.emplace_back(key, value);
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());

  std::string data(url);
  for (const auto& [key, value] : sorted) {
    data.append(key);
    data.append(value);
  }
  return data;
}

std::string ComputeSignature(std::string_view auth_token, std::string_view url,
                             const FormParams& params) {
  const std::string data = CanonicalSignedData(url, params);

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &digest_length);

  std::string encoded(4 * ((digest_length + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), digest,
                                      static_cast<int>(digest_length));
  encoded.resize(static_cast<std::size_t>(written));
  return encoded;
}

bool SignatureMatches(std::string_view expected, std::string_view received) {
  // Length is not secret (every signature is 28 characters); the content is compared fully.
  if (expected.size() != received.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    difference = static_cast<unsigned char>(difference | (static_cast<unsigned char>(expected[i]) ^
                                                          static_cast<unsigned char>(received[i])));
  }
  return difference == 0;
}

}  // namespace klaxon::twilio
