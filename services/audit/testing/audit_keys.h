#pragma once
// The keys audit seals and indexes personal data with, for tests (never for a deployment: the
// keys are derived from fixed strings): a one-version keyring (common/crypto/test_keyring.h)
// with PersonalData over it, the transit cipher the services' events are sealed under
// (common/transit/testing.h), and a blind index.

#include "common/crypto/blind_index.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/transit/testing.h"
#include "services/audit/personal_data.h"

namespace klaxon::audit::testing {

struct AuditKeys {
  crypto::LocalKeyring keyring =
      crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1})).value();
  PersonalData personal_data{keyring};
  transit::testing::TestTransit transit;
  crypto::BlindIndex blind_index =
      crypto::BlindIndex::Create("audit-test-blind-index-key-0123456789").value();
};

}  // namespace klaxon::audit::testing
