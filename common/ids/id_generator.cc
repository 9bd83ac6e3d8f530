#include "common/ids/id_generator.h"

#include "common/ids/uuid.h"

namespace klaxon::ids {

std::string UuidV7Generator::Next() {
  const absl::Time now = clock_.Now();
  std::lock_guard lock(mutex_);
  return NewUuidV7(now, gen_);
}

}  // namespace klaxon::ids
