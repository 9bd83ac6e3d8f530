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

// Where an alert's and an inbound message's personal fields are sealed: the table and record
// name their data key's owner ("alerts/<alert_id>", "audit_events/<event_key>"), and each column
// holds one sealed field. An inbound message's one column opens to the JSON object
// {"from": "<E.164>", "body": "<text>"}.
inline constexpr char kAlertsTable[] = "alerts";
inline constexpr char kRecipientColumn[] = "recipient_ciphertext";
inline constexpr char kTextColumn[] = "text_ciphertext";
inline constexpr char kAuditEventsTable[] = "audit_events";
inline constexpr char kEventPersonalColumn[] = "personal_ciphertext";

}  // namespace klaxon::audit
