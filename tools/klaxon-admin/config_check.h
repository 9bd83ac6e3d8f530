#pragma once
// klaxon-admin check: a deployment's configuration validated without starting anything (issue 13,
// preflight). Each service's configuration is read by the service's own loader from the same
// environment, so the check finds exactly what would stop the service at start, every problem
// named by its variable (and, in the accounts and routing files, by account or rule and field):
// SID formats (AC, SK, MG), E.164 senders, senders of unknown accounts, routing rules, and the
// rest of every variable.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/config/config.h"

namespace klaxon::admin {

struct ServiceCheck {
  std::string service;
  absl::Status status;  // OK, or what stops the service at start
};

// The services a check covers, in this order.
const std::vector<std::string>& CheckableServices();

// Checks `services` (CheckableServices' names; all of them when empty) against `environment`.
// kInvalidArgument (in the result's place) for a name that is none of them.
std::vector<ServiceCheck> CheckConfiguration(const config::Environment& environment,
                                             const std::vector<std::string>& services);

}  // namespace klaxon::admin
