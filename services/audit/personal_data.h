#pragma once
// Audit seals a record's personal fields with crypto::PersonalData (common/crypto/personal_data.h,
// shared with the transit encryption of Kafka values); these names keep audit's code in its own
// words.

#include "common/crypto/personal_data.h"

namespace klaxon::audit {

using crypto::DataKeyOwner;
using crypto::Fields;
using crypto::PersonalData;
using crypto::SealedRecord;

}  // namespace klaxon::audit
