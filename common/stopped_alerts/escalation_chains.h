#pragma once
// Escalation chains (docs/adr/0029): an acknowledgement of any page of a chain stops the chain.
// A chain's stop is the stop of its id (its first page's alert id), which every worker checks
// beside the page's own before each send; this writes it and makes the chain's durable record,
// a DeliveryEvent{acknowledged} about the chain naming the page, for audit to project (the chain
// becomes ACKNOWLEDGED, and GetAlert names who acknowledged). Whoever acknowledges a page (a key
// press or ACK reply at the workers, AcknowledgeAlert at ingress) calls it after stopping the page.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/stopped_alerts/stopped_alerts.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::stopped_alerts {

// A page of a chain, as AlertRequested's escalation_id and escalation_step name it.
struct ChainPage {
  std::string escalation_id;  // the chain's id; empty: the alert is not part of a chain
  uint32_t step = 0;          // the page's step, 1 first
  std::string alert_id;       // the page's own alert id
  std::string caller;
  types::v1::Channel channel = types::v1::CHANNEL_UNSPECIFIED;
};

// Stops `page`'s chain as acknowledged (kKeepStopFor) and returns the chain's record to publish on
// klaxon.delivery.events, keyed by its header's alert id (the chain's). nullopt when the chain was
// cancelled first: the cancellation is its end. Called again (a redelivered acknowledgement), it
// returns the record again, so a publish that failed is made good; audit keeps the first page
// named. kUnavailable when the store is down; kInvalidArgument when `page` names no chain.
absl::StatusOr<std::optional<events::v1::DeliveryEvent>> AcknowledgeChain(StoppedAlerts& stopped,
                                                                          const ChainPage& page,
                                                                          std::string_view reason,
                                                                          absl::Time now);

}  // namespace klaxon::stopped_alerts
