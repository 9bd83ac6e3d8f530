#pragma once
// Sealed events for tests, under a test keyring (never for a deployment: its keys are derived
// from the version number).

#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/transit/transit_cipher.h"

namespace klaxon::transit::testing {

// A transit keyring at version 1 and a cipher over it.
class TestTransit {
 public:
  TransitCipher& cipher() { return cipher_; }
  crypto::LocalKeyring& keyring() { return keyring_; }

  // Seals recipient and text into `request`, whose header.alert_id must be set.
  void Seal(events::v1::AlertRequested& request, std::string recipient, std::string text) {
    if (!cipher_.SealAlert({.recipient = std::move(recipient), .text = std::move(text)}, request)
             .ok()) {
      std::abort();
    }
  }
  void Seal(events::v1::InboundMessage& message, std::string from, std::string body) {
    if (!cipher_.SealInbound({.from = std::move(from), .body = std::move(body)}, message).ok()) {
      std::abort();
    }
  }
  void Seal(events::v1::KeywordMessage& message, absl::string_view from) {
    if (!cipher_.SealKeyword(from, message).ok()) std::abort();
  }
  AlertPersonalData Open(const events::v1::AlertRequested& request) {
    absl::StatusOr<AlertPersonalData> opened = cipher_.OpenAlert(request);
    return opened.ok() ? *std::move(opened) : AlertPersonalData{};
  }

 private:
  crypto::LocalKeyring keyring_ =
      *crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1}));
  TransitCipher cipher_{keyring_};
};

}  // namespace klaxon::transit::testing
