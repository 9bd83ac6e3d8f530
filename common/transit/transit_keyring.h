#pragma once
// The transit keyring every service that seals or opens Kafka values holds (ingress, the workers,
// audit): KLAXON_TRANSIT_KEYRING, or KLAXON_TRANSIT_KEYRING_FILE, a document in the format of
// audit's KLAXON_KEYRING (crypto::LocalKeyring). Versioned and rotatable: new messages are sealed
// under "current"; older versions open what Kafka still holds until they are removed, which
// crypto-shreds whatever is still sealed under them (docs/adr/0013-transit-encryption.md).

#include <memory>

#include "common/config/config.h"
#include "common/crypto/local_keyring.h"

namespace klaxon::transit {

inline constexpr std::string_view kKeyringVariable = "KLAXON_TRANSIT_KEYRING";

// The parsed keyring, or nullptr with the error recorded in `reader` (naming the variable, never
// quoting key material).
std::shared_ptr<crypto::LocalKeyring> ReadTransitKeyring(config::Reader& reader);

}  // namespace klaxon::transit
