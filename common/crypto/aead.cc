#include "common/crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::crypto {
namespace {

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

const unsigned char* Bytes(absl::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}
unsigned char* MutableBytes(std::string& text) {
  return reinterpret_cast<unsigned char*>(text.data());
}

absl::Status CheckKey(absl::string_view key) {
  if (key.size() == kKeyBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("an AES-256 key is ", kKeyBytes, " bytes, not ", key.size()));
}

absl::Status OpenSslFailure(absl::string_view step) {
  return absl::InternalError(absl::StrCat("OpenSSL failed to ", step));
}

// Starts an AES-256-GCM context for `key` and `nonce` and feeds it the associated data.
absl::StatusOr<CipherContext> Start(bool encrypt, absl::string_view key, absl::string_view nonce,
                                    absl::string_view associated_data) {
  CipherContext context(EVP_CIPHER_CTX_new());
  if (context == nullptr) return OpenSslFailure("allocate a cipher context");
  const int init =
      encrypt
          ? EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce))
          : EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce));
  if (init != 1) return OpenSslFailure("start AES-256-GCM");
  int ignored = 0;
  const int aad = encrypt
                      ? EVP_EncryptUpdate(context.get(), nullptr, &ignored, Bytes(associated_data),
                                          static_cast<int>(associated_data.size()))
                      : EVP_DecryptUpdate(context.get(), nullptr, &ignored, Bytes(associated_data),
                                          static_cast<int>(associated_data.size()));
  if (aad != 1) return OpenSslFailure("take the associated data");
  return context;
}

}  // namespace

absl::StatusOr<std::string> RandomBytes(size_t size) {
  std::string bytes(size, '\0');
  if (RAND_bytes(MutableBytes(bytes), static_cast<int>(size)) != 1) {
    return OpenSslFailure("produce random bytes");
  }
  return bytes;
}

absl::StatusOr<std::string> Seal(absl::string_view key, absl::string_view plaintext,
                                 absl::string_view associated_data) {
  if (absl::Status valid = CheckKey(key); !valid.ok()) return valid;
  absl::StatusOr<std::string> nonce = RandomBytes(kNonceBytes);
  if (!nonce.ok()) return nonce.status();
  absl::StatusOr<CipherContext> context = Start(true, key, *nonce, associated_data);
  if (!context.ok()) return context.status();

  std::string sealed = *nonce;
  sealed.resize(kNonceBytes + plaintext.size() + kTagBytes);
  unsigned char* out = MutableBytes(sealed) + kNonceBytes;
  int written = 0;
  if (EVP_EncryptUpdate(context->get(), out, &written, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return OpenSslFailure("encrypt");
  }
  int final_written = 0;
  if (EVP_EncryptFinal_ex(context->get(), out + written, &final_written) != 1) {
    return OpenSslFailure("finish encrypting");
  }
  if (EVP_CIPHER_CTX_ctrl(context->get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          out + plaintext.size()) != 1) {
    return OpenSslFailure("produce the GCM tag");
  }
  return sealed;
}

absl::StatusOr<std::string> Open(absl::string_view key, absl::string_view sealed,
                                 absl::string_view associated_data) {
  if (absl::Status valid = CheckKey(key); !valid.ok()) return valid;
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return absl::DataLossError(absl::StrCat("a sealed value is at least ", kNonceBytes + kTagBytes,
                                            " bytes; this one has ", sealed.size(),
                                            " (truncated?)"));
  }
  const absl::string_view nonce = sealed.substr(0, kNonceBytes);
  const absl::string_view ciphertext =
      sealed.substr(kNonceBytes, sealed.size() - kNonceBytes - kTagBytes);
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  absl::StatusOr<CipherContext> context = Start(false, key, nonce, associated_data);
  if (!context.ok()) return context.status();

  std::string plaintext(ciphertext.size(), '\0');
  int written = 0;
  if (EVP_DecryptUpdate(context->get(), MutableBytes(plaintext), &written, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1) {
    return OpenSslFailure("decrypt");
  }
  if (EVP_CIPHER_CTX_ctrl(context->get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          MutableBytes(tag)) != 1) {
    return OpenSslFailure("set the GCM tag");
  }
  int final_written = 0;
  if (EVP_DecryptFinal_ex(context->get(), MutableBytes(plaintext) + written, &final_written) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());  // never leave unauthenticated bytes
    return absl::DataLossError(
        "authentication failed: the ciphertext, its tag or its associated data (the row and "
        "column it belongs to) do not match; the value was altered or moved");
  }
  return plaintext;
}

}  // namespace klaxon::crypto
