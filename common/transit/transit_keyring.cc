#include "common/transit/transit_keyring.h"

#include <string>
#include <utility>

namespace klaxon::transit {

std::shared_ptr<crypto::LocalKeyring> ReadTransitKeyring(config::Reader& reader) {
  const std::string document = reader.Secret(kKeyringVariable);
  if (document.empty()) return nullptr;  // the reader recorded why
  absl::StatusOr<crypto::LocalKeyring> keyring = crypto::LocalKeyring::Parse(document);
  if (!keyring.ok()) {
    reader.AddError(kKeyringVariable, std::string(keyring.status().message()));
    return nullptr;
  }
  return std::make_shared<crypto::LocalKeyring>(*std::move(keyring));
}

}  // namespace klaxon::transit
